"""Pledges (P1–P7) as each person works on them: a member drafts and proposes their own, a
branch secretary follows the branch's, the township reviews item by item."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta, timezone
from typing import Any

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, Response

from services.console.calls import Refused
from services.console.web import TOWNSHIP_POSTS, Desk, Signed, form_groups, form_rows

router = APIRouter()
CHINA = timezone(timedelta(hours=8))
ITEM_ROWS = 3  # empty item rows a proposal form offers (more after the first are sent)
ITEM_FIELDS = ("title", "description", "category", "target", "due_date")
CHANNELS = {
    "research_visit": "调研走访",
    "talk": "谈话交流",
    "symposium": "座谈会",
    "suggestion_box": "意见箱",
    "opinion_form": "意见表",
}


def this_year() -> int:
    return datetime.now(CHINA).year


async def categories(desk: Desk, branch_id: str) -> list[str]:
    """The county's categories for the branch's kind (village, agency, school)."""
    branch = await desk.get("pledge", f"/v1/branches/{branch_id}")
    county = await desk.get("pledge", f"/v1/counties/{branch['county_id']}")
    listed: list[str] = county["categories"].get(branch["kind"], [])
    return listed


def proposed_items(form: dict[str, str]) -> list[dict[str, str]]:
    """The filled rows of the form's items (`items.<n>.<field>`); a wholly empty row is
    skipped, a half-filled one is sent as it is and the service names what is missing."""
    items = []
    for row in form_rows(form, "items"):
        if any(row.get(f) for f in ITEM_FIELDS if f != "category"):
            items.append({f: row.get(f, "") for f in ITEM_FIELDS})
    return items


@router.get("/pledge")
async def my_pledge(desk: Signed) -> Response:
    """A member's pledge of this year, or the button to start it."""
    if desk.session.role != "member":
        raise Refused(403, "“我的承诺”由党员本人使用；请切换到党员身份。")
    year = this_year()  # a member's token's subject is their member id
    mine = await desk.get("pledge", "/v1/pledges", member_id=desk.session.person, year=year)
    if mine["rows"]:
        return desk.redirect(f"/pledges/{mine['rows'][0]['pledge_id']}")
    member = await desk.get("pledge", f"/v1/members/{desk.session.person}")
    return desk.page("pledge_start.html", member=member, year=year)


@router.post("/pledge")
async def start_pledge(desk: Signed) -> Response:
    form = await desk.form()
    member = await desk.get("pledge", f"/v1/members/{desk.session.person}")
    body = {"year": this_year(), "branch_id": member["branch_id"], "member_id": member["member_id"]}
    accepted = await desk.post("pledge", "/v1/pledges", body, form.get("key", ""))
    pledge_id = accepted.get("id") or accepted.get("pledge_id") or ""
    return desk.redirect(f"/pledges/{pledge_id}" if pledge_id else "/pledge")


@router.get("/pledges/{pledge_id}")
async def pledge_page(pledge_id: str, desk: Signed) -> Response:
    return await _pledge_page(desk, pledge_id)


async def _pledge_page(
    desk: Desk,
    pledge_id: str,
    *,
    refused: Refused | None = None,
    filled: dict[str, str] | None = None,
) -> Response:
    pledge = await desk.get("pledge", f"/v1/pledges/{pledge_id}")
    names = await categories(desk, pledge["branch_id"])
    return desk.form_page(
        "pledge.html",
        refused,
        filled,
        pledge=pledge,
        categories=names,
        rows=range(max(ITEM_ROWS, len(proposed_items(filled or {})))),
        reviewer=desk.session.role in ("township_committee", "township_office"),
        # who writes this pledge: the member, or the branch's secretary (the branch's own, and
        # a member's entered from paper on the member's behalf, issue 20.6)
        pledger=(desk.session.role == "member" and desk.session.person == pledge["member_id"])
        or (desk.session.role == "branch_secretary" and desk.session.org == pledge["branch_id"]),
        secretary=desk.session.role == "branch_secretary"
        and desk.session.org == pledge["branch_id"],
        channels=CHANNELS,
    )


@router.get("/pledges/{pledge_id}/letter")
async def letter(pledge_id: str, desk: Signed) -> Response:
    """The printable pledge letter, as the pledge service renders it."""
    html = await desk.get("pledge", f"/v1/pledges/{pledge_id}/letter")
    # the pledge service's printable letter carries its own print stylesheet, inline
    letter_csp = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'"
    return HTMLResponse(
        html, headers={"Cache-Control": "no-store", "Content-Security-Policy": letter_csp}
    )


@router.post("/pledges/{pledge_id}/proposal")
async def propose(pledge_id: str, desk: Signed) -> Response:
    form = await desk.form()
    body: dict[str, Any] = {"basis": form.get("basis", ""), "items": proposed_items(form)}
    try:
        await desk.post("pledge", f"/v1/pledges/{pledge_id}/proposal", body, form.get("key", ""))
    except Refused as refused:
        return await _pledge_page(desk, pledge_id, refused=refused, filled=form)
    return desk.redirect(f"/pledges/{pledge_id}")


