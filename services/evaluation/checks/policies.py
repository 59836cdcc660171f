"""Reactions to the pledge service's events: an item reported done opens its satisfaction check
(E8), as this service's own command with the foreign event as its causation, inside the
subscription runner's transaction (subscribed in services/evaluation/policies.py)."""

from __future__ import annotations

import asyncpg
import structlog

from services.evaluation.checks.aggregates import SatisfactionCheck
from services.evaluation.checks.contracts import ItemReportedDone
from services.evaluation.checks.handlers import terms_for
from services.evaluation.queries import reads
from shared.consumed import reaction
from shared.envelope import EventEnvelope
from shared.errors import NotFound
from shared.eventstore.base import CommandContext
from shared.subscriptions import Handler
from shared.unit_of_work import CommandExecutor

log = structlog.get_logger()


def check_id_for(envelope: EventEnvelope) -> str:
    """One check per report: an item reported done again after a dissatisfied verdict gets a
    new check; a redelivered report finds its check already there."""
    return "c" + envelope.id.replace("-", "")


def on_pledge_events(executor: CommandExecutor) -> Handler:
    """The reaction to every pledge event: only ItemReportedDone opens a check."""

    async def on_item_reported_done(
        conn: asyncpg.Connection, envelope: EventEnvelope, done: ItemReportedDone
    ) -> None:
        context = CommandContext(
            actor="service:pledge",
            role="integration",
            correlation_id=envelope.correlationid,
            causation_id=envelope.id,
        )
        uow = executor.unit(conn, context)
        check_id = check_id_for(envelope)
        if await uow.load(SatisfactionCheck, f"satisfaction_check-{check_id}") is not None:
            log.info("satisfaction_check_exists", check_id=check_id)
            return
        opens_on = envelope.time.astimezone(uow.local_timezone).date()
        try:  # the county's terms for the year, or the defaults
            county_id = (await uow.port(reads).township(done.township_id))["county_id"]
            terms = await terms_for(uow, county_id, opens_on.year)
        except NotFound:
            terms = None
        check = SatisfactionCheck.open(
            check_id=check_id,
            pledge_id=done.pledge_id,
            item_id=done.item_id,
            township_id=done.township_id,
            title=done.title,
            summary=done.summary,
            opens_on=opens_on,
            source_event_id=envelope.id,
            terms=terms,
        )
        await uow.save(check)

    return reaction(ItemReportedDone, on_item_reported_done)
