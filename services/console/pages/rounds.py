"""Mass evaluation rounds (E1–E5) as the organiser runs them and the others read them: the
township office opens a round for its branches, a branch secretary one for the branch's
members (E2); the organiser registers raters: members chosen from the branch's or the
township's roster (by their ids), others one by one or from the rater workbook (issue 19;
personal data sealed by the service, A7), prints the invitation slips (issue 17: an A4
sheet of cut-out slips in the same tab, each code shown once), follows turnout, enters a
stack of paper ballots as a grid (rows the ballots, columns the subjects; a card a ballot on
a phone) with its sign-in sheet or from the stack workbook, closes the round after a
confirmation and reads its results (printable, Excel). The township
committee reads its township's rounds; an auditor checks a round's ballots against its
raters (E3)."""

from __future__ import annotations

import asyncio
from datetime import date, datetime
from typing import Annotated, Any, Literal
from urllib.parse import quote

from fastapi import APIRouter, Query
from fastapi.responses import HTMLResponse, Response

from services.console.calls import CODES, Refused
from services.console.pages.imports import send_upload
from services.console.pages.pledges import CHINA
from services.console.web import TOWNSHIP_POSTS, Desk, Signed
from shared import zh
from shared.workbook import xlsx_download

router = APIRouter()
ORGANISERS = ("township_office", "branch_secretary")  # who opens rounds (E2)
PAGE = 50  # raters per page
GRID_ROWS = 10  # paper ballots a grid offers unless asked for more
MAX_ROWS = 200
SMS_WAIT_SECONDS = 120.0  # an invitation call that also sends the links by SMS (else 20 s)
RATER_KINDS = {
    "public": "群众",
    "township_member": "乡镇党员",
    "cadre": "干部",
    "lower_org_head": "下级组织负责人",
    "linked_village_rep": "联系村代表",
    "served_people_rep": "服务对象代表",
    "branch_member": "本支部党员",
    "village_cadre": "村干部",
}
CHANNELS = {"web": "手机投票", "paper": "纸质选票", "on_site": "现场投票"}
PERSONAL = ("name", "phone", "id_number", "member_id")
CALENDAR_HINT = (
    "评议须在全县评议日历规定的截止日期前结束：请在截止日期前开始，结束日期不晚于截止日期。"
)


async def where_of(desk: Desk, asked: str | None = None) -> tuple[str, str | None]:
    """(township, branch or None) whose rounds the person sees: the township posts their
    township's, a branch secretary the branch's own, an auditor any of the county's."""
    role, org = desk.session.role, desk.session.org
    if role in TOWNSHIP_POSTS and org:
        return org, None
    if role == "branch_secretary" and org:
        branch = await desk.get("pledge", f"/v1/branches/{org}")
        return str(branch["township_id"]), org
    if role == "auditor" and org and asked:
        township = await desk.get("pledge", f"/v1/townships/{asked}")
        if township["county_id"] == org:
            return asked, None
    raise Refused(403, "评议工作页面由乡镇党委、创先办、支部书记和审计员使用。")


def organises(desk: Desk, found: dict[str, Any]) -> bool:
    """Whether the person is the round's organiser (who registers, enters and closes)."""
    return desk.session.role in ORGANISERS and desk.session.org == found["organiser_id"]


async def the_round(desk: Desk, round_id: str) -> dict[str, Any]:
    found: dict[str, Any] = await desk.get("evaluation", f"/v1/rounds/{round_id}")
    township_id, branch_id = await where_of(desk, found["township_id"])
    if found["township_id"] != township_id or branch_id not in (None, found["organiser_id"]):
        raise Refused(403, "这不是您所在组织的评议。")
    return found


def grades_of(found: dict[str, Any]) -> list[tuple[str, str]]:
    """The round's scale (E7) as (grade, label) in the order the organiser gave it."""
    return [(g["grade"], zh.simplified(g["label"])) for g in found["scale"]["grades"]]


def fields_under(refused: Refused, prefix: str) -> Refused:
    """A refusal's fields renamed from the API's body (`raters.0.phone`) to the form's."""
    refused.fields = {k.removeprefix(prefix): v for k, v in refused.fields.items()}
    return refused


