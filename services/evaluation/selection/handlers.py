"""Command handlers of the annual selection (S1–S3). Same shape as the rounds' handlers."""

from __future__ import annotations

from contextlib import suppress
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
    Decision,
    Formula,
    Level,
    ReviewsMeasure,
    SelectionOpened,
    WhenMissing,
    Window,
)
from shared import zh
from shared.auth import Principal, Role, county_admin, require, township_office
from shared.errors import InvalidInput, NotFound
from shared.unit_of_work import UnitOfWork, accepted, new_id


async def _selection(uow: UnitOfWork, selection_id: str) -> Selection:
    return await uow.get(Selection, f"selection-{selection_id}", "该评选")


# who holds a selection, as a refusal names it
LEVELS = {"township": "乡镇", "county": "县", "branch": "支部"}


# who organises a selection of each level (access.runs), as a refusal names them
ORGANISERS = {"township": "乡镇创先办", "county": "县管理员", "branch": "支部书记"}


def _organiser(who: Principal, selection: Selection, what: str) -> None:
    organiser = ORGANISERS.get(str(selection.level), "评选的组织者")
    require(access.runs(who, selection), f"只有本评选的组织者（{organiser}）{what}。")


async def _organisation(
    uow: UnitOfWork, cmd: c.OpenSelection, who: Principal
) -> tuple[Level, str, str]:
    """The level, the township (for a county selection, the county) and the organisation
    holding it; who opens it is checked before anything is read."""
    level = Level(cmd.level)
    named = {Level.TOWNSHIP: cmd.township_id, Level.COUNTY: cmd.county_id}
    named[Level.BRANCH] = cmd.branch_id
    organisation = named[level]
    if organisation is None:
        raise InvalidInput(f"请填写举办评选的{LEVELS[level.value]}。", field=f"{level}_id")
    for other, given in named.items():
        if other is not level and given is not None:
            raise InvalidInput(
                f"{LEVELS[level.value]}级评选只填写本{LEVELS[level.value]}：请删去其他组织。",
                field=f"{other}_id",
            )
    if level is Level.COUNTY:
        require(county_admin(who, organisation), "县级评选由县管理员组织：请切换到县管理员身份。")
        if not await uow.port(q.inputs).county_townships(organisation):
            raise NotFound("没有找到该县（本服务的名册副本中还没有）：请稍后再试。")
        return level, organisation, organisation
    if level is Level.BRANCH:
        require(
            branch_secretary(who, organisation), "支部的评选由支部书记组织：请切换到支部书记身份。"
        )
        branch = await uow.port(d.reads).branch(organisation)
        return level, branch["township_id"], organisation
    await uow.port(d.reads).township(organisation)
    require(township_office(who, organisation), "乡镇的评选由乡镇创先办组织：请切换到创先办身份。")
    return level, organisation, organisation


async def open_selection(uow: UnitOfWork, cmd: c.OpenSelection, who: Principal) -> dict[str, Any]:
    level, township_id, organisation = await _organisation(uow, cmd, who)
    kind = SubjectKind(cmd.subject_kind)
    selection_id = Selection.id_for(organisation, cmd.year, kind, level)
    selection = Selection.open(
        SelectionOpened(
            selection_id=selection_id,
            township_id=township_id,
            year=cmd.year,
            title=cmd.title,
            subject_kind=kind,
            notice_days=cmd.notice_days,
            commendation_on=cmd.commendation_on or date(cmd.year, 7, 1),
            opened_on=uow.today(),
            level=level,
            organisation_id=None if level is Level.TOWNSHIP else organisation,
        ),
        held=await uow.load(Selection, f"selection-{selection_id}"),
    )
    await uow.save(selection)
    return accepted(selection.selection_id, uow)


