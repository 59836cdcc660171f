"""The auditor's pages (A3, A4, A6, E3): each service's signed checkpoints (and one signed on
demand), its log exported as a bundle to verify offline, the satisfaction checks' ballot
audits (the rounds' are on the rounds' pages), and any page as of a past day (the day is kept
in the session; `Desk.get` passes it to every read)."""

from __future__ import annotations

import asyncio
import json
from datetime import date, datetime, time, timedelta, timezone
from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import Response, StreamingResponse
from starlette.background import BackgroundTask

from services.console.calls import Refused
from services.console.pages.rounds import PROBLEMS, erasures_shown  # a ballot audit's findings
from services.console.web import Desk, Signed
from shared import zh

router = APIRouter()
CHINA = timezone(timedelta(hours=8))
PAGE = 20
# the services that keep a log, as an auditor reads their names
LOGS = {"pledge": "承诺", "review": "评议评价", "evaluation": "民主评议", "notification": "通知"}
FIRST_DAY = date(2000, 1, 1)  # the services date nothing earlier (shared/http.py)


def auditor(desk: Desk) -> None:
    if desk.session.role != "auditor":
        raise Refused(403, "审计页面由审计员使用；请切换到审计员身份。")


def a_log(service: str) -> str:
    if service not in LOGS:
        raise Refused(404, "没有这个服务的记录。")
    return service


async def townships(desk: Desk) -> list[dict[str, Any]]:
    """The auditor's county's townships (none without a county, or as of a day before the
    county was recorded)."""
    if not desk.session.org:
        return []
    county = await desk.county(desk.session.org)
    listed: list[dict[str, Any]] = county["townships"]
    return listed


def checkpoint_row(signed: dict[str, Any]) -> dict[str, Any]:
    """What an auditor compares of a checkpoint: its id, time, key, townships, events, root."""
    body = json.loads(signed["body"])
    trees = body.get("partitions", {})
    issued = datetime.fromisoformat(str(body["issued_at"]).replace("Z", "+00:00"))
    return {
        "id": signed["id"],
        "issued": zh.moment(issued, CHINA),  # local time, as people read it
        "key_id": signed["key_id"],
        "townships": len(trees),
        "events": sum(int(t["size"]) for t in trees.values()),
        "root": body.get("root", ""),
    }


@router.get("/audit")
async def checkpoints(
    desk: Signed,
    service: Annotated[str, Query(max_length=20)] = "pledge",
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
) -> Response:
    """One service's signed checkpoints, newest first, paged; and its export."""
    auditor(desk)
    return await _checkpoints(desk, a_log(service), page)


