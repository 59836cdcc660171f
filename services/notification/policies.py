"""Reactions to other services' events: each consumed event is kept and projected (the board
and the releases feed) by the runner; here, a new release is handed to the outbound
channels subscribed to it (N5), a pledge returned for revision puts a notice in its
drafter's 待办 (settled once resubmitted), and a closed round settles the 群众评议 reminders
of those whose round it was. Nothing about pledges, reviews or scores is decided here."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import date

import asyncpg

from services.notification import contracts as k
from services.notification import queries
from services.notification.aggregates import NAMED, office
from services.notification.events import Deadline, DeadlineKind, NoticeKind
from services.notification.handlers import issue_notices, schedule_deliveries, settle_notices
from shared.envelope import EventEnvelope
from shared.eventstore.base import CommandContext
from shared.subscriptions import Subscription
from shared.unit_of_work import CommandExecutor, UnitOfWork

SOURCES = ("pledge", "review", "evaluation")


def subscriptions(executor: CommandExecutor) -> list[Subscription]:
    async def forward_release(conn: asyncpg.Connection, envelope: EventEnvelope) -> None:
        context = CommandContext(
            actor=f"service:{envelope.source.rsplit('/', 1)[-1]}",
            role="integration",
            correlation_id=envelope.correlationid,
            causation_id=envelope.id,
        )
        uow = executor.unit(conn, context)
        release = await uow.port(queries.records).release(envelope.id)
        if release is None:
            return
        await schedule_deliveries(
            uow,
            release_type=release.type,
            township_id=release.township_id,
            release_id=envelope.id,
            subject=release.subject,
            content=release.content,
            now=envelope.time,
        )

    async def react(conn: asyncpg.Connection, envelope: EventEnvelope) -> None:
        await forward_release(conn, envelope)
        reaction = REACTIONS.get(envelope.type)
        if reaction is not None:
            context = CommandContext(
                actor="service:notification",
                role="integration",
                correlation_id=envelope.correlationid,
                causation_id=envelope.id,
            )
            await reaction(conn, executor.unit(conn, context), envelope)

    # a source whose stream does not exist yet is waited for by the runner
    return [
        Subscription(consumer="notification", source=source, handler=react) for source in SOURCES
    ]


async def pledge_returned(conn: asyncpg.Connection, uow: UnitOfWork, e: EventEnvelope) -> None:
    """P4: the drafter (the member, or the branch's secretary) is told which items came back,
    to revise before the county's drafting deadline; a member's pledge the branch secretary
    entered on her behalf (she may have no phone) is told to that secretary too."""
    returned = k.PledgeReturned.model_validate(e.data)
    to = await queries.returned_to(conn, returned.pledge_id, returned.returned_item_ids)
    if to is None:
        return
    drafting = [
        d
        for d in await queries.deadlines(conn, to["county_id"], to["year"])
        if d.kind is DeadlineKind.DRAFTING
    ]
    due_on = drafting[0].due_on if drafting else e.time.astimezone(uow.local_timezone).date()
    deadline = Deadline(
        deadline_id=f"returned-{returned.pledge_id}-{e.id}",
        kind=DeadlineKind.DRAFTING,
        title=f"{to['year']}年公开承诺",
        due_on=due_on,
        remind_days_before=0,
        period=str(to["year"]),
    )
    items = "、".join(f"“{t}”" for t in to["titles"][:NAMED]) or "承诺"
    items += f"等{len(to['titles'])}项" if len(to["titles"]) > NAMED else ""
    await issue_notices(
        uow,
        county_id=to["county_id"],
        township_id=to["township_id"],
        deadline=deadline,
        kind=NoticeKind.RETURNED,
        recipients=[(to["recipient"], items)]
        + (
            [(to["entered_by"], f"{to['pledger_name']}的承诺（您代为录入）中{items}")]
            if to["entered_by"] not in (None, to["recipient"])
            else []
        ),
    )


async def pledge_resubmitted(conn: asyncpg.Connection, uow: UnitOfWork, e: EventEnvelope) -> None:
    """A returned pledge proposed again: its returned notices are done."""
    pledge_id = k.PledgeResubmitted.model_validate(e.data).pledge_id
    township = await queries.pledge_township(conn, pledge_id)
    if township is not None:
        unread = await queries.unread_notices(conn, township, f"returned-{pledge_id}-")
        await settle_notices(uow, [(n["stream_id"], n["notice_id"]) for n in unread])


async def round_closed(conn: asyncpg.Connection, uow: UnitOfWork, e: EventEnvelope) -> None:
    """E2: a round's results published (it closed): the township's 群众评议 reminders and
    overdue notices of those no longer missing a round are done (the office once its
    branches' round closed, a secretary once the branch's members' did)."""
    township_id = k.RoundResultsPublished.model_validate(e.data).township_id
    today = e.time.astimezone(uow.local_timezone).date()
    unread = await queries.unread_notices(conn, township_id, "evaluation_round-")
    still: dict[str, set[str] | None] = {}  # each deadline's recipients still missing a round
    for n in unread:
        if n["deadline_id"] not in still:
            still[n["deadline_id"]] = await still_missing(
                conn, n["county_id"], n["deadline_id"], township_id, today
            )
    settled = []
    for n in unread:
        missing = still[n["deadline_id"]]
        if missing is None or n["recipient"] in missing:
            continue  # a deadline no longer on the calendar, or the round still to hold
        if n["kind"] == NoticeKind.OVERDUE and n["recipient"] == office(township_id) and missing:
            continue  # the overdue notice the office is sent for every branch still missing
        settled.append((n["stream_id"], n["notice_id"]))
    await settle_notices(uow, settled)


async def still_missing(
    conn: asyncpg.Connection, county_id: str, deadline_id: str, township_id: str, today: date
) -> set[str] | None:
    """Who is still to do a deadline of the county's calendar in the township (None: the
    calendar no longer has it)."""
    calendar = await queries.deadlines(conn, county_id, int(deadline_id.split("-")[1][:4]))
    deadline = next((d for d in calendar if d.deadline_id == deadline_id), None)
    if deadline is None:
        return None
    return {r for r, _ in await queries.unfinished(conn, deadline, township_id, today)}


Reaction = Callable[[asyncpg.Connection, UnitOfWork, EventEnvelope], Awaitable[None]]
REACTIONS: dict[str, Reaction] = {
    "PledgeReturned": pledge_returned,
    "PledgeResubmitted": pledge_resubmitted,
    "RoundResultsPublished": round_closed,
}
