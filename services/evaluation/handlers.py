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
from typing import Any

from services.evaluation import access
from services.evaluation import queries as d
from services.evaluation.aggregates import Person
from services.evaluation.commands import PersonalData
from services.evaluation.rounds.events import Sealed
from shared.auth import Principal, require, township_office
from shared.errors import InvalidInput, NotFound
from shared.eventstore.base import CommandContext
from shared.unit_of_work import UnitOfWork, accepted


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
            "personal data is registered only for people outside the directory (A7)",
            field=f"{where}.{next(iter(personal))}",
        )
    return (
        Sealed.model_validate(await uow.port(d.keys).seal(person_id, personal))
        if personal
        else None
    )


async def due(uow: UnitOfWork, township_id: str, who: Principal, table: str) -> list[str]:
    """The township's open rounds or checks whose window ended before the clock's today, for
    its office or the service's scheduled pass acting for it (E4, E8)."""
    reads = uow.port(d.reads)
    await reads.township(township_id)
    require(township_office(who, township_id), f"only the township office closes due {table}")
    return await reads.due(township_id, table, uow.today())


# --- erasure of personal data (A7) -------------------------------------------------------


async def erase_person(uow: UnitOfWork, person_id: str, who: Principal) -> dict[str, Any]:
    """Destroy a member of the public's key and record it: every read model then shows them
    erased, and so does any rebuild or replay; the log's bytes and hashes stay as they were."""
    require(
        access.erases(who), "only the county's administrator or an auditor erases personal data"
    )
    reads = uow.port(d.reads)
    township_id = await reads.public_person_township(person_id)
    if township_id is None:
        raise NotFound("no member of the public registered with this id", person_id=person_id)
    county_id = (await reads.township(township_id))["county_id"]
    require(
        access.erases_in(who, county_id),
        "only the administrator or an auditor of the person's county",
    )
    stream = f"person-{person_id}"
    person = await uow.load(Person, stream) or Person(stream, township_id)
    person.erase(person_id)
    await uow.port(d.keys).erase(person_id)  # and past states built for `as_of` reads
    await uow.save(person)
    return accepted(person_id, uow)