async def _checkpoints(
    desk: Desk,
    service: str,
    page: int,
    refused: Refused | None = None,
    filled: dict[str, str] | None = None,
) -> Response:
    signed = await desk.get(service, "/v1/audit/checkpoints")
    rows = [checkpoint_row(s) for s in reversed(signed)]
    pages = max(1, -(-len(rows) // PAGE))
    return desk.form_page(
        "audit.html",
        refused,
        filled,
        logs=LOGS,
        service=service,
        rows=rows[(page - 1) * PAGE : page * PAGE],
        total=len(rows),
        page=page,
        pages=pages,
        townships=await townships(desk),
    )


@router.post("/audit/{service}/checkpoints")
async def sign_now(service: str, desk: Signed) -> Response:
    """Ask the service to sign its log's head now (before an export, docs/auditing.md)."""
    auditor(desk)
    service = a_log(service)
    form = await desk.form()
    try:
        await desk.post(service, "/v1/audit/checkpoints", {}, form.get("key", ""))
    except Refused as refused:
        return await _checkpoints(desk, service, 1, refused)
    return desk.redirect(f"/audit?service={service}")


@router.get("/audit/{service}/export.zip")
async def export(
    service: str,
    desk: Signed,
    township_id: Annotated[str | None, Query(max_length=64)] = None,
    with_files: bool = False,
    since: Annotated[str, Query(alias="from", max_length=20)] = "",
    until: Annotated[str, Query(alias="to", max_length=20)] = "",
) -> Response:
    """The service's log (or one township's, or the days from … to …, as the CLI's `--from`
    and `--to`) as the bundle `gongkai audit verify` checks."""
    auditor(desk)
    service = a_log(service)
    try:
        span = export_span(since, until)
    except Refused as refused:
        filled = {"township_id": township_id or "", "from": since, "to": until}
        return await _checkpoints(desk, service, 1, refused, filled)
    answer = await desk.console.services.stream(
        service,
        "/v1/audit/export",
        token=desk.token,
        params={"partition": township_id or None, "with_files": with_files, **span},
        wait_seconds=300.0,
    )
    name = f"{service}-{township_id or 'all'}-bundle.zip"
    return StreamingResponse(  # passed on as it comes: a county's log may be large
        answer.aiter_raw(),
        media_type="application/zip",
        headers={
            "Content-Disposition": f'attachment; filename="{name}"',
            "Cache-Control": "no-store",
        },
        background=BackgroundTask(answer.aclose),
    )


def export_span(since: str, until: str) -> dict[str, str]:
    """The export's days (local time) as the API's times: from the first day's start to the
    last day's end, either open; a day that is not one, or an end before the start, Refused
    beside its field."""
    days: dict[str, date] = {}
    for name, typed in (("from", since), ("to", until)):
        if typed.strip():
            try:
                days[name] = date.fromisoformat(typed.strip())
            except ValueError:
                raise Refused(
                    422, "导出的日期不对。", fields={name: "日期格式不对，例如 2027-03-15。"}
                ) from None
    if "from" in days and "to" in days and days["to"] < days["from"]:
        raise Refused(422, "导出的日期不对。", fields={"to": "截止日期不能早于起始日期。"})
    span = {}
    if "from" in days:
        span["from"] = datetime.combine(days["from"], time.min, CHINA).isoformat()
    if "to" in days:
        span["to"] = datetime.combine(days["to"], time.max, CHINA).isoformat()
    return span


@router.get("/audit/checks")
async def checks(
    desk: Signed, township_id: Annotated[str | None, Query(max_length=64)] = None
) -> Response:
    """The county's townships; for the one chosen, its satisfaction checks (E8), each with
    its ballot audit. (The rounds' audits are on the rounds' pages.)"""
    auditor(desk)
    listed = await townships(desk)
    chosen = None
    if township_id:  # named from the county's list (as of the day, it may not be on it yet)
        named = {t["township_id"]: t["name"] for t in listed}
        chosen = {"township_id": township_id, "name": named.get(township_id, township_id)}
    found = (
        await desk.get("evaluation", "/v1/satisfaction-checks", township_id=township_id)
        if chosen
        else []
    )
    return desk.page("audit_checks.html", townships=listed, chosen=chosen, checks=found)


@router.get("/audit/checks/{check_id}")
async def check_audit(check_id: str, desk: Signed) -> Response:
    """E3 for a satisfaction check: ballots against the registered people the item served."""
    auditor(desk)
    found, checked = await asyncio.gather(
        desk.get("evaluation", f"/v1/satisfaction-checks/{check_id}"),
        desk.get("evaluation", f"/v1/satisfaction-checks/{check_id}/audit"),
    )
    return desk.page(
        "audit_check.html",
        check=found,
        audit=checked,
        problems=PROBLEMS,
        erasures=erasures_shown(checked),
    )


def past_day(asked: str) -> str:
    """The day an auditor asked to look back to (ISO), or Refused beside the field."""
    try:
        day = date.fromisoformat(asked.strip())
    except ValueError:
        raise Refused(
            422, "请选择要查看的日期。", fields={"as_of": "日期格式不对，例如 2027-03-15。"}
        ) from None
    today = datetime.now(CHINA).date()
    if not FIRST_DAY <= day < today:  # today: every page shows it already
        raise Refused(
            422,
            "请选择过去的日期。",
            fields={"as_of": f"请选择 {(today - timedelta(days=1)).isoformat()} 或以前的日期。"},
        )
    return day.isoformat()


def back_to(asked: str | None) -> str:
    """Where the form was sent from: a path of this console, never another site."""
    if asked and asked.startswith("/") and not asked.startswith("//") and "\\" not in asked:
        return asked
    return "/"


@router.get("/as-of")
async def as_of_page(
    desk: Signed, back: Annotated[str | None, Query(max_length=500)] = None
) -> Response:
    auditor(desk)
    return desk.page("as_of.html", back=back_to(back), refused=None, filled="")


@router.post("/as-of")
async def set_as_of(desk: Signed) -> Response:
    """Read every page as of a past day (the day's end, local time), or as now again."""
    auditor(desk)
    form = await desk.form()
    back = back_to(form.get("back"))
    if "now" in form:
        desk.session.as_of = None
        return desk.redirect(back)
    try:
        desk.session.as_of = past_day(form.get("as_of", ""))
    except Refused as refused:
        return desk.page(
            "as_of.html", 422, back=back, refused=refused, filled=form.get("as_of", "")
        )
    return desk.redirect(back)
