"""Command handlers of the satisfaction check of a pledge item (E8, P10c). Same shape as the
rounds' handlers."""

from __future__ import annotations

from typing import Any

from services.evaluation import queries as d
from services.evaluation.access import voter_id
from services.evaluation.checks import access
from services.evaluation.checks import commands as c
from services.evaluation.checks.aggregates import CheckBallots, CheckTerms, SatisfactionCheck
from services.evaluation.documents.raters_xlsx import SERVED, read_raters
from services.evaluation.handlers import describe_raters, due, register_rows, sealed_personal
from services.evaluation.rounds.events import Channel, Sealed
from services.evaluation.voting import queries as voting_queries
from services.evaluation.voting.aggregates.urn import DEFAULT_BATCH
from services.evaluation.voting.handlers import empty_urn, into_urn
from shared import imports
from shared.auth import Principal, county_admin, require
from shared.errors import InvalidInput
from shared.unit_of_work import UnitOfWork, accepted, new_id


async def _check(uow: UnitOfWork, check_id: str) -> SatisfactionCheck:
    return await uow.get(SatisfactionCheck, f"satisfaction_check-{check_id}", "该满意度测评")


def _office(who: Principal, check: SatisfactionCheck, what: str) -> None:
    require(access.office_of(who, check), f"只有乡镇创先办{what}。")


async def register_served(
    uow: UnitOfWork, check_id: str, cmd: c.RegisterServed, who: Principal
) -> dict[str, Any]:
    check = await _check(uow, check_id)
    _office(who, check, "可以登记该事项的服务对象")
    raters: list[tuple[str, str | None, Sealed | None]] = []
    for index, person in enumerate(cmd.raters):
        rater_id = person.member_id or new_id("rt")
        if person.member_id is not None:
            await uow.port(d.reads).member_in(
                person.member_id, check.township_id, f"raters.{index}"
            )
        sealed = await sealed_personal(uow, rater_id, person, f"raters.{index}")
        raters.append((rater_id, person.member_id, sealed))
    check.register(raters)
    await uow.save(check)
    return accepted(check_id, uow, rater_ids=[r for r, _, _ in raters])


SERVED_IMPORT = "check_raters"


def _served_rows(check_id: str, who: Principal) -> imports.Execute:
    async def execute(u: UnitOfWork, parts: list[Any]) -> None:
        async def register(people: list[Any]) -> Any:
            return await register_served(u, check_id, c.RegisterServed(raters=people), who)

        await register_rows(register, parts, SERVED.name, 200)

    return execute


async def upload_served(
    uow: UnitOfWork, check_id: str, data: bytes, file_name: str, who: Principal
) -> dict[str, Any]:
    """The people an item served, from a workbook: checked, previewed (nothing appended)."""
    check = await _check(uow, check_id)
    _office(who, check, "可以登记该事项的服务对象")
    return await imports.upload_commands(
        uow,
        kind=SERVED_IMPORT,
        scope_id=check_id,
        data=data,
        file_name=file_name,
        importer=who.subject,
        sheets=[SERVED],
        check=lambda rows: read_raters(rows, served=True),
        execute=_served_rows(check_id, who),
        describe=describe_raters,
    )


async def confirm_served(uow: UnitOfWork, import_id: str, who: Principal) -> dict[str, Any]:
    record = await imports.get(uow.conn, import_id)
    return await imports.confirm_commands(
        uow,
        import_id,
        who.subject,
        kinds=[SERVED_IMPORT],
        sheets=[SERVED],
        check=lambda rows: read_raters(rows, served=True),
        execute=_served_rows(record.scope_id, who),
        personal=True,
    )


async def cast_check_ballot(
    uow: UnitOfWork, check_id: str, cmd: c.CheckBallot, who: Principal, batch: int = DEFAULT_BATCH
) -> dict[str, Any]:
    """The participation now; the ballot (web or a paper one entered alone) into the urn,
    appended with others in a shuffled batch (voting/handlers.py)."""
    await uow.port(voting_queries.voting).lock(check_id)
    check = await _check(uow, check_id)
    if cmd.channel is Channel.WEB:
        if cmd.rater_id is not None:
            raise InvalidInput(
                "网上投票须由评议人本人进行：请让评议人用自己的邀请码投票。", field="rater_id"
            )
        rater_id, entered_by = voter_id(who, check_id), None
    else:
        _office(who, check, "可以录入纸质选票和现场投票")
        if cmd.rater_id is None:
            raise InvalidInput("请填写这张纸质选票的评议人。", field="rater_id")
        if cmd.rater_id not in check.raters:
            raise InvalidInput(
                f"评议人 {cmd.rater_id} 未登记：请先登记评议人，再录入选票。", field="rater_id"
            )
        rater_id, entered_by = cmd.rater_id, who.subject
    check.participate(rater_id, cmd.grade, cmd.channel, uow.today(), entered_by)
    await uow.save(check)
    await into_urn(uow, check, {"item": cmd.grade}, batch)
    return {"id": check_id, "events": [e.type for e in uow.appended]}


async def close_check(uow: UnitOfWork, check_id: str, who: Principal) -> dict[str, Any]:
    check = await _check(uow, check_id)
    _office(who, check, "可以结束满意度测评")
    box = await empty_urn(uow, check) or CheckBallots.for_check(check)
    assert isinstance(box, CheckBallots)
    verdict = check.close(box)
    await uow.save(check)
    return accepted(check_id, uow, verdict=verdict.value if verdict else None)


async def extend_check(
    uow: UnitOfWork, check_id: str, cmd: c.ExtendCheck, who: Principal
) -> dict[str, Any]:
    """The office extends a check, or reopens one that lapsed with no ballot (E8)."""
    check = await _check(uow, check_id)
    _office(who, check, "可以延长或重新开启满意度测评")
    check.extend(cmd.closes_on, uow.today())
    await uow.save(check)
    return accepted(check_id, uow)


async def terms_for(uow: UnitOfWork, county_id: str, year: int) -> CheckTerms:
    stream = CheckTerms.stream_for(county_id, year)
    return await uow.load(CheckTerms, stream) or CheckTerms(stream, county_id)


async def set_check_terms(
    uow: UnitOfWork, county_id: str, cmd: c.SetCheckTerms, who: Principal
) -> dict[str, Any]:
    """The county's threshold and window for the year's checks (data, not constants)."""
    require(county_admin(who, county_id), "此操作由县管理员办理：请切换到县管理员身份。")
    terms = await terms_for(uow, county_id, cmd.year)
    terms.set(county_id, cmd.year, cmd.threshold, cmd.window_days)
    await uow.save(terms)
    return accepted(county_id, uow)


async def close_due_checks(uow: UnitOfWork, township_id: str, who: Principal) -> dict[str, Any]:
    """Close every open check of the township whose window has ended by the clock's today
    (run by the office, or a scheduler acting for it): the verdict follows the ballots in; a
    check with no ballot lapses, with no verdict."""
    verdicts = {}
    for check_id in await due(uow, township_id, who, "checks"):
        check = await _check(uow, check_id)
        box = await empty_urn(uow, check) or CheckBallots.for_check(check)
        assert isinstance(box, CheckBallots)
        verdict = check.close(box)
        verdicts[check.check_id] = verdict.value if verdict else "lapsed"  # no ballot
        await uow.save(check)
    return accepted(township_id, uow, verdicts=verdicts)
