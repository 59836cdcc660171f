"""Command handlers of mass evaluation rounds (E1–E5) and of the calendar (E4): load aggregates,
check who may act, let the aggregate decide, save.

Plain async functions; the unit of work is their only dependency. A ballot is saved through
a second unit of work on the same transaction whose context names no one (E3,
services/evaluation/handlers.py, `anonymous`).
"""

from __future__ import annotations

import secrets
from typing import Any

from services.evaluation import queries as d
from services.evaluation.access import voter_id
from services.evaluation.aggregates import tally
from services.evaluation.documents.ballots_xlsx import ballots_template as ballots_workbook
from services.evaluation.documents.ballots_xlsx import read_stack
from services.evaluation.documents.ballots_xlsx import sheets as ballot_sheets
from services.evaluation.documents.raters_xlsx import ROUND_RATERS, read_raters
from services.evaluation.handlers import (
    anonymous,
    describe_raters,
    due,
    register_rows,
    sealed_personal,
)
from services.evaluation.rounds import access
from services.evaluation.rounds import commands as c
from services.evaluation.rounds.aggregates import (
    BallotBox,
    EvaluationCalendar,
    NewRater,
    Round,
    check_grades,
)
from services.evaluation.rounds.events import (
    Channel,
    RaterKind,
    RoundOpened,
    Scale,
    Subject,
    SubjectKind,
)
from services.evaluation.voting import queries as voting_queries
from services.evaluation.voting.aggregates.urn import DEFAULT_BATCH
from services.evaluation.voting.handlers import empty_urn, into_urn
from shared import imports, zh
from shared.auth import Principal, county_admin, require
from shared.errors import InvalidInput
from shared.unit_of_work import UnitOfWork, accepted, new_id
from shared.workbook import read_upload, result_workbook

# --- calendar (E4) ----------------------------------------------------------------------


async def _calendar(uow: UnitOfWork, county_id: str, year: int) -> EvaluationCalendar:
    stream = EvaluationCalendar.stream_for(county_id, year)
    return await uow.load(EvaluationCalendar, stream) or EvaluationCalendar(stream, county_id)


async def set_calendar(
    uow: UnitOfWork, county_id: str, cmd: c.SetEvaluationCalendar, who: Principal
) -> dict[str, Any]:
    require(county_admin(who, county_id), "此操作由县管理员办理：请切换到县管理员身份。")
    calendar = await _calendar(uow, county_id, cmd.year)
    calendar.set(county_id, cmd.year, cmd.first_round_closes, cmd.second_round_closes)
    await uow.save(calendar)
    return accepted(county_id, uow)


# --- rounds (E1–E5) ---------------------------------------------------------------------


async def _subjects(uow: UnitOfWork, cmd: c.OpenRound) -> tuple[str, str, str, list[Subject]]:
    """(township, organiser kind, organiser id, subjects) from the directory copy (E2)."""
    if cmd.township_id is not None:
        township = await uow.port(d.reads).township(cmd.township_id)
        rows = await uow.port(d.reads).branches_of(cmd.township_id)
        found = [
            Subject(
                subject_kind=SubjectKind.BRANCH,
                subject_id=r["branch_id"],
                subject_name=r["name"],
                branch_id=r["branch_id"],
            )
            for r in rows
        ]
        place = (township["township_id"], "township", township["township_id"])
    else:
        assert cmd.branch_id is not None
        branch = await uow.port(d.reads).branch(cmd.branch_id)
        rows = await uow.port(d.reads).members_of(cmd.branch_id)
        found = [
            Subject(
                subject_kind=SubjectKind.MEMBER,
                subject_id=r["member_id"],
                subject_name=r["name"],
                branch_id=r["branch_id"],
            )
            for r in rows
        ]
        place = (branch["township_id"], "branch", branch["branch_id"])
    if cmd.subject_ids:
        by_id = {s.subject_id: s for s in found}
        for index, subject_id in enumerate(cmd.subject_ids):
            if subject_id not in by_id:
                raise InvalidInput(
                    f"{subject_id} 不归本组织者评议（E2）：请只选择本组织所属的对象。",
                    field=f"subject_ids.{index}",
                )
        found = [by_id[s] for s in dict.fromkeys(cmd.subject_ids)]
    return (*place, found)


