"""The annual selection (S1–S3, issue 20 items 2 and 4), each step by whom the evaluation
service authorises: the township office (创先办) organises (opens it, declares the formula,
gathers nominations, scores a stage, posts the notice, records objections from people who
come in person); the branch secretary nominates, with a reason; the township committee
(镇党委) decides each stage per candidate, advanced or not and why in its own words, with the
composite score and its parts beside each candidate as evidence, answers objections and
issues the commendation. The same steps at each level (issue 20 item 3): the county's
administrator organises and decides the county's selection across townships, from the
townships' winners of the year, and the townships' committees and offices object to its
notice in their own name; a branch secretary organises and decides her branch's own
selection of its members. Who reads which: the county's administrator the county's own
selections and, read only, every selection held in its townships (the record behind the
county's candidates); a branch secretary and a member their township's and their county's,
objecting to a county selection while its notice runs. The console offers each person the
steps of their post; the service decides."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta, timezone
from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import Response

from services.console.calls import Refused
from services.console.pages.directory import roll_found
from services.console.pages.picker import ID, SHOWN, Found, an_id, matching, offered, source, typed
from services.console.pages.reviews import township_of
from services.console.web import Desk, Signed, form_rows

router = APIRouter()
CHINA = timezone(timedelta(hours=8))
POSTS = ("township_committee", "township_office", "branch_secretary")
COUNTY = "county_admin"
REFUSAL = "“评选表彰”由乡镇党委、创先办、支部书记和党员使用。县级评选由县管理员办理。"
NOT_OURS = "只能查看本县的评选：县级评选和本县各乡镇的评选。"
SOURCES = {
    "ratings": "评星定级",
    "evaluation": "群众评议",
    "pledges": "承诺践诺",
    "reviews": "领导点评",
}
BODIES = {"township_committee": "镇党委", "county": "县委", "branch": "支部", "formula": "按得分"}
NOMINATORS = {"branch": "支部推荐", "township": "创先办推荐", "county": "县推荐"}


async def _township(desk: Desk) -> str:
    """The person's township: a township post's own, a branch secretary's or member's
    branch's."""
    if desk.session.role == "member":
        branch_id = desk.org_of(("member",), REFUSAL)
        branch = await desk.get("pledge", f"/v1/branches/{branch_id}")
        return str(branch["township_id"])
    return await township_of(desk, POSTS, REFUSAL)


async def _holder(desk: Desk) -> str:
    """Where the person's selections are listed (`township_id` of the service's list): the
    county for its administrator (a county selection's township is the county), else the
    person's township."""
    if desk.session.role == COUNTY:
        return desk.org_of((COUNTY,), REFUSAL)
    return await _township(desk)


async def county_of_township(desk: Desk, township_id: str) -> str:
    """The county of a township: of a person's township, whose county selections its office
    nominates its winners to and its committee and office, its branch secretaries and
    members read and object to; of a selection's township, for the county's administrator."""
    township = await desk.get("pledge", f"/v1/townships/{township_id}")
    return str(township["county_id"])


def opens(desk: Desk) -> str | None:
    """The level of selection this person opens: the office its township's, the county's
    administrator the county's, a branch secretary her branch's; the committee none."""
    return {"township_office": "township", COUNTY: "county", "branch_secretary": "branch"}.get(
        desk.session.role
    )


PAGE = 20
PageNumber = Annotated[int, Query(ge=1, le=1000)]


@router.get("/selections")
async def selections(
    desk: Signed,
    page: PageNumber = 1,
    county_page: PageNumber = 1,
    town_page: PageNumber = 1,
) -> Response:
    return await _selections(desk, page, county_page, town_page)