@router.post("/pledges/{pledge_id}/items/{item_id}/review")
async def review_item(pledge_id: str, item_id: str, desk: Signed) -> Response:
    form = await desk.form()
    body = {
        "shows_advanced_standard": form.get("shows_advanced_standard") == "yes",
        "matches_wishes": form.get("matches_wishes") == "yes",
        "feasible": form.get("feasible") == "yes",
        "decision": form.get("decision", ""),
        "guidance": form.get("guidance") or None,
    }
    path = f"/v1/pledges/{pledge_id}/items/{item_id}/review"
    try:
        await desk.post("pledge", path, body, form.get("key", ""))
    except Refused as refused:
        return await _pledge_page(desk, pledge_id, refused=refused, filled=form)
    return desk.redirect(f"/pledges/{pledge_id}")


@router.get("/branch")
async def branch_pledges(desk: Signed) -> Response:
    """A secretary's branch: its pledge and its members', with where each stands."""
    branch_id = desk.org_of(
        ("branch_secretary",), "“支部承诺”由支部书记使用；请切换到支部书记身份。"
    )
    year = this_year()
    branch, pledges = await asyncio.gather(
        desk.get("pledge", f"/v1/branches/{branch_id}"),
        desk.get("pledge", "/v1/pledges", branch_id=branch_id, year=year, limit=500),
    )
    return desk.page("branch.html", branch=branch, year=year, pledges=pledges["rows"])


@router.get("/review")
async def township_review(desk: Signed) -> Response:
    """The township's pledges waiting for review, for the committee and the office."""
    township_id = desk.org_of(TOWNSHIP_POSTS, "“承诺审核”由乡镇党委和创先办使用。")
    year = this_year()
    township, waiting = await asyncio.gather(
        desk.get("pledge", f"/v1/townships/{township_id}"),
        desk.get(
            "pledge",
            "/v1/pledges",
            township_id=township_id,
            year=year,
            status="under_review",
            limit=500,
        ),
    )
    return desk.page("review.html", township=township, year=year, pledges=waiting["rows"])


@router.post("/pledges/{pledge_id}/opinions")
async def record_opinion(pledge_id: str, desk: Signed) -> Response:
    """P3: an opinion gathered from the masses, with its channel."""
    form = await desk.form()
    body = {k: form.get(k, "") for k in ("channel", "gathered_on", "summary")}
    try:
        await desk.post("pledge", f"/v1/pledges/{pledge_id}/opinions", body, form.get("key", ""))
    except Refused as refused:
        return await _pledge_page(desk, pledge_id, refused=refused, filled=form)
    return desk.redirect(f"/pledges/{pledge_id}")


@router.post("/pledges/{pledge_id}/resubmission")
async def resubmit(pledge_id: str, desk: Signed) -> Response:
    """P5: the returned items, revised after the township's guidance."""
    form = await desk.form()
    body = {"note": form.get("note", ""), "items": form_groups(form, "revised")}
    try:
        await desk.post(
            "pledge", f"/v1/pledges/{pledge_id}/resubmission", body, form.get("key", "")
        )
    except Refused as refused:
        return await _pledge_page(desk, pledge_id, refused=refused, filled=form)
    return desk.redirect(f"/pledges/{pledge_id}")


@router.post("/pledges/{pledge_id}/publication")
async def publish(pledge_id: str, desk: Signed) -> Response:
    """P7: the approved pledge goes on the public board."""
    form = await desk.form()
    try:
        await desk.post("pledge", f"/v1/pledges/{pledge_id}/publication", {}, form.get("key", ""))
    except Refused as refused:
        return await _pledge_page(desk, pledge_id, refused=refused, filled=form)
    return desk.redirect(f"/pledges/{pledge_id}")


@router.post("/pledges/{pledge_id}/items/{item_id}/progress")
async def report_progress(pledge_id: str, item_id: str, desk: Signed) -> Response:
    """P8: how far an item of a published pledge has got."""
    form = await desk.form()
    percent = form.get("percent", "")
    body: dict[str, Any] = {
        "summary": form.get("summary", ""),
        "percent": int(percent) if percent.isdigit() else percent,
    }
    path = f"/v1/pledges/{pledge_id}/items/{item_id}/progress"
    try:
        # a photo from the phone's camera (or a scanned letter): stored first, then attached
        body["files"] = await desk.evidence("pledge")
        await desk.post("pledge", path, body, form.get("key", ""))
    except Refused as refused:
        return await _pledge_page(desk, pledge_id, refused=refused, filled=form)
    return desk.redirect(f"/pledges/{pledge_id}")
