"""The ledger's follow-ups (P9–P11) as the township office records them: a follow-up with its
evidence files, the "problem solved" and "implementation verified" confirmations, each
pledge's quarterly push and the quarter's report of pushed and not pushed; and the township's
calendar of deadlines (the county's, read here; the county administrator sets it)."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import Response

from services.console.calls import Refused
from services.console.pages.directory import shown
from services.console.pages.setup import evaluation_year
from services.console.web import TOWNSHIP_POSTS, Desk, Signed

router = APIRouter()
CHINA = timezone(timedelta(hours=8))
# the office's confirmations of an item: the form's name, the service's path under the item
CONFIRMATIONS = {"problem-solved": "问题已解决", "implementation-verified": "落实已核实"}
ACTIVITY = {
    "progress": "进展",
    "follow_up": "跟进",
    "done_reported": "报告完成",
    "problem_solved": "确认问题已解决",
    "implementation_verified": "核实落实情况",
    "satisfaction_verdict": "满意度测评",
    "satisfaction_not_rated": "满意度测评",
    "satisfaction_check_reopened": "满意度测评",
    "closed": "销号",
}


def today() -> date:
    return datetime.now(CHINA).date()


def quarter_of(day: date) -> str:
    return f"{day.year}Q{(day.month - 1) // 3 + 1}"


def township_post(desk: Desk) -> str:
    """The township of the committee or office looking; others are not shown these pages."""
    return desk.org_of(TOWNSHIP_POSTS, "台账跟进由乡镇党委和创先办使用。")


# --- one item of the ledger ---------------------------------------------------------------


@router.get("/township/items/{pledge_id}/{item_id}")
async def item_page(pledge_id: str, item_id: str, desk: Signed) -> Response:
    return await _item_page(desk, pledge_id, item_id)


async def _item_page(
    desk: Desk,
    pledge_id: str,
    item_id: str,
    *,
    refused: Refused | None = None,
    form: str = "",
    filled: dict[str, str] | None = None,
) -> Response:
    pledge = await _pledge(desk, pledge_id)
    item = next((i for i in pledge["items"] if i["item_id"] == item_id), None)
    if item is None:
        raise Refused(404, "没有找到该承诺事项。")
    return shown(
        desk,
        "followup.html",
        refused,
        form,
        filled,
        pledge=pledge,
        item=item,
        activity=[a for a in pledge["activity"] if a["item_id"] == item_id],
        labels=ACTIVITY,
        confirmations=CONFIRMATIONS,
        office=desk.session.role == "township_office",
        quarter=quarter_of(today()),
        pushed={p["quarter"] for p in pledge["quarterly_pushes"]},
    )


async def _pledge(desk: Desk, pledge_id: str) -> dict[str, Any]:
    """A pledge of the person's own township."""
    path = f"/v1/pledges/{pledge_id}"
    return await desk.of_township(
        "pledge", path, township_post(desk), "这不是本镇的承诺，无权查看。"
    )


async def _record(
    desk: Desk, pledge_id: str, item_id: str, form_name: str, path: str, names: tuple[str, ...]
) -> Response:
    """One write of the item page (the form's `names` sent as typed: a field left empty the
    service names); the page again with the refusal beside its form."""
    form = await desk.form()
    await _pledge(desk, pledge_id)
    body: dict[str, Any] = {n: form.get(n, "").strip() for n in names}
    try:
        if form_name == "follow-ups":  # photos or scans of what was found, stored first
            body["files"] = await desk.evidence("pledge")
        await desk.post("pledge", path, body, form.get("key", ""))
    except Refused as refused:
        return await _item_page(
            desk, pledge_id, item_id, refused=refused, form=form_name, filled=form
        )
    return desk.redirect(f"/township/items/{pledge_id}/{item_id}")


@router.post("/township/items/{pledge_id}/{item_id}/{change}")
async def record(pledge_id: str, item_id: str, change: str, desk: Signed) -> Response:
    if change == "follow-ups" or change in CONFIRMATIONS:
        path = f"/v1/pledges/{pledge_id}/items/{item_id}/{change}"
        return await _record(desk, pledge_id, item_id, change, path, ("note",))
    if change == "quarterly-push":
        path = f"/v1/pledges/{pledge_id}/quarterly-pushes"
        names = ("quarter", "assessment", "next_steps")
        return await _record(desk, pledge_id, item_id, change, path, names)
    raise Refused(404, "没有这项操作。")


# --- the quarter's pushes -------------------------------------------------------------------


@router.get("/township/pushes")
async def pushes(
    desk: Signed, quarter: Annotated[str | None, Query(pattern=r"^\d{4}Q[1-4]$")] = None
) -> Response:
    """P11: which of the township's published pledges were pushed forward in the quarter."""
    township_id = township_post(desk)
    quarter = quarter or quarter_of(today())
    report = await desk.get(
        "pledge", f"/v1/townships/{township_id}/quarterly-pushes", quarter=quarter
    )
    published = await desk.get(
        "pledge",
        "/v1/pledges",
        township_id=township_id,
        year=int(quarter[:4]),
        status="published",
        limit=500,
    )
    names = {p["pledge_id"]: p["pledger_name"] for p in published["rows"]}
    year, number = int(quarter[:4]), int(quarter[-1])
    previous = f"{year}Q{number - 1}" if number > 1 else f"{year - 1}Q4"
    following = f"{year}Q{number + 1}" if number < 4 else f"{year + 1}Q1"
    return desk.page(
        "pushes.html",
        quarter=quarter,
        report=report,
        names=names,
        previous=previous,
        following=following,
    )


# --- the calendar ---------------------------------------------------------------------------


@router.get("/township/calendar")
async def calendar(
    desk: Signed, year: Annotated[int | None, Query(ge=2000, le=2100)] = None
) -> Response:
    """The county's deadlines for the year as they bind the township (N3), the pledge
    calendar's drafting deadline (P6), the rounds' closing dates (E4) and the satisfaction
    checks' terms (P10c); the county administrator sets them."""
    township_id = township_post(desk)
    year = year or today().year
    town = await desk.get("pledge", f"/v1/townships/{township_id}")
    county = await desk.get("pledge", f"/v1/counties/{town['county_id']}")
    try:
        deadlines = (
            await desk.get("notification", f"/v1/counties/{town['county_id']}/calendars/{year}")
        )["deadlines"]
    except Refused:
        deadlines = None  # shown without the reminders' calendar rather than not at all
    return desk.page(
        "calendar.html",
        town=town,
        year=year,
        drafting=county["calendars"].get(str(year)),
        deadlines=sorted(deadlines, key=lambda d: d["due_on"]) if deadlines else deadlines,
        yearly=await evaluation_year(desk, town["county_id"], year),  # rounds, checks
    )