PageNumber = Annotated[int, Query(ge=1, le=10_000)]
ROUNDS_PAGE = 20  # rounds per page of the list, the latest half-year first
CLOSES_BY = ((1, 5), (7, 10))  # E4's default closing days: last year's second half, the first


def round_due(today: date) -> tuple[int, int]:
    """(year, half) of the round an organiser most likely opens on `today` (the county's
    day): the one the default calendar (E4) closes next, the second half of last year until
    January 5, the first half until July 10, then the second."""
    if (today.month, today.day) <= CLOSES_BY[0]:
        return today.year - 1, 2
    return today.year, 1 if (today.month, today.day) <= CLOSES_BY[1] else 2


@router.get("/rounds")
async def rounds(
    desk: Signed,
    township_id: Annotated[str | None, Query(max_length=64)] = None,
    page: PageNumber = 1,
) -> Response:
    if desk.session.role == "auditor" and not township_id and desk.session.org:
        county = await desk.county(desk.session.org)
        return desk.page("rounds.html", rounds={"rows": [], "total": 0}, turnouts={}, county=county)
    return await _rounds_page(desk, township_id, page=page)


async def _rounds_page(
    desk: Desk,
    asked: str | None = None,
    refused: Refused | None = None,
    filled: dict[str, str] | None = None,
    page: int = 1,
) -> Response:
    township_id, branch_id = await where_of(desk, asked)
    mine = {"organiser_id": branch_id} if branch_id else {}
    listed = await desk.get(
        "evaluation",
        "/v1/rounds",
        township_id=township_id,
        limit=ROUNDS_PAGE,
        offset=(page - 1) * ROUNDS_PAGE,
        **mine,
    )
    open_ids = [r["round_id"] for r in listed["rows"] if r["status"] == "open"]
    invitations = [desk.get("evaluation", f"/v1/rounds/{i}/invitations") for i in open_ids]
    turnouts = dict(zip(open_ids, await asyncio.gather(*invitations), strict=True))
    year, half = round_due(datetime.now(CHINA).date())
    return desk.page(
        "rounds.html",
        refused.status if refused else 200,
        rounds=listed,
        turnouts=turnouts,
        page=page,
        pages=max(1, -(-listed["total"] // ROUNDS_PAGE)),
        query=f"township_id={township_id}" if asked else "",
        opener=desk.session.role in ORGANISERS,
        refused=refused,
        filled={"year": str(year), "half": str(half)} | (filled or {}),
    )


@router.post("/rounds")
async def open_round(desk: Signed) -> Response:
    """E1: the office opens a round for the township's branches, a secretary for the
    branch's members; the closing date defaults to the county calendar's (E4)."""
    form = await desk.form()
    desk.org_of(ORGANISERS, "评议由乡镇创先办（评议支部）或支部书记（评议党员）组织。")
    where = "township_id" if desk.session.role == "township_office" else "branch_id"
    body: dict[str, Any] = {
        "title": form.get("title", "").strip(),
        "year": int(form["year"]) if form.get("year", "").isdigit() else form.get("year"),
        "half": int(form["half"]) if form.get("half", "").isdigit() else form.get("half"),
        "opens_on": form.get("opens_on", ""),
        "closes_on": form.get("closes_on") or None,
        where: desk.session.org,
    }
    if form.get("held_with"):
        body["held_with"] = "secretary_annual_report"
    try:
        answer = await desk.post("evaluation", "/v1/rounds", body, form.get("key", ""))
    except Refused as refused:
        for name in ("opens_on", "closes_on"):  # a date the county's calendar refuses (E4)
            if refused.fields.get(name) == CODES["value_error"]:
                refused.fields[name] = CALENDAR_HINT
        return await _rounds_page(desk, refused=refused, filled=form)
    return desk.redirect(f"/rounds/{answer['id']}")


@router.get("/rounds/{round_id}")
async def a_round(
    round_id: str,
    desk: Signed,
    offset: Annotated[int, Query(ge=0)] = 0,
    q: Annotated[str, Query(max_length=64)] = "",
) -> Response:
    return await _round_page(desk, round_id, offset=offset, q=q)


async def member_names(
    desk: Desk, found: dict[str, Any], shown: list[dict[str, Any]]
) -> dict[str, str]:
    """The names of the member raters shown: the round's member subjects', and, for the
    township office (who keeps the roster), those members' from the township's roster, asked
    for by their ids (the raters of a round of branches are its members, whom the round
    itself does not name; a large township's roster is more than one page)."""
    names = {s["subject_id"]: s["subject_name"] for s in found["subjects"]}
    unnamed = {r["member_id"] for r in shown if r.get("member_id") and not r.get("name")}
    if desk.session.role != "township_office":
        return names
    asked = sorted(unnamed - names.keys())
    for start in range(0, len(asked), MEMBERS_ASKED):
        ids = asked[start : start + MEMBERS_ASKED]
        roster = await desk.get(
            "pledge", "/v1/members", township_id=found["township_id"], member_id=ids, limit=len(ids)
        )
        names |= {m["member_id"]: m["name"] for m in roster["rows"]}
    return names


MEMBERS_ASKED = 100  # member ids asked of the pledge service at once (its MEMBERS_BY_ID)


MEMBER_KIND = {"branch": "branch_member", "township": "township_member"}  # by organiser
ROSTER_SHOWN = 50  # the township's members offered at once (found by name beyond that)


async def members_to_choose(
    desk: Desk, found: dict[str, Any], raters: list[dict[str, Any]], q: str
) -> dict[str, Any]:
    """The members the organiser may register as raters, not registered yet: a secretary's
    branch's (from the service's directory copy, which decides who may rate), or the
    township's found by part of a name (the office keeps the roster; the first
    `ROSTER_SHOWN`). {members: [{member_id, name, where}], more: whether some are not shown}."""
    registered = {r["member_id"] for r in raters if r.get("member_id")}
    if found["organiser_kind"] == "branch":
        copy = await desk.get("evaluation", f"/v1/directory/townships/{found['township_id']}")
        ours = [b for b in copy["branches"] if b["branch_id"] == found["organiser_id"]]
        listed = [{**m, "where": ""} for b in ours for m in b["members"]]
        more = False
    else:
        found_by = {"name": q.strip()} if q.strip() else {}
        roster = await desk.get(
            "pledge",
            "/v1/members",
            township_id=found["township_id"],
            limit=ROSTER_SHOWN,
            **found_by,
        )
        listed = [{**m, "where": m.get("branch", "")} for m in roster["rows"] if m["active"]]
        more = roster["total"] > len(roster["rows"])
    chosen = [m for m in listed if m["member_id"] not in registered]
    return {"members": chosen, "more": more, "q": q.strip()}


async def _round_page(
    desk: Desk,
    round_id: str,
    *,
    offset: int = 0,
    q: str = "",
    refused: Refused | None = None,
    filled: dict[str, str] | None = None,
) -> Response:
    found = await the_round(desk, round_id)
    organiser = organises(desk, found)
    reads = [
        desk.get("evaluation", f"/v1/rounds/{round_id}/turnout"),
        desk.get("evaluation", f"/v1/rounds/{round_id}/invitations"),
    ]
    if organiser:  # the raters (masked) and one's own imports are the organiser's only
        reads.append(desk.get("evaluation", f"/v1/rounds/{round_id}/raters"))
        reads.append(desk.get("evaluation", "/v1/imports"))  # raters' and stacks' imports
    turnout, invitations, *more = await asyncio.gather(*reads)
    raters: list[dict[str, Any]] = more[0]["raters"] if more else []
    past = [i for i in more[1] if i["scope_id"] == round_id] if more else []
    shown = raters[offset : offset + PAGE]
    choosing = None
    if organiser and found["status"] == "open":
        choosing = await members_to_choose(desk, found, raters, q)
    return desk.page(
        "round.html",
        refused.status if refused else 200,
        round=found,
        organiser=organiser,
        turnout=turnout,
        invitations=invitations,
        raters=shown,
        member_names=await member_names(desk, found, shown),
        raters_total=len(raters),
        no_phone=without_phone(raters),
        erased=erased_raters(raters),
        offset=offset,
        page_size=PAGE,
        imports=past,
        kinds=RATER_KINDS,
        typed_kinds={k: v for k, v in RATER_KINDS.items() if k not in MEMBER_KIND.values()},
        choosing=choosing,
        channels=CHANNELS,
        refused=refused,
        filled=filled or {},
    )


@router.post("/rounds/{round_id}/members")
async def register_members(round_id: str, desk: Signed) -> Response:
    """Members chosen from the branch's or the township's roster, registered as raters by
    their member ids (they find the round among their own, 评议投票)."""
    form = await desk.form()
    found = await the_round(desk, round_id)
    kind = MEMBER_KIND[found["organiser_kind"]]
    chosen = [k.removeprefix("member.") for k in form if k.startswith("member.")]
    back = f"/rounds/{round_id}" + (f"?q={quote(form['q'])}" if form.get("q") else "")
    if not chosen:
        none = {"members": "请至少勾选一名党员。"}
        refused = Refused(422, "请勾选要登记的党员。", fields=none)
        return await _round_page(desk, round_id, q=form.get("q", ""), refused=refused)
    body = {"raters": [{"kind": kind, "member_id": m} for m in chosen]}
    try:
        await desk.post("evaluation", f"/v1/rounds/{round_id}/raters", body, form.get("key", ""))
    except Refused as refused:
        why = next(iter(refused.fields.values()), refused.detail or refused.message)
        refused.fields = {"members": why}
        return await _round_page(desk, round_id, q=form.get("q", ""), refused=refused, filled=form)
    return desk.redirect(back)


@router.post("/rounds/{round_id}/raters")
async def register_rater(round_id: str, desk: Signed) -> Response:
    """One rater, typed in: a member of the public's data is sealed by the service (A7)."""
    form = await desk.form()
    entry: dict[str, Any] = {"kind": form.get("kind", "")}
    entry |= {k: form[k].strip() for k in PERSONAL if form.get(k, "").strip()}
    path = f"/v1/rounds/{round_id}/raters"
    try:
        await desk.post("evaluation", path, {"raters": [entry]}, form.get("key", ""))
    except Refused as refused:
        fields_under(refused, "raters.0.")
        return await _round_page(desk, round_id, refused=refused, filled=form)
    return desk.redirect(f"/rounds/{round_id}")


@router.get("/rounds/{round_id}/{what}/template.xlsx")
async def template(round_id: str, what: Literal["raters", "ballots"], desk: Signed) -> Response:
    """The rater workbook, or the round's stack workbook (its raters yet to vote on the
    sign-in sheet, its subjects and scale on the ballots sheet)."""
    await the_round(desk, round_id)
    body = await desk.get("evaluation", f"/v1/rounds/{round_id}/{what}/template.xlsx")
    return xlsx_download(body, f"{what}.xlsx")


@router.post("/rounds/{round_id}/{what}/imports")
async def upload(round_id: str, what: Literal["raters", "ballots"], desk: Signed) -> Response:
    """The rater workbook, or a stack's workbook (sign-in sheet and ballots, on paper or on
    site), to the service's import: on to its preview; a refused file beside its field."""
    form = await desk.form()
    channel = None
    if what == "ballots":
        channel = "on_site" if form.get("channel") == "on_site" else "paper"
    path = f"/v1/rounds/{round_id}/{what}/imports"
    try:
        return await send_upload(desk, "evaluation", path, f"{what}_file", channel=channel)
    except Refused as refused:
        return await _round_page(desk, round_id, refused=refused, filled=form)


async def invite(
    desk: Desk, path: str, raw: bool = False, keyed: bool = False, back: str | None = None
) -> Any:
    """An invitation route of the (CSRF-checked) form. Issuing takes no idempotency key (a
    repeated request issues nothing new; a lost answer is made good by reissuing); a reissue
    (`keyed`) takes the form's, so a double click replaces the code and sends its SMS once
    (the repeat is refused: the service keeps no code to answer it again). With the form's
    `by_sms`, the links also go by SMS to the raters with a phone (where the county has an
    SMS channel: the service says so in its turnout, `sms`); `back`: the page a printed
    sheet links back to."""
    form = await desk.form()
    body = {"by_sms": True} if form.get("by_sms") else {}
    return await desk.console.services.call(
        "evaluation",
        "POST",
        path,
        token=desk.token,
        body=body,
        raw=raw,
        params={"back": back},
        idempotency_key=form.get("key") if keyed else None,
        # the codes are in this answer only: it waits for the messages (SMS_WAIT_SECONDS)
        wait_seconds=SMS_WAIT_SECONDS if body else None,
    )


def without_phone(raters: list[dict[str, Any]]) -> int:
    """Raters an invitation cannot reach by SMS for want of a registered phone (not those
    whose personal data was erased: `erased_raters` counts them apart)."""
    return sum(1 for r in raters if not r.get("phone") and not r.get("erased"))


def erased_raters(raters: list[dict[str, Any]]) -> int:
    """Raters whose personal data was erased (phone included)."""
    return sum(1 for r in raters if r.get("erased"))


async def erasure_page(
    desk: Desk, listed: str, rater_id: str, back: str, refused: Refused | None = None
) -> Response:
    """The confirmation before a rater's personal data is erased (A7): who (masked), what
    goes and what stays. `listed`: the API's raters of the round or check."""
    raters = (await desk.get("evaluation", listed))["raters"]
    rater = next((r for r in raters if r["rater_id"] == rater_id), None)
    if rater is None:
        raise Refused(404, "没有这位评议人。")
    return desk.form_page("erasure.html", refused, None, rater=rater, back=back)


async def erase(desk: Desk, listed: str, rater_id: str, back: str) -> Response:
    """Erase the rater's name, phone and ID number for good (the service destroys their key;
    participation and ballots stay); a refusal on the confirmation page."""
    form = await desk.form()
    try:
        await desk.post("evaluation", f"/v1/people/{rater_id}/erasure", {}, form.get("key", ""))
    except Refused as refused:
        return await erasure_page(desk, listed, rater_id, back, refused)
    return desk.redirect(back)


@router.get("/rounds/{round_id}/raters/{rater_id}/erasure")
async def erasure(round_id: str, rater_id: str, desk: Signed) -> Response:
    await the_round(desk, round_id)
    back = f"/rounds/{round_id}"
    return await erasure_page(desk, f"/v1/rounds/{round_id}/raters", rater_id, back)


@router.post("/rounds/{round_id}/raters/{rater_id}/erasure")
async def erase_rater(round_id: str, rater_id: str, desk: Signed) -> Response:
    await the_round(desk, round_id)
    return await erase(desk, f"/v1/rounds/{round_id}/raters", rater_id, f"/rounds/{round_id}")


async def print_sheet(desk: Desk, target: str, target_id: str, back: str) -> Response:
    """Invitations for every registered rater not invited yet, as the sheet to print; the
    codes are in this page only (the service keeps their hashes), so print it now. Opened
    in the same tab (a new one is easily lost on a phone), with a way `back` not printed."""
    path = f"/v1/{target}/{target_id}/invitation-sheet"
    answer = await invite(desk, path, raw=True, back=back)
    headers = {
        k: v
        for k, v in answer.headers.items()
        if k.lower() in ("content-security-policy", "cache-control", "referrer-policy")
    }
    return HTMLResponse(answer.text, headers=headers)


async def reissue(desk: Desk, target: str, target_id: str, rater_id: str, back: str) -> Response:
    """A new code for a lost invitation (the old one no longer votes), shown this once to
    copy or print for the rater; the service keeps only its hash."""
    path = f"/v1/{target}/{target_id}/invitations/{rater_id}/reissue"
    answer = await invite(desk, path, keyed=True)
    return desk.page("reissued.html", slips=answer["invitations"], back=back)


@router.post("/rounds/{round_id}/invitations/{rater_id}/reissue")
async def reissue_invitation(round_id: str, rater_id: str, desk: Signed) -> Response:
    await the_round(desk, round_id)
    return await reissue(desk, "rounds", round_id, rater_id, f"/rounds/{round_id}")


@router.post("/rounds/{round_id}/invitation-sheet")
async def invitation_sheet(round_id: str, desk: Signed) -> Response:
    await the_round(desk, round_id)
    came_from = (await desk.form()).get("from")  # the list of rounds, or the round's page
    back = "/rounds" if came_from == "rounds" else f"/rounds/{round_id}"
    return await print_sheet(desk, "rounds", round_id, back)


# --- a stack of paper ballots ---------------------------------------------------------------


@router.get("/rounds/{round_id}/paper")
async def paper_grid(
    round_id: str, desk: Signed, rows: Annotated[str, Query(max_length=8)] = ""
) -> Response:
    """The grid with as many rows as the stack has ballots (typed by the person: anything
    but a number gives the usual rows)."""
    return await _grid_page(desk, round_id, row_count(rows))


def row_count(typed: str) -> int:
    wanted = int(typed) if typed.strip().isdigit() else GRID_ROWS
    return min(max(wanted, 1), MAX_ROWS)


async def _grid_page(
    desk: Desk,
    round_id: str,
    rows: int,
    refused: Refused | None = None,
    filled: dict[str, str] | None = None,
) -> Response:
    found = await the_round(desk, round_id)
    if not organises(desk, found):
        raise Refused(403, "纸质选票由评议的组织者录入。")
    raters = (await desk.get("evaluation", f"/v1/rounds/{round_id}/raters"))["raters"]
    waiting = [r for r in raters if not r["voted"]]
    return desk.page(
        "paper.html",
        refused.status if refused else 200,
        round=found,
        grades=grades_of(found),
        waiting=waiting,
        member_names=await member_names(desk, found, waiting),
        rows=range(rows),
        kinds=RATER_KINDS,
        refused=refused,
        filled=filled or {},
    )


def stack_of(form: dict[str, str], subjects: list[str]) -> tuple[list[int], list[dict[str, str]]]:
    """The grid's filled rows (`ballots.<row>.<subject>`), each with every subject's cell (a
    cell left empty is sent empty and the service names it); wholly empty rows are skipped.
    Returns the rows' numbers on the form with the ballots."""
    numbers: list[int] = []
    ballots: list[dict[str, str]] = []
    cells_named = [k.split(".") for k in form if k.startswith("ballots.")]
    rows = sorted({int(p[1]) for p in cells_named if len(p) == 3 and p[1].isdigit()})
    for row in rows:
        cells = {s: form.get(f"ballots.{row}.{s}", "") for s in subjects}
        if any(cells.values()):
            numbers.append(row)
            ballots.append(cells)
    return numbers, ballots


SIGN_IN_HINTS = {
    "participants": "请勾选签到表上交了选票的人。",
    "participants.": "签到表上有未登记的评议人，请刷新页面后重新勾选。",
    "body": "签到表上勾选的人数须与选票张数相同（每人一张）。",
    "ballots": "请至少填写一张选票；每张选票评价相同的各项。",
    "ballots.": "每张选票都要评价每个评议对象，请检查后再提交。",
}


def grid_hints(fields: dict[str, str], numbers: list[int]) -> dict[str, str]:
    """The service's refusal of a stack as the grid's fields: a cell (`ballots.<n>.<subject>`,
    the n-th ballot sent being the form's row `numbers[n]`) beside its select; the sign-in
    sheet's and the stack's as a whole (`participants`, the body) beside the sign-in sheet."""
    hints = {}
    for name, hint in fields.items():
        parts = name.split(".")
        if parts[0] == "ballots" and len(parts) == 3 and parts[1].isdigit():
            row = numbers[int(parts[1])] if int(parts[1]) < len(numbers) else int(parts[1])
            hints[f"ballots.{row}.{parts[2]}"] = "请为这一项选择评价。"
        elif parts[0] in ("participants", "body", "ballots"):
            hints["signed"] = SIGN_IN_HINTS.get(parts[0] + ("." if parts[1:] else ""), hint)
        else:
            hints[name] = hint
    return hints


@router.post("/rounds/{round_id}/paper")
async def enter_paper(round_id: str, desk: Signed) -> Response:
    """E3a: a stack of paper (or on-site) ballots with its sign-in sheet: who handed one in,
    one ballot each; the service shuffles the ballots apart from the sheet."""
    form = await desk.form()
    found = await the_round(desk, round_id)
    subjects = [s["subject_id"] for s in found["subjects"]]
    numbers, ballots = stack_of(form, subjects)
    signed = [k.removeprefix("signed.") for k in form if k.startswith("signed.")]
    body = {"channel": form.get("channel", "paper"), "participants": signed, "ballots": ballots}
    rows = row_count(form.get("rows", ""))
    try:
        await desk.post(
            "evaluation", f"/v1/rounds/{round_id}/paper-ballots", body, form.get("key", "")
        )
    except Refused as refused:
        refused.fields = grid_hints(refused.fields, numbers)
        return await _grid_page(desk, round_id, rows, refused, form)
    return desk.redirect(f"/rounds/{round_id}")


@router.get("/rounds/{round_id}/closure")
async def closing(round_id: str, desk: Signed) -> Response:
    return await _closing_page(desk, round_id)


async def _closing_page(desk: Desk, round_id: str, refused: Refused | None = None) -> Response:
    """The confirmation before a round is closed for good (no ballot after it, the results
    published): its turnout, who has not voted yet, and what closing does."""
    found = await the_round(desk, round_id)
    if not organises(desk, found):
        raise Refused(403, "评议由组织者结束。")
    if found["status"] != "open":
        return desk.redirect(f"/rounds/{round_id}/results")
    turnout = await desk.get("evaluation", f"/v1/rounds/{round_id}/turnout")
    return desk.form_page("round_closure.html", refused, None, round=found, turnout=turnout)


@router.post("/rounds/{round_id}/closure")
async def close(round_id: str, desk: Signed) -> Response:
    """Closed from its confirmation page: the round takes no ballot after it (E3)."""
    form = await desk.form()
    try:
        await desk.post("evaluation", f"/v1/rounds/{round_id}/closure", {}, form.get("key", ""))
    except Refused as refused:
        return await _closing_page(desk, round_id, refused)
    return desk.redirect(f"/rounds/{round_id}/results")


# --- results and audit ----------------------------------------------------------------------


@router.get("/rounds/{round_id}/results")
async def results(round_id: str, desk: Signed) -> Response:
    found = await the_round(desk, round_id)
    published = await desk.get("evaluation", f"/v1/rounds/{round_id}/results")
    return desk.page("round_results.html", round=found, results=published, grades=grades_of(found))


@router.get("/rounds/{round_id}/results.xlsx")
async def results_workbook(round_id: str, desk: Signed) -> Response:
    await the_round(desk, round_id)
    body = await desk.get("evaluation", f"/v1/rounds/{round_id}/results.xlsx")
    return xlsx_download(body, f"results-{round_id}.xlsx")


PROBLEMS = {
    "unregistered_rater": "未登记的人参评",
    "repeated_participation": "同一人重复参评",
    "not_a_subject": "评价了非评议对象",
    "ballots_differ": "选票数与参评人数不符",
    "urn_not_empty": "仍有选票未入箱",
}


def erasures_shown(audit: dict[str, Any]) -> list[dict[str, Any]]:
    """An audit's erasures of raters' personal data (A7), each with its local time."""
    return [
        {**e, "at": zh.moment(datetime.fromisoformat(e["erased_at"]), CHINA)}
        for e in audit.get("erasures", [])
    ]


@router.get("/rounds/{round_id}/audit")
async def audit(round_id: str, desk: Signed) -> Response:
    """E3: the auditor checks the ballots against the distinct registered raters."""
    if desk.session.role != "auditor":
        raise Refused(403, "评议审计由审计员进行。")
    found = await the_round(desk, round_id)
    checked = await desk.get("evaluation", f"/v1/rounds/{round_id}/audit")
    return desk.page(
        "round_audit.html",
        round=found,
        audit=checked,
        problems=PROBLEMS,
        erasures=erasures_shown(checked),
    )