def _scale(cmd: c.OpenRound, kind: SubjectKind) -> Scale:
    if cmd.custom_scale is not None:
        grades = tuple(g.value() for g in cmd.custom_scale.grades)
        return Scale(name=cmd.custom_scale.name, grades=grades)
    name = cmd.scale or (
        "public_satisfaction" if kind is SubjectKind.BRANCH else "member_appraisal"
    )
    return tally.DEFAULT_SCALES[name]


async def open_round(uow: UnitOfWork, cmd: c.OpenRound, who: Principal) -> dict[str, Any]:
    # who may organise is known from the command alone: refuse before reading the directory,
    # so nobody learns from the answer which branches exist
    asked = ("township", cmd.township_id) if cmd.township_id else ("branch", cmd.branch_id)
    require(
        access.organises(who, asked[0], str(asked[1])),
        "乡镇创先办组织对本镇支部的评议，支部书记组织对本支部党员的评议：请切换到相应身份。",
    )
    township_id, kind, organiser_id, subjects = await _subjects(uow, cmd)
    county_id = (await uow.port(d.reads).township(township_id))["county_id"]
    deadline = (await _calendar(uow, county_id, cmd.year)).closing_dates(cmd.year)[cmd.half - 1]
    closes_on = cmd.closes_on or deadline
    if cmd.closes_on is None and deadline < cmd.opens_on:
        raise InvalidInput(
            "评议须在全县评议日历规定的截止日期前结束（E4）："
            f"{cmd.year}年第{cmd.half}轮的截止日期 {zh.day(deadline)} 早于开始日期"
            f" {zh.day(cmd.opens_on)}，请把开始日期改到这一天或之前，"
            "或请县里在评议日历中把截止日期往后调。",
            field="opens_on",
        )
    if closes_on > deadline:
        raise InvalidInput(
            "评议须在全县评议日历规定的截止日期前结束（E4）："
            f"{cmd.year}年第{cmd.half}轮的截止日期是 {zh.day(deadline)}，"
            "请把结束日期改到这一天或之前。",
            field="closes_on",
        )
    subject_kind = SubjectKind.BRANCH if kind == "township" else SubjectKind.MEMBER
    standard = "five_good" if subject_kind is SubjectKind.BRANCH else "five_take_the_lead"
    round_ = Round.open(
        RoundOpened(
            round_id=new_id("r"),
            township_id=township_id,
            organiser_kind=kind,
            organiser_id=organiser_id,
            title=cmd.title,
            year=cmd.year,
            half=cmd.half,
            content=(standard, "pledge_fulfilment"),
            subjects=tuple(subjects),
            scale=_scale(cmd, subject_kind),
            opens_on=cmd.opens_on,
            closes_on=closes_on,
            held_with=cmd.held_with,
            urn_batch=cmd.urn_batch,
        )
    )
    await uow.save(round_)
    return accepted(round_.round_id, uow)


async def _round(uow: UnitOfWork, round_id: str) -> Round:
    return await uow.get(Round, f"round-{round_id}", "该评议")


async def register_raters(
    uow: UnitOfWork, round_id: str, cmd: c.RegisterRaters, who: Principal
) -> dict[str, Any]:
    round_ = await _round(uow, round_id)
    require(access.organiser_of(who, round_), "只有本轮评议的组织者可以登记评议人。")
    raters = []
    for index, entry in enumerate(cmd.raters):
        organisation = entry.organisation_id or round_.organiser_id
        rater_id = new_id("rt")
        if entry.member_id is not None:
            member = await uow.port(d.reads).member_in(
                entry.member_id, round_.township_id, f"raters.{index}.member_id"
            )
            if entry.kind is RaterKind.BRANCH_MEMBER and member["branch_id"] != round_.organiser_id:
                raise InvalidInput(
                    "支部党员只在本支部的评议中评议：请选择本支部的评议。",
                    field=f"raters.{index}.member_id",
                )
            rater_id, organisation = entry.member_id, entry.organisation_id or member["branch_id"]
        sealed = await sealed_personal(uow, rater_id, entry, f"raters.{index}")
        raters.append(NewRater(rater_id, entry.kind, organisation, entry.member_id, sealed))
    round_.register(raters)
    await uow.save(round_)
    return accepted(round_id, uow, rater_ids=[r.rater_id for r in raters])