async def _listed(desk: Desk, page: int, **where: str) -> dict[str, Any]:
    """One page of the selections the service lists by `where` (held by a township or a
    county; held in a county's townships), and its page count."""
    found: dict[str, Any] = await desk.get(
        "evaluation", "/v1/selections", **where, limit=PAGE, offset=(page - 1) * PAGE
    )
    return found | {"pages": max(1, -(-found["total"] // PAGE))}


NONE_LISTED: dict[str, Any] = {"rows": [], "total": 0, "pages": 1}


async def _selections(
    desk: Desk,
    page: int = 1,
    county_page: int = 1,
    town_page: int = 1,
    *,
    refused: Refused | None = None,
    filled: dict[str, str] | None = None,
) -> Response:
    """The person's selections; a township's or branch's post's county's too; the county
    administrator's townships' selections (read only): each list paged by its own parameter
    (`page`, `county_page`, `town_page`)."""
    holder = await _holder(desk)
    listed = await _listed(desk, page, township_id=holder)
    above, below = NONE_LISTED, NONE_LISTED
    if desk.session.role == COUNTY:  # the record behind the county's candidates
        below = await _listed(desk, town_page, county_id=holder, level="township")
    else:  # the county's selections the township's winners go up to
        county_id = await county_of_township(desk, holder)
        above = await _listed(desk, county_page, township_id=county_id)
    return desk.form_page(
        "selections.html",
        refused,
        filled or {"year": str(datetime.now(CHINA).year), "notice_days": "7"},
        selections=listed,
        county_selections=above["rows"],
        township_selections=below,
        opens=opens(desk),
        page=page,
        pages=listed["pages"],
        county_page=county_page,
        county_pages=above["pages"],
        town_page=town_page,
    )


@router.post("/selections")
async def open_selection(desk: Signed) -> Response:
    """S1: the office opens the township's selection of its branches or members, the county's
    administrator the county's, a branch secretary her branch's of its members."""
    form = await desk.form()
    holder, level = await _holder(desk), opens(desk)
    if level is None:
        raise Refused(403, "评选由乡镇创先办、县管理员或支部书记开展：镇党委决定各轮。")
    body: dict[str, Any] = {
        "level": level,
        f"{level}_id": holder if level != "branch" else desk.session.org,
        "title": form.get("title", ""),
        "year": number(form.get("year", "")),
        "subject_kind": "member" if level == "branch" else form.get("subject_kind", ""),
        "notice_days": number(form.get("notice_days", "")),
    }
    if form.get("commendation_on"):
        body["commendation_on"] = form["commendation_on"]
    try:
        accepted = await desk.post("evaluation", "/v1/selections", body, form.get("key", ""))
    except Refused as refused:
        return await _selections(desk, refused=refused, filled=form)
    return desk.redirect(f"/selections/{accepted['id']}")


def number(text: str) -> int | float | str:
    """A number as typed (the service names a field that is not one)."""
    text = text.strip()
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text


def yes_no(choice: str) -> bool | str:
    """A yes/no radio's choice; none chosen is sent as it is, for the service to name."""
    return {"yes": True, "no": False}.get(choice, choice)


def stage_waiting(selection: dict[str, Any]) -> dict[str, Any] | None:
    """The scored stage the committee has not decided yet."""
    return next((s for s in selection["stages"] if s["decided_by"] is None), None)


def can_score(selection: dict[str, Any]) -> bool:
    formula = selection["formula"]
    return (
        formula is not None
        and stage_waiting(selection) is None
        and len(selection["stages"]) < len(formula["quotas"])
        and bool(selection["candidates"])
    )


async def nominees(desk: Desk, selection: dict[str, Any], q: str = "") -> list[dict[str, str]]:
    """Whom this person may nominate and nobody has yet (the township's roll: those whose
    name holds `q`, the first of them)."""
    named = {c["subject_id"] for c in selection["candidates"]}
    return [n for n in await eligible(desk, selection, q) if n["id"] not in named]


async def eligible(desk: Desk, selection: dict[str, Any], q: str = "") -> list[dict[str, str]]:
    """Whom this person may nominate, before the first stage is scored: in a township's
    selection the township's branches or members (the office) or the secretary's own branch
    or its members; in a branch's, its secretary the branch's members; in the county's, its
    administrator the townships' winners of the year. The office's township roll is asked
    for by name (`q`): the first who are not yet nominated, and one more."""
    role, org = desk.session.role, desk.session.org
    if selection["stages"]:
        return []
    whole_roll = ("township", "member", "township_office")
    if (selection["level"], selection["subject_kind"], role) == whole_roll:
        limit = SHOWN + len(selection["candidates"]) + 1
        found = await roll_found(desk, selection["township_id"], q, limit)
        return [{"id": member_id, "name": name} for member_id, name in found]
    if selection["level"] == "county":
        if role == "township_office":  # its own township's winners
            return [w for w in await winners(desk, selection) if w["township_id"] == org]
        return await winners(desk, selection) if role == COUNTY else []
    if selection["level"] == "branch":
        mine = role == "branch_secretary" and org == selection["organisation_id"]
        return await members_of(desk, [selection["organisation_id"]]) if mine else []
    if role not in ("township_office", "branch_secretary"):
        return []
    township = await desk.get("pledge", f"/v1/townships/{selection['township_id']}")
    branches = [b["branch_id"] for b in township["branches"]]
    if role == "branch_secretary":
        branches = [b for b in branches if b == org]
    if selection["subject_kind"] == "branch":
        return [
            {"id": b["branch_id"], "name": b["name"]}
            for b in township["branches"]
            if b["branch_id"] in branches
        ]
    return await members_of(desk, branches)


async def members_of(desk: Desk, branches: list[str]) -> list[dict[str, str]]:
    """The members of the branches, each named with their branch."""
    found = []
    for branch_id in branches:
        branch = await desk.get("pledge", f"/v1/branches/{branch_id}")
        found += [
            {"id": m["member_id"], "name": f"{m['name']}（{branch['name']}）"}
            for m in branch["members"]
        ]
    return found


async def winners(desk: Desk, selection: dict[str, Any]) -> list[dict[str, str]]:
    """S1 at the county: the year's awardees of the county's townships' own selections, of
    the selection's kind, each named with the township that commended them (and that
    township's id: its office nominates its own)."""
    county_id = selection["organisation_id"]
    county = await desk.get("pledge", f"/v1/counties/{county_id}")
    towns = {t["township_id"]: t["name"] for t in county["townships"]}
    issued = await desk.get(
        "evaluation", "/v1/commendations", county_id=county_id, year=selection["year"]
    )
    return [
        {
            "id": a["subject_id"],
            "name": f"{a['subject_name']}（{towns.get(c['township_id'], '')}）",
            "township_id": c["township_id"],
        }
        for c in issued
        if c["level"] == "township"
        for a in c["awardees"]
        if a["subject_kind"] == selection["subject_kind"]
    ]


@source("nominees")
async def nominees_found(desk: Desk, q: str, params: Mapping[str, str]) -> Found:
    """Whom this person may nominate in the selection, by a part of the name."""
    selection = await readable(desk, an_id(params, "selection"))
    return matching(nominated(await nominees(desk, selection, q)), q)


def nominated(found: list[dict[str, str]]) -> list[tuple[str, str]]:
    return [(n["id"], n["name"]) for n in found]


@source("finalists")
async def finalists_found(desk: Desk, q: str, params: Mapping[str, str]) -> Found:
    """The selection's finalists on notice, by a part of the name: whom an objection is of."""
    return matching(on_notice(await readable(desk, an_id(params, "selection"))), q)


def pickers(
    selection: dict[str, Any],
    found: list[dict[str, str]],
    nominee: str = "",
    finalist: str = "",
    chosen: str = "",
) -> dict[str, Found]:
    """The page's two person fields: whom to nominate (of `found`) by the text `nominee`, and
    whom an objection is of (the finalists) by `finalist`; `chosen` kept on either list."""
    at = {"selection": selection["selection_id"]}
    nominees = matching(nominated(found), nominee, chosen=chosen)
    finalists = matching(on_notice(selection), finalist, chosen=chosen)
    return {
        "nominees": offered(nominees, "nominees", **at),
        "finalists": offered(finalists, "finalists", **at),
    }


async def of_the_roll(
    desk: Desk, selection: dict[str, Any], member_id: str
) -> list[dict[str, str]]:
    """The township's member `member_id` whom the office chose (its roll is found by name, so
    a refused form's choice may be past the first), named; none if not of the township."""
    if desk.session.role != "township_office" or selection["subject_kind"] != "member":
        return []
    if not ID.match(member_id):  # a form's value, put in a path: an id or nothing
        return []
    try:
        member = await desk.get("pledge", f"/v1/members/{member_id}")
    except Refused:
        return []
    if member["township_id"] != selection["township_id"] or not member["active"]:
        return []
    return [{"id": member_id, "name": member["name"]}]


def on_notice(selection: dict[str, Any]) -> list[tuple[str, str]]:
    names = {c["subject_id"]: c["subject_name"] for c in selection["candidates"]}
    return [(f, names.get(f, f)) for f in selection["finalists"]]


async def readable(desk: Desk, selection_id: str) -> dict[str, Any]:
    """The selection, if it is of the person's place: the county's administrator the
    county's own selections and those held in its townships (read only: the page offers
    the steps of the selection's own organiser and body); the others their township's
    (every level held in it), and their county's too."""
    path = f"/v1/selections/{selection_id}"
    if desk.session.role == COUNTY:
        county_id = desk.org_of((COUNTY,), REFUSAL)
        found: dict[str, Any] = await desk.get("evaluation", path)
        if found["level"] == "county":
            ours = found["organisation_id"] == county_id
        else:
            ours = await county_of_township(desk, found["township_id"]) == county_id
        if not ours:
            raise Refused(403, NOT_OURS)
        return found
    township_id = await _township(desk)
    found = await desk.get("evaluation", path)
    if found["township_id"] == township_id:
        return found
    county_id = await county_of_township(desk, township_id)
    if (found["level"], found["organisation_id"]) == ("county", county_id):
        return found
    raise Refused(403, "只能办理本乡镇的评选。")


@router.get("/selections/{selection_id}")
async def selection_page(selection_id: str, desk: Signed) -> Response:
    return await _selection_page(desk, selection_id)


async def _selection_page(
    desk: Desk,
    selection_id: str,
    *,
    refused: Refused | None = None,
    filled: dict[str, str] | None = None,
) -> Response:
    selection = await readable(desk, selection_id)
    names = {c["subject_id"]: c["subject_name"] for c in selection["candidates"]}
    found = await nominees(desk, selection, typed(desk, "subject_id"))
    chosen = (filled or {}).get("subject_id", "")
    if chosen and chosen not in {n["id"] for n in found}:  # a refused form's, further on
        found += await of_the_roll(desk, selection, chosen)
    return desk.form_page(
        "selection.html",
        refused,
        filled,
        s=selection,
        names=names,
        **pickers(
            selection,
            found,
            typed(desk, "subject_id"),
            typed(desk, "objection_subject"),
            chosen,
        ),
        waiting=stage_waiting(selection),
        can_score=can_score(selection),
        sources=SOURCES,
        bodies=BODIES,
        nominators=NOMINATORS,
        today=datetime.now(CHINA).date().isoformat(),
    )


async def _step(
    desk: Desk, selection_id: str, path: str, body: dict[str, Any], form: dict[str, str]
) -> Response:
    """One step of the selection; a refusal is shown on the selection's page."""
    try:
        await desk.post("evaluation", f"/v1/selections/{selection_id}{path}", body, form["key"])
    except Refused as refused:
        return await _selection_page(desk, selection_id, refused=refused, filled=form)
    return desk.redirect(f"/selections/{selection_id}")


@router.post("/selections/{selection_id}/formula")
async def declare_formula(selection_id: str, desk: Signed) -> Response:
    form = await desk.form()
    weights = {
        source: number(form.get(f"weights.{source}", "") or "0")
        for source in SOURCES
        if (form.get(f"weights.{source}", "") or "0").strip() not in ("0", "0.0")
    }
    quotas = [number(q) for q in form.get("quotas", "").replace("，", ",").split(",") if q.strip()]
    body = {"weights": weights, "when_missing": form.get("when_missing", ""), "quotas": quotas}
    return await _step(desk, selection_id, "/formula", body, form)


@router.post("/selections/{selection_id}/nominations")
async def nominate(selection_id: str, desk: Signed) -> Response:
    form = await desk.form()
    body = {"subject_id": form.get("subject_id", ""), "reason": form.get("reason", "")}
    return await _step(desk, selection_id, "/nominations", body, form)


@router.post("/selections/{selection_id}/stages")
async def score_stage(selection_id: str, desk: Signed) -> Response:
    form = await desk.form()
    return await _step(desk, selection_id, "/stages", {}, form)


def decisions_of(form: dict[str, str]) -> list[dict[str, Any]]:
    """The committee's decisions as its form carries them (`decisions.<n>.<field>`), in the
    form's order; a candidate left without a choice is sent without one (the service names
    it), never filled in from the score's suggestion."""
    return [
        {
            "subject_id": row.get("subject_id", ""),
            "advanced": yes_no(row.get("advanced", "")),
            "reason": row.get("reason", ""),
        }
        for row in form_rows(form, "decisions")
    ]


@router.post("/selections/{selection_id}/stages/{stage}/decision")
async def decide_stage(selection_id: str, stage: int, desk: Signed) -> Response:
    """S2: per candidate, advanced or not (as the committee chose: nothing is pre-chosen),
    and why in its own words."""
    form = await desk.form()
    body = {"decisions": decisions_of(form)}
    return await _step(desk, selection_id, f"/stages/{stage}/decision", body, form)


@router.post("/selections/{selection_id}/notice")
async def post_notice(selection_id: str, desk: Signed) -> Response:
    form = await desk.form()
    return await _step(desk, selection_id, "/notice", {}, form)


@router.post("/selections/{selection_id}/objections")
async def record_objection(selection_id: str, desk: Signed) -> Response:
    """S3: an objection someone brought to the organiser in person (by letter, by telephone),
    recorded so; or a township's own (its committee or office) to the county's selection's
    notice, with its reason. The service says who may object and when."""
    form = await desk.form()
    body = {"subject_id": form.get("subject_id", ""), "summary": form.get("summary", "")}
    return await _step(desk, selection_id, "/objections", body, form)


@router.post("/selections/{selection_id}/objections/{objection_id}/answer")
async def answer_objection(selection_id: str, objection_id: str, desk: Signed) -> Response:
    form = await desk.form()
    body = {
        "answer": form.get("answer", ""),
        "upheld": yes_no(form.get("upheld", "")),
    }
    return await _step(desk, selection_id, f"/objections/{objection_id}/answer", body, form)


@router.post("/selections/{selection_id}/commendation")
async def issue_commendation(selection_id: str, desk: Signed) -> Response:
    form = await desk.form()
    return await _step(desk, selection_id, "/commendation", {}, form)
