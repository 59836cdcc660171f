"""Command handlers the service's areas share: the anonymous unit of work a ballot is saved
through (E3), a member of the public's personal data sealed (A7), what is due to close (E4,
E8), and the erasure of a person's personal data (A7).

Plain async functions; the unit of work is their only dependency, and they read through its
ports (`queries.reads`, `queries.keys`), never its connection. A ballot is saved through
a second unit of work on the same transaction whose context names no one (E3): the envelope's
actor and correlation id would otherwise tie it to the rater. See docs/ballot-secrecy.md.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from services.evaluation import access
from services.evaluation import queries as d
from services.evaluation.aggregates import Person
from services.evaluation.commands import PersonalData
from services.evaluation.rounds.events import Sealed
from shared.auth import Principal, require, township_office
from shared.envelope import EventEnvelope
from shared.errors import InvalidInput, NotFound
from shared.eventstore.base import CommandContext
from shared.unit_of_work import UnitOfWork, accepted
from shared.workbook import RowError, RowRefused


def anonymous(uow: UnitOfWork) -> UnitOfWork:
    """The same transaction, under a context that names no one and correlates with nothing."""
    context = CommandContext(actor="anonymous", role="rater", correlation_id=str(uuid.uuid4()))
    return UnitOfWork(uow.database, uow.store, uow.registry, uow.project, context, ports=uow.ports)


async def sealed_personal(
    uow: UnitOfWork, person_id: str, entry: PersonalData, where: str
) -> Sealed | None:
    """A member of the public's personal data, sealed with their own new key: the only form
    in which it enters the log (A7). A member's personal data is the directory's."""
    personal = entry.personal()
    if personal and entry.member_id is not None:
        raise InvalidInput(
            "只有党员名册以外的人员才在此登记个人信息（A7）：党员请从名册中选择。",
            field=f"{where}.{next(iter(personal))}",
        )
    return (
        Sealed.model_validate(await uow.port(d.keys).seal(person_id, personal))
        if personal
        else None
    )


# the tables of what falls due, as a refusal names them
DUE = {"rounds": "评议", "checks": "满意度测评"}


async def due(uow: UnitOfWork, township_id: str, who: Principal, table: str) -> list[str]:
    """The township's open rounds or checks whose window ended before the clock's today, for
    its office or the service's scheduled pass acting for it (E4, E8)."""
    reads = uow.port(d.reads)
    await reads.township(township_id)
    require(
        township_office(who, township_id), f"只有乡镇创先办可以结束到期的{DUE.get(table, table)}。"
    )
    return await reads.due(township_id, table, uow.today())


# --- erasure of personal data (A7) -------------------------------------------------------


async def erase_person(uow: UnitOfWork, person_id: str, who: Principal) -> dict[str, Any]:
    """Destroy a member of the public's key and record it: every read model then shows them
    erased, and so does any rebuild or replay; the log's bytes and hashes stay as they were."""
    require(access.erases(who), "只有县管理员、审计员或乡镇创先办可以删除个人信息。")
    reads = uow.port(d.reads)
    township_id = await reads.public_person_township(person_id)
    if township_id is None:
        raise NotFound("没有找到以此编号登记的群众：请核对编号。", person_id=person_id)
    county_id = (await reads.township(township_id))["county_id"]
    require(
        access.erases_in(who, county_id, township_id),
        "只有该人员所在县的管理员、审计员或登记该人员的乡镇创先办可以办理。",
    )
    stream = f"person-{person_id}"
    person = await uow.load(Person, stream) or Person(stream, township_id)
    person.erase(person_id)
    await uow.port(d.keys).erase(person_id)  # and past states built for `as_of` reads
    await uow.save(person)
    return accepted(person_id, uow)


# --- rater lists from workbooks (issue 19) -------------------------------------------------


async def register_rows(
    register: Callable[[list[Any]], Awaitable[Any]],
    parts: list[tuple[int, Any]],
    sheet: str,
    chunk: int,
) -> None:
    """Register a workbook's raters through the owning command, `chunk` at a time (its
    limit), in the caller's transaction; a row it refuses is named by its row number."""
    for start in range(0, len(parts), chunk):
        rows = parts[start : start + chunk]
        try:
            await register([part for _, part in rows])
        except InvalidInput as refused:
            field = str((refused.extra.get("errors") or [{}])[0].get("field") or "")
            index = field.split(".")[1] if field.startswith("raters.") else ""
            if not index.isdigit():
                raise
            column = {"member_id": "党员编号", "organisation_id": "单位编号"}.get(
                field.rpartition(".")[2], "姓名"
            )
            reason = "不是本乡镇（本支部）在册党员，或编号有误"
            raise RowRefused(RowError(sheet, rows[int(index)][0], column, reason)) from None


def describe_raters(events: list[EventEnvelope]) -> list[dict[str, Any]]:
    """A preview's lines: who is registered, by kind only (their data is sealed, A7)."""
    return [
        {
            "event": e.type,
            "text": "登记评议人："
            + ("在册党员" if e.data.get("member_id") else "群众")
            + (f"（{e.data['rater_kind']}）" if e.data.get("rater_kind") else ""),
        }
        for e in events
    ]
