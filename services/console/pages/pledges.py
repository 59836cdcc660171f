"""Pledges (P1–P7) as each person works on them: a member drafts and proposes their own, a
branch secretary follows the branch's, the township reviews item by item."""

from __future__ import annotations

import asyncio
import re
from datetime import datetime, timedelta, timezone
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Query
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
    return desk.redirect(f"/pledges/{accepted['id']}")


@router.get("/pledges/{pledge_id}")
async def pledge_page(pledge_id: str, desk: Signed) -> Response:
    return await _pledge_page(desk, pledge_id)


async def _pledge_page(
    desk: Desk,
    pledge_id: str,
    *,
    refused: Refused | None = None,
    filled: dict[str, str] | None = None,
    sent: str = "",
) -> Response:
    """The pledge; after a refusal, the form `sent` (an item's progress, the reviews, the
    proposal …) shown again with what was typed and the reasons beside its fields."""
    pledge = await desk.get("pledge", f"/v1/pledges/{pledge_id}")
    names = await categories(desk, pledge["branch_id"])
    own = desk.session.role == "member" and desk.session.person == pledge["member_id"]
    secretary = desk.session.role == "branch_secretary" and desk.session.org == pledge["branch_id"]
    return desk.form_page(
        "pledge.html",
        refused,
        filled,
        pledge=pledge,
        earlier=earlier_rounds(pledge),
        categories=names,
        rows=range(max(ITEM_ROWS, len(proposed_items(filled or {})))),
        reviewer=desk.session.role in ("township_committee", "township_office"),
        # who writes this pledge: the member, or the branch's secretary (the branch's own, and
        # a member's entered from paper on the member's behalf, issue 20.6)
        pledger=own or secretary,
        # the pledger herself (progress is hers alone; done the secretary may report for her)
        speaks=own or (secretary and pledge["member_id"] is None),
        secretary=secretary,
        channels=CHANNELS,
        sent=sent,
    )


