"""Command handlers of the annual selection (S1–S3). Same shape as the rounds' handlers."""

from __future__ import annotations

from datetime import date
from typing import Any

from services.evaluation import queries as d
from services.evaluation.access import branch_secretary
from services.evaluation.rounds.events import SubjectKind
from services.evaluation.selection import access
from services.evaluation.selection import commands as c
from services.evaluation.selection import queries as q
from services.evaluation.selection.aggregates import (
    REVIEW_POINTS,
    Candidate,
    Selection,
    default_window,
)
from services.evaluation.selection.events import (
    Body,
    Decision,
    Formula,
    ReviewsMeasure,
    SelectionOpened,
    WhenMissing,
    Window,
)
from shared.auth import Principal, require, township_office
from shared.errors import InvalidInput
from shared.unit_of_work import UnitOfWork, accepted, new_id


async def _selection(uow: UnitOfWork, selection_id: str) -> Selection:
    return await uow.get(Selection, f"selection-{selection_id}", "selection")


def _organiser(who: Principal, selection: Selection, what: str) -> None:
    require(access.runs(who, selection), f"only the township office {what}")


async def open_selection(uow: UnitOfWork, cmd: c.OpenSelection, who: Principal) -> dict[str, Any]:
    await uow.port(d.reads).township(cmd.township_id)
    require(township_office(who, cmd.township_id), "the township office runs its selection")
    kind = SubjectKind(cmd.subject_kind)
    selection_id = Selection.id_for(cmd.township_id, cmd.year, kind)
    selection = Selection.open(
        SelectionOpened(
            selection_id=selection_id,
            township_id=cmd.township_id,
            year=cmd.year,
            title=cmd.title,
            subject_kind=kind,
            notice_days=cmd.notice_days,
            commendation_on=cmd.commendation_on or date(cmd.year, 7, 1),
            opened_on=uow.today(),
        ),
        held=await uow.load(Selection, f"selection-{selection_id}"),
    )
    await uow.save(selection)
    return accepted(selection.selection_id, uow)


async def declare_formula(
    uow: UnitOfWork, selection_id: str, cmd: c.DeclareFormula, who: Principal
) -> dict[str, Any]:
    selection = await _selection(uow, selection_id)
    _organiser(who, selection, "declares the formula")
    if (cmd.window_starts_on is None) != (cmd.window_ends_on is None):
        field = "window_ends_on" if cmd.window_ends_on is None else "window_starts_on"
        raise InvalidInput("give the data window's first and last day, or neither", field=field)
    if cmd.window_starts_on is not None and cmd.window_ends_on is not None:
        window = Window(starts_on=cmd.window_starts_on, ends_on=cmd.window_ends_on)
    else:
        window = default_window(selection.opened_on or uow.today())
    formula = Formula.model_validate(
        {
            "version": 0,
            "weights": cmd.weights,
            "when_missing": WhenMissing(cmd.when_missing),
            "quotas": cmd.quotas,
            "reviews": {
                "measure": ReviewsMeasure.GRADES,
                "points": cmd.review_points or REVIEW_POINTS,
            },
            "window": window,
        }
    )
    selection.declare(formula)
    await uow.save(selection)
    return accepted(selection_id, uow, version=selection.the_formula.version)


async def nominate(
    uow: UnitOfWork, selection_id: str, cmd: c.Nominate, who: Principal
) -> dict[str, Any]:
    """S2: nominations come up from the branches (their secretaries), or the township."""
    selection = await _selection(uow, selection_id)
    if selection.subject_kind is SubjectKind.BRANCH:
        row = await uow.port(d.reads).branch(cmd.subject_id)
        branch_id, name = row["branch_id"], row["name"]
    else:
        row = await uow.port(d.reads).member_in(cmd.subject_id, selection.township_id, "subject_id")
        branch_id, name = row["branch_id"], row["name"]
    if row["township_id"] != selection.township_id:
        raise InvalidInput("not of this township", field="subject_id")
    if branch_secretary(who, branch_id):
        by = "branch"
    else:
        _organiser(who, selection, "or the subject's branch secretary nominates")
        by = "township"
    selection.nominate(Candidate(cmd.subject_id, name, branch_id, by, cmd.reason))
    await uow.save(selection)
    return accepted(selection_id, uow)


async def score_stage(uow: UnitOfWork, selection_id: str, who: Principal) -> dict[str, Any]:
    selection = await _selection(uow, selection_id)
    _organiser(who, selection, "scores a stage")
    reads = uow.port(q.inputs)
    inputs = {
        candidate.subject_id: await reads.inputs_for(
            candidate.subject_id, selection.year, selection.the_formula
        )
        for candidate in selection.in_the_running()
    }
    selection.score_stage(inputs, uow.today())
    await uow.save(selection)
    return accepted(selection_id, uow, stage=len(selection.state.stages))


async def decide_stage(
    uow: UnitOfWork, selection_id: str, stage: int, cmd: c.DecideStage, who: Principal
) -> dict[str, Any]:
    """S2: the body the stage names decides each candidate, with its reason."""
    selection = await _selection(uow, selection_id)
    require(access.decides(who, selection), "the township committee decides the stage")
    decisions = [
        Decision(subject_id=d.subject_id, advanced=d.advanced, reason=d.reason)
        for d in cmd.decisions
    ]
    selection.decide(stage, Body.TOWNSHIP_COMMITTEE, decisions, uow.today())
    await uow.save(selection)
    return accepted(selection_id, uow, advanced=len(selection.state.stages[-1]))


async def post_notice(uow: UnitOfWork, selection_id: str, who: Principal) -> dict[str, Any]:
    selection = await _selection(uow, selection_id)
    _organiser(who, selection, "posts the public notice")
    selection.post_notice(uow.today())
    await uow.save(selection)
    return accepted(selection_id, uow)


async def file_objection(
    uow: UnitOfWork, selection_id: str, cmd: c.FileObjection, who: Principal
) -> dict[str, Any]:
    selection = await _selection(uow, selection_id)
    require(access.objects(who), "auditors and integrations read; they do not object")
    township = await uow.port(d.reads).township(selection.township_id)
    home = await uow.port(d.reads).home_township(who)
    require(
        access.of_township(who, selection.township_id, township["county_id"], home),
        "objections come from the township's people, its office and the county above it",
    )
    objection_id = new_id("o")
    # the office records objections from people who come in person (S3)
    in_person = access.runs(who, selection)
    selection.file_objection(objection_id, cmd.subject_id, cmd.summary, uow.today(), in_person)
    await uow.save(selection)
    return accepted(selection_id, uow, objection_id=objection_id)


async def answer_objection(
    uow: UnitOfWork, selection_id: str, objection_id: str, cmd: c.AnswerObjection, who: Principal
) -> dict[str, Any]:
    selection = await _selection(uow, selection_id)
    require(
        access.answers_objections(who, selection),
        "the township committee or its office answers objections",
    )
    selection.answer(objection_id, cmd.answer, cmd.upheld)
    await uow.save(selection)
    return accepted(selection_id, uow)


async def issue_commendation(uow: UnitOfWork, selection_id: str, who: Principal) -> dict[str, Any]:
    selection = await _selection(uow, selection_id)
    require(access.decides(who, selection), "the township committee issues the commendation")
    selection.issue(uow.today())
    await uow.save(selection)
    return accepted(selection_id, uow)
