"""Reactions to other services' events: each consumed event is kept and projected (the board
and the releases feed) by the runner; here, a new release is handed to the outbound
channels subscribed to it (N5). Nothing about pledges, reviews or scores is decided here."""

from __future__ import annotations

import asyncpg

from services.notification import queries
from services.notification.handlers import schedule_deliveries
from shared.envelope import EventEnvelope
from shared.eventstore.base import CommandContext
from shared.subscriptions import Subscription
from shared.unit_of_work import CommandExecutor

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

    # a source whose stream does not exist yet is waited for by the runner
    return [
        Subscription(consumer="notification", source=source, handler=forward_release)
        for source in SOURCES
    ]
