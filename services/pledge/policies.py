"""Reactions to other services' events, typed by this service's contracts. Each issues this
service's own command, with the foreign event as its causation, inside the subscription
runner's transaction."""

from __future__ import annotations

import asyncpg
import structlog

from services.pledge.aggregates import Pledge
from services.pledge.contracts import (
    SatisfactionCheckExtended,
    SatisfactionCheckLapsed,
    SatisfactionVerdictReached,
)
from shared.consumed import reaction
from shared.envelope import EventEnvelope
from shared.eventstore.base import CommandContext
from shared.subscriptions import Subscription
from shared.unit_of_work import CommandExecutor

log = structlog.get_logger()


def subscriptions(executor: CommandExecutor) -> list[Subscription]:
    async def on_verdict(
        conn: asyncpg.Connection, envelope: EventEnvelope, verdict: SatisfactionVerdictReached
    ) -> None:
        context = CommandContext(
            actor="service:evaluation",
            role="integration",
            correlation_id=envelope.correlationid,
            causation_id=envelope.id,
        )
        uow = executor.unit(conn, context)
        pledge = await uow.load(Pledge, f"pledge-{verdict.pledge_id}")
        if pledge is None or not pledge.record_verdict(
            verdict.item_id,
            verdict.verdict,
            verdict.satisfaction_rate,
            verdict.check_id,
            envelope.id,
        ):
            log.warning("verdict_ignored", pledge_id=verdict.pledge_id, item_id=verdict.item_id)
            return
        await uow.save(pledge)

    async def on_lapsed(
        conn: asyncpg.Connection, envelope: EventEnvelope, lapsed: SatisfactionCheckLapsed
    ) -> None:
        context = CommandContext(
            actor="service:evaluation",
            role="integration",
            correlation_id=envelope.correlationid,
            causation_id=envelope.id,
        )
        uow = executor.unit(conn, context)
        pledge = await uow.load(Pledge, f"pledge-{lapsed.pledge_id}")
        if pledge is None or not pledge.record_not_rated(
            lapsed.item_id, lapsed.check_id, envelope.id
        ):
            log.warning("lapse_ignored", pledge_id=lapsed.pledge_id, item_id=lapsed.item_id)
            return
        await uow.save(pledge)

    async def on_extended(
        conn: asyncpg.Connection, envelope: EventEnvelope, extended: SatisfactionCheckExtended
    ) -> None:
        if not extended.reopened:
            return  # still open: nothing changes for the item
        context = CommandContext(
            actor="service:evaluation",
            role="integration",
            correlation_id=envelope.correlationid,
            causation_id=envelope.id,
        )
        uow = executor.unit(conn, context)
        pledge = await uow.load(Pledge, f"pledge-{extended.pledge_id}")
        if pledge is None or not pledge.record_reopened(
            extended.item_id, extended.check_id, envelope.id
        ):
            log.warning("reopening_ignored", pledge_id=extended.pledge_id, item_id=extended.item_id)
            return
        await uow.save(pledge)

    return [
        Subscription(
            consumer="pledge",
            source="evaluation",
            aggregate="satisfaction_check",
            event_type="SatisfactionCheckExtended",
            handler=reaction(SatisfactionCheckExtended, on_extended),
        ),
        Subscription(
            consumer="pledge",
            source="evaluation",
            aggregate="satisfaction_check",
            event_type="SatisfactionCheckLapsed",
            handler=reaction(SatisfactionCheckLapsed, on_lapsed),
        ),
        Subscription(
            consumer="pledge",
            source="evaluation",
            aggregate="satisfaction_check",
            event_type="SatisfactionVerdictReached",
            handler=reaction(SatisfactionVerdictReached, on_verdict),
        ),
    ]