def earlier_rounds(pledge: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """P5: each item's earlier rounds, in order: the reviews before the one it stands at now
    (decision and guidance) and the pledger's revision notes (修改说明) of the rounds that
    revised it, from the pledge service's read of the pledge; an item reviewed once has
    none."""
    steps: dict[str, list[tuple[int, int, dict[str, Any]]]] = {}
    for review in pledge["reviews"]:
        steps.setdefault(review["item_id"], []).append((review["round"], 1, review))
    for revision in pledge.get("revisions", []):
        for item_id in revision["item_ids"]:
            steps.setdefault(item_id, []).append((revision["round"], 0, revision))
    earlier = {}
    for item_id, found in steps.items():
        found.sort(key=lambda step: step[:2])
        if found[-1][1] == 1:  # its latest review is the one shown as the item's now
            found.pop()
        if found:
            earlier[item_id] = [step for _, _, step in found]
    return earlier


@router.get("/pledges/{pledge_id}/letter")
async def letter(pledge_id: str, desk: Signed) -> Response:
    """The printable pledge letter, as the pledge service renders it."""
    letter: bytes = await desk.get("pledge", f"/v1/pledges/{pledge_id}/letter")
    back = (  # back to the console, not printed
        "<style>@media print { .back { display: none; } } .back { margin: 0 0 1rem; }"
        " .back a { display: inline-block; padding: .5rem 0; font-size: 1.1rem; }</style>"
        f'<p class="back"><a href="/pledges/{quote(pledge_id)}">返回承诺</a></p>'
    )
    html = letter.decode().replace("<body>", f"<body>{back}", 1)
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


@router.post("/pledges/{pledge_id}/reviews")
async def review_items(pledge_id: str, desk: Signed) -> Response:
    """P5: the items the reviewer decided, each sent as its own review (its own key, derived
    from the form's: a resubmitted form appends each once); a refused one is said beside its
    item, and every item's choices are kept."""
    form = await desk.form()
    decided = {k: v for k, v in form_groups(form, "reviews").items() if any(v.values())}
    if not decided:
        return await _pledge_page(
            desk, pledge_id, refused=nothing_decided(form), filled=form, sent="reviews"
        )
    refusals: dict[str, Refused] = {}
    for item_id, chosen in decided.items():
        body = {
            "shows_advanced_standard": chosen.get("shows_advanced_standard") == "yes",
            "matches_wishes": chosen.get("matches_wishes") == "yes",
            "feasible": chosen.get("feasible") == "yes",
            "decision": chosen.get("decision", ""),
            "guidance": chosen.get("guidance") or None,
        }
        path = f"/v1/pledges/{pledge_id}/items/{item_id}/review"
        try:
            key = form.get("key", "")  # each item its own key, made from the form's
            await desk.post("pledge", path, body, f"{key}-{item_id}" if key else "")
        except Refused as refused:
            refusals[item_id] = refused
    if refusals:
        return await _pledge_page(
            desk, pledge_id, refused=per_item(refusals), filled=form, sent="reviews"
        )
    return desk.redirect(f"/pledges/{pledge_id}")


def nothing_decided(form: dict[str, str]) -> Refused:
    """A review form sent with no item decided: said at the first item."""
    first = next((k.split(".")[1] for k in form if k.startswith("reviews.")), "")
    return Refused(
        422,
        "请至少为一项选择“通过”或“退回修改”后再提交。",
        fields={f"reviews.{first}.decision": "请选择“通过”或“退回修改”。"},
    )


def per_item(refusals: dict[str, Refused]) -> Refused:
    """The refusals of several items' reviews as one, each reason named by its item's field
    (`reviews.<item>.<field>`), a refusal of no field beside its item."""
    fields: dict[str, str] = {}
    for item_id, refused in refusals.items():
        named = {f"reviews.{item_id}.{k}": v for k, v in refused.fields.items()}
        fields.update(named or {f"reviews.{item_id}": refused.message})
    message = (
        next(iter(refusals.values())).message
        if len(refusals) == 1
        else f"有 {len(refusals)} 项审核意见未能提交：请按各项下的提示修改后再提交。"
    )
    return Refused(max(r.status for r in refusals.values()), message, fields=fields)


@router.get("/branch")
async def branch_pledges(desk: Signed) -> Response:
    return await _branch_page(desk)


async def _branch_page(desk: Desk, refused: Refused | None = None) -> Response:
    """A secretary's branch: its own pledge and every member's, with where each stands
    (未起草 too), and the button to start one: the branch's, or a member's on her behalf."""
    branch_id = secretary_branch(desk)
    year = this_year()
    branch, pledges = await asyncio.gather(
        desk.get("pledge", f"/v1/branches/{branch_id}"),
        desk.get("pledge", "/v1/pledges", branch_id=branch_id, year=year, limit=500),
    )
    return desk.form_page(
        "branch.html",
        refused,
        None,
        branch=branch,
        year=year,
        rows=pledgers(branch, pledges["rows"]),
    )


def secretary_branch(desk: Desk) -> str:
    return desk.org_of(("branch_secretary",), "“支部承诺”由支部书记使用；请切换到支部书记身份。")


def pledgers(branch: dict[str, Any], pledges: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Who pledges in the branch this year, each with their pledge (None: not drafted): the
    branch itself, its members in the roll, and a member who left after drafting."""
    found: dict[str | None, dict[str, Any]] = {p["member_id"]: p for p in pledges}

    def row(member_id: str | None, name: str) -> dict[str, Any]:
        return {"member_id": member_id, "name": name, "pledge": found.pop(member_id, None)}

    rows = [row(None, branch["name"])]  # the branch's own, under no member
    rows += [row(m["member_id"], m["name"]) for m in branch["members"] if m["active"]]
    rows += [row(k, p["pledger_name"]) for k, p in list(found.items())]  # left after drafting
    return rows


@router.post("/branch/pledges")
async def start_for(desk: Signed) -> Response:
    """The secretary starts the branch's pledge, or a member's on her behalf (the pledge
    service records the secretary as the one who entered it)."""
    branch_id = secretary_branch(desk)
    form = await desk.form()
    body = {"year": this_year(), "branch_id": branch_id, "member_id": form.get("member_id") or None}
    try:
        accepted = await desk.post("pledge", "/v1/pledges", body, form.get("key", ""))
    except Refused as refused:
        return await _branch_page(desk, refused)
    return desk.redirect(f"/pledges/{accepted['id']}")


REVIEW_PAGE = 50  # pledges waiting for review per page


@router.get("/review")
async def township_review(
    desk: Signed, page: Annotated[int, Query(ge=1, le=10_000)] = 1
) -> Response:
    """The township's pledges waiting for review, for the committee and the office, paged."""
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
            limit=REVIEW_PAGE,
            offset=(page - 1) * REVIEW_PAGE,
        ),
    )
    return desk.page(
        "review.html",
        township=township,
        year=year,
        pledges=waiting,
        page=page,
        pages=max(1, -(-waiting["total"] // REVIEW_PAGE)),
    )


@router.post("/pledges/{pledge_id}/opinions")
async def record_opinion(pledge_id: str, desk: Signed) -> Response:
    """P3: an opinion gathered from the masses, with its channel."""
    form = await desk.form()
    body = {k: form.get(k, "") for k in ("channel", "gathered_on", "summary")}
    try:
        await desk.post("pledge", f"/v1/pledges/{pledge_id}/opinions", body, form.get("key", ""))
    except Refused as refused:
        return await _pledge_page(desk, pledge_id, refused=refused, filled=form, sent="opinion")
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
    """P7: the approved pledge goes on the public board, for good: first a confirmation
    naming its items (no JavaScript), whose 确认公开 sends it with the form's key."""
    form = await desk.form()
    if form.get("confirmed") != "yes":
        pledge = await desk.get("pledge", f"/v1/pledges/{pledge_id}")
        return desk.page("pledge_publish.html", pledge=pledge, key=form.get("key", ""))
    try:
        await desk.post("pledge", f"/v1/pledges/{pledge_id}/publication", {}, form.get("key", ""))
    except Refused as refused:
        return await _pledge_page(desk, pledge_id, refused=refused, filled=form)
    return desk.redirect(f"/pledges/{pledge_id}")


@router.post("/pledges/{pledge_id}/items/{item_id}/progress")
async def report_progress(pledge_id: str, item_id: str, desk: Signed) -> Response:
    """P8: how far an item of a published pledge has got."""
    form = await desk.form()
    percent = form.get("percent", "").strip()
    body: dict[str, Any] = {
        "summary": form.get("summary", ""),
        # a whole number as a number (the service says its range), anything else as typed
        "percent": int(percent) if re.fullmatch(r"-?\d{1,9}", percent) else percent,
    }
    return await _item_report(desk, pledge_id, f"{item_id}/progress", body, form, sent=item_id)


@router.post("/pledges/{pledge_id}/items/{item_id}/done")
async def report_done(pledge_id: str, item_id: str, desk: Signed) -> Response:
    """P10: the item reported done, by its pledger (or the branch secretary on a member's
    behalf, recorded so); the township's confirmations and the satisfaction check follow.
    It cannot be taken back, so the form asks for a tick first."""
    form = await desk.form()
    sent = f"done-{item_id}"
    if form.get("confirmed") != "yes":
        unconfirmed = Refused(
            422,
            "报告完成后无法撤销：请确认后再提交。",
            fields={"confirmed": "请勾选确认：报告完成后无法撤销。"},
        )
        return await _pledge_page(desk, pledge_id, refused=unconfirmed, filled=form, sent=sent)
    body = {"summary": form.get("summary", "")}
    return await _item_report(desk, pledge_id, f"{item_id}/done", body, form, sent)


async def _item_report(
    desk: Desk, pledge_id: str, report: str, body: dict[str, Any], form: dict[str, str], sent: str
) -> Response:
    """A report on an item of a published pledge (`<item>/progress`, `<item>/done`) with the
    form's evidence: a refusal shown beside the sent form's fields, what was typed kept."""
    path = f"/v1/pledges/{pledge_id}/items/{report}"
    try:
        # a photo from the phone's camera (or a scanned letter): stored first, then attached
        body["files"] = await desk.evidence("pledge")
        await desk.post("pledge", path, body, form.get("key", ""))
    except Refused as refused:
        for name in ("photo", "file"):  # an upload refused (calls.py, the service's field)
            if name in refused.fields:
                refused.fields.setdefault("files", refused.fields.pop(name))
        return await _pledge_page(desk, pledge_id, refused=refused, filled=form, sent=sent)
    return desk.redirect(f"/pledges/{pledge_id}")
