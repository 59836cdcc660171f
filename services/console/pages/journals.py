"""R6: a member's work journal, month by month (the review service's journals)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

from fastapi import APIRouter
from fastapi.responses import Response

from services.console.calls import Refused
from services.console.web import Desk, Signed

router = APIRouter()
CHINA = timezone(timedelta(hours=8))


def this_month() -> str:
    return datetime.now(CHINA).strftime("%Y-%m")


@router.get("/journal")
async def my_journal(desk: Signed, month: str | None = None) -> Response:
    if desk.session.role != "member":
        raise Refused(403, "“纪实”由党员本人使用；请切换到党员身份。")
    return await _journal_page(desk, desk.session.person, month or this_month())


async def _journal_page(
    desk: Desk,
    member_id: str,
    month: str,
    *,
    refused: Refused | None = None,
    filled: dict[str, str] | None = None,
    **more: Any,  # what another page adds (the secretary's: pages/branch_journals.py)
) -> Response:
    journal = await desk.get("review", f"/v1/members/{member_id}/journal", month=month)
    return desk.form_page(
        "journal.html",
        refused,
        filled,
        journal=journal,
        member_id=member_id,
        month=month,
        **more,
    )


@router.post("/journal/{member_id}/{month}")
async def record_entry(member_id: str, month: str, desk: Signed) -> Response:
    form = await desk.form()
    body = {k: form.get(k, "") for k in ("recorded_on", "work_content", "duty_performance")}
    path = f"/v1/members/{member_id}/journal/{month}/entries"
    try:
        await desk.post("review", path, body, form.get("key", ""))
    except Refused as refused:
        return await _journal_page(desk, member_id, month, refused=refused, filled=form)
    return desk.redirect(f"/journal?month={month}")