RATERS_IMPORT = "round_raters"


def _rater_rows(round_id: str, who: Principal) -> imports.Execute:
    async def execute(u: UnitOfWork, parts: list[Any]) -> None:
        async def register(entries: list[Any]) -> Any:
            return await register_raters(u, round_id, c.RegisterRaters(raters=entries), who)

        await register_rows(register, parts, ROUND_RATERS.name, 500)

    return execute


async def upload_raters(
    uow: UnitOfWork, round_id: str, data: bytes, file_name: str, who: Principal
) -> dict[str, Any]:
    """A round's raters from a workbook: checked, previewed (nothing appended)."""
    round_ = await _round(uow, round_id)
    require(access.organiser_of(who, round_), "只有本轮评议的组织者可以登记评议人。")
    return await imports.upload_commands(
        uow,
        kind=RATERS_IMPORT,
        scope_id=round_id,
        data=data,
        file_name=file_name,
        importer=who.subject,
        sheets=[ROUND_RATERS],
        check=lambda rows: read_raters(rows, served=False),
        execute=_rater_rows(round_id, who),
        describe=describe_raters,
    )


async def confirm_raters(uow: UnitOfWork, import_id: str, who: Principal) -> dict[str, Any]:
    """Register a previewed rater list, all or nothing; its file (personal data) dropped."""
    record = await imports.get(uow.conn, import_id)
    return await imports.confirm_commands(
        uow,
        import_id,
        who.subject,
        kinds=[RATERS_IMPORT],
        sheets=[ROUND_RATERS],
        check=lambda rows: read_raters(rows, served=False),
        execute=_rater_rows(record.scope_id, who),
        personal=True,
    )


BALLOTS_IMPORTS = {Channel.PAPER: "paper_ballots", Channel.ON_SITE: "on_site_ballots"}


def _stack(round_id: str, channel: Channel, who: Principal) -> imports.Execute:
    async def execute(u: UnitOfWork, parts: list[Any]) -> None:
        for participants, ballots in parts:  # one stack, entered 500 at a time (the limit)
            for start in range(0, len(ballots), 500):
                cmd = c.EnterPaperBallots(
                    channel=channel,
                    participants=participants[start : start + 500],
                    ballots=ballots[start : start + 500],
                )
                await enter_paper_ballots(u, round_id, cmd, who)

    return execute


def _counted(parts: list[Any]) -> dict[str, int]:
    return {"ballots": sum(len(ballots) for _, ballots in parts)}


async def upload_ballots(
    uow: UnitOfWork,
    round_id: str,
    channel: Channel,
    data: bytes,
    file_name: str,
    who: Principal,
) -> dict[str, Any]:
    """A stack of paper (or on-site) ballots with its sign-in sheet, from the round's own
    workbook: checked, previewed (nothing appended)."""
    round_ = await _round(uow, round_id)
    require(access.organiser_of(who, round_), "只有本轮评议的组织者可以录入纸质选票。")
    return await imports.upload_commands(
        uow,
        kind=BALLOTS_IMPORTS[channel],
        scope_id=round_id,
        data=data,
        file_name=file_name,
        importer=who.subject,
        sheets=ballot_sheets(round_),
        check=lambda rows: read_stack(round_, rows),
        execute=_stack(round_id, channel, who),
        describe=lambda events: [{"event": e.type, "text": "签到参评"} for e in events],
        counted=_counted,
    )


async def ballots_template(uow: UnitOfWork, round_id: str, who: Principal) -> bytes:
    """The round's stack workbook: its raters yet to vote on the sign-in sheet, its subjects
    and scale on the ballots sheet."""
    round_ = await _round(uow, round_id)
    require(access.organiser_of(who, round_), "只有本轮评议的组织者可以录入纸质选票。")
    return ballots_workbook(round_)


async def ballots_result(uow: UnitOfWork, import_id: str, who: Principal) -> bytes:
    """A stack's rows as uploaded, each with an error column."""
    record = await imports.get(uow.conn, import_id)
    if record.importer != who.subject or record.kind not in BALLOTS_IMPORTS.values():
        raise InvalidInput("这不是您导入的一批选票：请重新上传选票文件。", field="import_id")
    sheets = ballot_sheets(await _round(uow, record.scope_id))
    rows = read_upload(await imports.file_of(uow.conn, import_id), sheets)
    return result_workbook(sheets, rows, [imports.row_error(e) for e in record.errors])