async def declare_formula(
    uow: UnitOfWork, selection_id: str, cmd: c.DeclareFormula, who: Principal
) -> dict[str, Any]:
    selection = await _selection(uow, selection_id)
    _organiser(who, selection, "可以声明评选办法")
    if (cmd.window_starts_on is None) != (cmd.window_ends_on is None):
        field = "window_ends_on" if cmd.window_ends_on is None else "window_starts_on"
        raise InvalidInput("请同时填写数据期间的第一天和最后一天，或都不填。", field=field)
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
    """S2: nominations come up from below: in a township's selection from the branches
    (their secretaries) or the township office; in a branch's, the secretary for the branch;
    in the county's, from the townships' winners of the year, by their office or the county."""
    selection = await _selection(uow, selection_id)
    if selection.level is Level.COUNTY:
        winners = await uow.port(q.inputs).township_winners(
            selection.organisation_id, selection.year, selection.subject_kind
        )
        winner = winners.get(cmd.subject_id)
        if winner is None:
            raise InvalidInput(
                f"该对象不在各乡镇{selection.year}年表彰的{zh.label(selection.subject_kind.value)}中：请从乡镇表彰名单中推荐。",
                field="subject_id",
            )
        branch_id, name = winner["branch_id"], winner["subject_name"]
        if township_office(who, winner["township_id"]):
            by = "township"
        else:
            _organiser(who, selection, "（或获奖对象所在乡镇的创先办）可以推荐")
            by = "county"
        selection.nominate(Candidate(cmd.subject_id, name, branch_id, by, cmd.reason))
        await uow.save(selection)
        return accepted(selection_id, uow)
    if selection.subject_kind is SubjectKind.BRANCH:
        row = await uow.port(d.reads).branch(cmd.subject_id)
        branch_id, name = row["branch_id"], row["name"]
    else:
        row = await uow.port(d.reads).member_in(cmd.subject_id, selection.township_id, "subject_id")
        branch_id, name = row["branch_id"], row["name"]
    if row["township_id"] != selection.township_id:
        raise InvalidInput("该对象不属于本乡镇：请从本乡镇推荐。", field="subject_id")
    if selection.level is Level.BRANCH and branch_id != selection.organisation_id:
        raise InvalidInput("该党员不属于本支部：请从本支部推荐。", field="subject_id")
    if branch_secretary(who, branch_id):
        by = "branch"
    else:
        _organiser(who, selection, "（或该党员所在支部的书记）可以推荐")
        by = "township"
    selection.nominate(Candidate(cmd.subject_id, name, branch_id, by, cmd.reason))
    await uow.save(selection)
    return accepted(selection_id, uow)


async def score_stage(uow: UnitOfWork, selection_id: str, who: Principal) -> dict[str, Any]:
    selection = await _selection(uow, selection_id)
    _organiser(who, selection, "可以为一轮计分")
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
    require(
        access.decides(who, selection),
        "每一轮由该轮指定的组织决定：乡镇党委（县级评选为县，支部评选为支部）。请切换到相应身份。",
    )
    decisions = [
        Decision(subject_id=d.subject_id, advanced=d.advanced, reason=d.reason)
        for d in cmd.decisions
    ]
    selection.decide(stage, selection.body, decisions, uow.today())
    await uow.save(selection)
    return accepted(selection_id, uow, advanced=len(selection.state.stages[-1]))


async def post_notice(uow: UnitOfWork, selection_id: str, who: Principal) -> dict[str, Any]:
    selection = await _selection(uow, selection_id)
    _organiser(who, selection, "可以发布公示")
    selection.post_notice(uow.today())
    await uow.save(selection)
    return accepted(selection_id, uow)


async def file_objection(
    uow: UnitOfWork, selection_id: str, cmd: c.FileObjection, who: Principal
) -> dict[str, Any]:
    selection = await _selection(uow, selection_id)
    require(access.objects(who), "审计员和外部系统只能查看，不能提出异议。")
    reads = uow.port(d.reads)
    home = await reads.home_township(who)
    if selection.level is Level.COUNTY:
        if who.role in (Role.TOWNSHIP_OFFICE, Role.TOWNSHIP_COMMITTEE):
            home = who.org
        home_county = None
        if home is not None:
            with suppress(NotFound):
                home_county = (await reads.township(home))["county_id"]
        require(
            access.of_county(who, selection.organisation_id, home_county),
            "县级评选的异议由本县群众、各乡镇和县里提出。",
        )
    else:
        township = await reads.township(selection.township_id)
        require(
            access.of_township(who, selection.township_id, township["county_id"], home),
            "异议由本乡镇群众、乡镇创先办和上级县里提出。",
        )
    objection_id = new_id("o")
    # the office records objections from people who come in person (S3)
    in_person = access.runs(who, selection)
    # a county selection's objection names the township filing it (its committee or office,
    # or the township of the branch secretary or member)
    named = home if selection.level is Level.COUNTY and not in_person else None
    selection.file_objection(
        objection_id, cmd.subject_id, cmd.summary, uow.today(), in_person, named
    )
    await uow.save(selection)
    return accepted(selection_id, uow, objection_id=objection_id)


async def answer_objection(
    uow: UnitOfWork, selection_id: str, objection_id: str, cmd: c.AnswerObjection, who: Principal
) -> dict[str, Any]:
    selection = await _selection(uow, selection_id)
    require(
        access.answers_objections(who, selection),
        "异议由决定的组织或评选的组织者答复（乡镇党委或创先办）：请切换到相应身份。",
    )
    selection.answer(objection_id, cmd.answer, cmd.upheld)
    await uow.save(selection)
    return accepted(selection_id, uow)


async def issue_commendation(uow: UnitOfWork, selection_id: str, who: Principal) -> dict[str, Any]:
    selection = await _selection(uow, selection_id)
    require(access.decides(who, selection), "表彰由乡镇党委发布：请切换到乡镇党委身份。")
    selection.issue(uow.today())
    await uow.save(selection)
    return accepted(selection_id, uow)
