"""The annual selection (S1–S3, issue 20 items 2 and 4), each step by whom the evaluation
service authorises: the township office (创先办) organises (opens it, declares the formula,
gathers nominations, scores a stage, posts the notice, records objections from people who
come in person); the branch secretary nominates, with a reason; the township committee
(镇党委) decides each stage per candidate, advanced or not and why in its own words, with the
composite score and its parts beside each candidate as evidence, answers objections and
issues the commendation. The console offers each person the steps of their post; the
service decides."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import Response

from services.console.calls import Refused
from services.console.pages.reviews import township_of
from services.console.web import Desk, Signed, form_rows

router = APIRouter()
CHINA = timezone(timedelta(hours=8))
POSTS = ("township_committee", "township_office", "branch_secretary")
REFUSAL = "“评选表彰”由乡镇党委、创先办和支部书记使用。"
SOURCES = {
    "ratings": "评星定级",
    "evaluation": "群众评议",
    "pledges": "承诺践诺",
    "reviews": "领导点评",
}
BODIES = {"township_committee": "镇党委", "county": "县委", "branch": "支部", "formula": "按得分"}
NOMINATORS = {"branch": "支部推荐", "township": "创先办推荐", "county": "县推荐"}


async def _township(desk: Desk) -> str:
    return await township_of(desk, POSTS, REFUSAL)


@router.get("/selections")
async def selections(desk: Signed, page: Annotated[int, Query(ge=1, le=1000)] = 1) -> Response:
    return await _selections(desk, page)


async def _selections(
    desk: Desk,
    page: int = 1,
    *,
    refused: Refused | None = None,
    filled: dict[str, str] | None = None,
) -> Response:
    township_id = await _township(desk)
    listed = await desk.get(
        "evaluation", "/v1/selections", township_id=township_id, limit=20, offset=(page - 1) * 20
    )
    return desk.form_page(
        "selections.html",
        refused,
        filled or {"year": str(datetime.now(CHINA).year), "notice_days": "7"},
        selections=listed,
        page=page,
        pages=max(1, -(-listed["total"] // 20)),
    )


@router.post("/selections")
async def open_selection(desk: Signed) -> Response:
    """S1: the office opens the township's selection of its branches or members."""
    form = await desk.form()
    township_id = await _township(desk)
    body: dict[str, Any] = {
        "level": "township",
        "township_id": township_id,
        "title": form.get("title", ""),
        "year": number(form.get("year", "")),
        "subject_kind": form.get("subject_kind", ""),
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


async def nominees(desk: Desk, selection: dict[str, Any]) -> list[dict[str, str]]:
    """Whom this person may nominate: the township's branches or members (the office), the
    secretary's own branch or its members."""
    if selection["stages"] or desk.session.role == "township_committee":
        return []
    township = await desk.get("pledge", f"/v1/townships/{selection['township_id']}")
    branches = [b["branch_id"] for b in township["branches"]]
    if desk.session.role == "branch_secretary":
        branches = [b for b in branches if b == desk.session.org]
    if selection["subject_kind"] == "branch":
        return [
            {"id": b["branch_id"], "name": b["name"]}
            for b in township["branches"]
            if b["branch_id"] in branches
        ]
    found = []
    for branch_id in branches:
        branch = await desk.get("pledge", f"/v1/branches/{branch_id}")
        found += [
            {"id": m["member_id"], "name": f"{m['name']}（{branch['name']}）"}
            for m in branch["members"]
        ]
    return found


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
    path = f"/v1/selections/{selection_id}"
    selection = await desk.of_township(
        "evaluation", path, await _township(desk), "只能办理本乡镇的评选。"
    )
    names = {c["subject_id"]: c["subject_name"] for c in selection["candidates"]}
    return desk.form_page(
        "selection.html",
        refused,
        filled,
        s=selection,
        names=names,
        nominees=await nominees(desk, selection),
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
    """S3: an objection someone brought to the office in person (by letter, by telephone)."""
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