async def confirm_ballots(uow: UnitOfWork, import_id: str, who: Principal) -> dict[str, Any]:
    """Enter a previewed stack, all or nothing (ballots shuffled, apart from the sheet)."""
    record = await imports.get(uow.conn, import_id)
    channel = {v: k for k, v in BALLOTS_IMPORTS.items()}[record.kind]
    round_ = await _round(uow, record.scope_id)
    return await imports.confirm_commands(
        uow,
        import_id,
        who.subject,
        kinds=list(BALLOTS_IMPORTS.values()),
        sheets=ballot_sheets(round_),
        check=lambda rows: read_stack(round_, rows),
        execute=_stack(record.scope_id, channel, who),
    )


async def cast_ballot(
    uow: UnitOfWork, round_id: str, cmd: c.CastBallot, who: Principal, batch: int = DEFAULT_BATCH
) -> dict[str, Any]:
    """A web ballot: the participation now, the ballot into the urn, appended with others in
    a shuffled batch of at least `batch` (voting/handlers.py)."""
    await uow.port(voting_queries.voting).lock(round_id)
    round_ = await _round(uow, round_id)
    rater_id = voter_id(who, round_id)
    check_grades(round_.the_scale, cmd.grades, set(round_.subjects), "grades")
    round_.participate(rater_id, list(cmd.grades), Channel.WEB, uow.today())
    await uow.save(round_)
    await into_urn(uow, round_, dict(cmd.grades), batch)
    return {"id": round_id, "events": [e.type for e in uow.appended]}


async def enter_paper_ballots(
    uow: UnitOfWork, round_id: str, cmd: c.EnterPaperBallots, who: Principal
) -> dict[str, Any]:
    round_ = await _round(uow, round_id)
    require(access.organiser_of(who, round_), "只有本轮评议的组织者可以录入纸质选票。")
    subject_ids = list(cmd.ballots[0])
    for index, grades in enumerate(cmd.ballots):
        if set(grades) != set(subject_ids):
            raise InvalidInput(
                "同一批选票须评相同的对象：请把评不同对象的选票分开录入。", field="ballots"
            )
        check_grades(round_.the_scale, grades, set(round_.subjects), f"ballots.{index}")
    for index, rater_id in enumerate(cmd.participants):
        if rater_id not in round_.raters:
            raise InvalidInput(
                f"评议人 {rater_id} 未登记：请先登记评议人，再录入选票。",
                field=f"participants.{index}",
            )
        round_.participate(rater_id, subject_ids, cmd.channel, uow.today(), who.subject)
    await uow.save(round_)
    box = await uow.load(BallotBox, f"ballot_box-{round_id}") or BallotBox.for_round(round_)
    ballots = list(cmd.ballots)
    secrets.SystemRandom().shuffle(ballots)  # the stack's order says nothing about the sheet
    for grades in ballots:
        box.cast(round_, secrets.token_urlsafe(24), dict(grades))
    ballot = anonymous(uow)
    await ballot.save(box)
    return {"id": round_id, "events": [e.type for e in uow.appended + ballot.appended]}


async def close_round(uow: UnitOfWork, round_id: str, who: Principal) -> dict[str, Any]:
    round_ = await _round(uow, round_id)
    require(access.organiser_of(who, round_), "只有本轮评议的组织者可以结束评议。")
    box = await empty_urn(uow, round_) or BallotBox.for_round(round_)
    assert isinstance(box, BallotBox)
    round_.close(box, uow.today())
    await uow.save(round_)
    return accepted(round_id, uow)


async def close_due_rounds(uow: UnitOfWork, township_id: str, who: Principal) -> dict[str, Any]:
    """Close the township's rounds whose window has ended (E4): results are published as when
    the organiser closes, and the scheduled pass's envelope names it, not a person."""
    closed = await due(uow, township_id, who, "rounds")
    for round_id in closed:
        round_ = await _round(uow, round_id)
        box = await empty_urn(uow, round_) or BallotBox.for_round(round_)
        assert isinstance(box, BallotBox)
        round_.close_at_window_end(box, uow.today())
        await uow.save(round_)
    return accepted(township_id, uow, closed=closed)
