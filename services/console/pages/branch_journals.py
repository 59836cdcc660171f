"""R6 for the branch secretary: the members' journals of a month with their presentations'
grades, a journal kept on paper entered on the member's behalf (the review service records
the secretary as the one who entered it), and the monthly presentation's evaluation."""

from __future__ import annotations

import asyncio
import re
from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import Response

from services.console.calls import Refused
from services.console.pages.journals import _journal_page, this_month
from services.console.web import Desk, Signed

router = APIRouter()
MONTH = r"^\d{4}-(0[1-9]|1[0-2])$"
GRADES = ("excellent", "qualified", "basically_qualified", "unqualified")


def secretary_branch(desk: Desk) -> str:
    return desk.org_of(("branch_secretary",), "“党员纪实”由支部书记使用；请切换到支部书记身份。")


def step(month: str, by: int) -> str:
    """The month `by` months from `month` (2027-01, -1 → 2026-12)."""
    year, number = divmod(int(month[:4]) * 12 + int(month[5:]) - 1 + by, 12)
    return f"{year:04d}-{number + 1:02d}"


@router.get("/branch/journals")
async def branch_journals(
    desk: Signed, month: Annotated[str | None, Query(pattern=MONTH)] = None
) -> Response:
    """Each member of the branch: the month's entries (how many the secretary entered) and
    the presentation's grade."""
    branch_id, month = secretary_branch(desk), month or this_month()
    branch, kept = await asyncio.gather(  # every member's journal in one call, not one each
        desk.get("pledge", f"/v1/branches/{branch_id}"),
        desk.get("review", f"/v1/branches/{branch_id}/journals", month=month),
    )
    journals = {j["member_id"]: j for j in kept["journals"]}
    rows = []
    for member in (m for m in branch["members"] if m["active"]):
        journal = journals.get(member["member_id"], {"entries": [], "presentations": []})
        entries = [e for e in journal["entries"] if not e["superseded_by"]]
        rows.append(
            {
                **member,
                "entries": len(entries),
                "entered": sum(1 for e in entries if e["entered_by"]),
                "presentation": journal["presentations"][0] if journal["presentations"] else None,
            }
        )
    return desk.page(
        "branch_journals.html",
        branch=branch,
        month=month,
        rows=rows,
        previous=step(month, -1),
        following=step(month, 1),
    )


async def _member_journal(desk: Desk, member_id: str, month: str, **more: Any) -> Response:
    member = await desk.get("pledge", f"/v1/members/{member_id}")
    if member["branch_id"] != secretary_branch(desk):
        raise Refused(403, "这不是本支部的党员，无权查看。")
    return await _journal_page(
        desk,
        member_id,
        month,
        member=member,
        entry_action=f"/branch/journals/{member_id}/{month}/entries",
        # her own journal the secretary keeps as a member, and the township evaluates it
        own=member_id == desk.session.person,
        grades=GRADES,
        **more,
    )


@router.get("/branch/journals/{member_id}")
async def member_journal(
    member_id: str, desk: Signed, month: Annotated[str | None, Query(pattern=MONTH)] = None
) -> Response:
    return await _member_journal(desk, member_id, month or this_month())


@router.post("/branch/journals/{member_id}/{month}/{change}")
async def record(member_id: str, month: str, change: str, desk: Signed) -> Response:
    """An entry from the member's paper journal, or the month's presentation evaluated."""
    form = await desk.form()
    if not re.match(MONTH, month) or change not in ("entries", "presentation"):
        raise Refused(404, "没有这项操作。")
    names = (
        ("recorded_on", "work_content", "duty_performance")
        if change == "entries"
        else ("presented_on", "grade", "evaluation")
    )
    body: dict[str, Any] = {n: form.get(n, "").strip() for n in names}
    if change == "presentation":
        body["evaluator_name"] = desk.session.name
    path = f"/v1/members/{member_id}/journal/{month}/{change}"
    try:
        await desk.post("review", path, body, form.get("key", ""))
    except Refused as refused:
        return await _member_journal(desk, member_id, month, refused=refused, filled=form)
    return desk.redirect(f"/branch/journals/{member_id}?month={month}")
