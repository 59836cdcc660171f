"""A subscription keeps only the event types it reads (A7): the others are acknowledged and
their position advanced, never stored (inbox, read models, parked messages). Real NATS and
PostgreSQL; the review service's identity subscription is declared that way."""

from __future__ import annotations

import asyncio
import uuid

import asyncpg

from services.review.policies import IDENTITY_KEPT, subscriptions
from services.review.projections import PROJECTION
from shared.envelope import EventEnvelope
from shared.events import DomainEvent
from shared.eventstore import AppendRequest, CommandContext
from shared.subscriptions import Subscription, SubscriptionRunner
from tests.e2e.helpers import eventually
from tests.integration.source import Source
from tests.support import Servers, fresh_log_database


class Named(DomainEvent):
    """Personal data the subscriber does not read."""

    aggregate_type = "note"
    name: str


async def _named(source: Source, name: str, partition: str) -> EventEnvelope:
    request = AppendRequest(
        f"note-{uuid.uuid4().hex}", partition, 0, [Named(name=name)], CommandContext("a", "r")
    )
    [envelope] = await source.store.append(request)
    return envelope


async def test_only_the_kept_types_are_stored_and_the_rest_still_counts_as_consumed(
    servers: Servers,
) -> None:
    pool, _ = await fresh_log_database(
        servers, owner_sql="CREATE TABLE effects (event_id text PRIMARY KEY, type text)"
    )
    source = await Source.on(servers)

    async def effect(conn: asyncpg.Connection, envelope: EventEnvelope) -> None:
        await conn.execute("INSERT INTO effects VALUES ($1, $2)", envelope.id, envelope.type)

    async def publish_mixed(start: int, count: int) -> None:
        for i in range(start, start + count):  # Noted and Named interleaved, two townships
            partition = f"t-{i % 2}"
            await source.publish(await source.note(f"第{i}条", partition=partition))
            await source.publish(await _named(source, f"张三{i}", partition))

    subscription = Subscription("tester", "source", keep=frozenset({"Noted"}))
    # the first 20 wait in the stream (applied as batches), the next 10 come one by one
    await publish_mixed(0, 10)
    runner = SubscriptionRunner(pool, source.js, subscription, source.subjects, project=effect)
    task = asyncio.create_task(runner.run())
    try:

        async def effects(count: int) -> bool:
            return bool(await pool.fetchval("SELECT count(*) FROM effects") == count)

        await eventually(lambda: effects(10), timeout=20)
        await publish_mixed(10, 5)
        await eventually(lambda: effects(15), timeout=20)

        async def consumed() -> bool:  # every event counts, the dropped ones too
            rows = await pool.fetch("SELECT partition, sequence FROM consumer_positions")
            return {r["partition"]: r["sequence"] for r in rows} == {"t-0": 16, "t-1": 14}

        await eventually(consumed, timeout=20)
        kept = await pool.fetch("SELECT type, body FROM inbox")
        assert {r["type"] for r in kept} == {"Noted"}
        assert len(kept) == 15
        assert not any("张三".encode() in r["body"] for r in kept)
        assert set(await pool.fetchval("SELECT array_agg(DISTINCT type) FROM effects")) == {"Noted"}
        assert await pool.fetchval("SELECT count(*) FROM parked_messages") == 0
    finally:
        runner.stop()
        await task
        await source.nc.close()
        await pool.close()


def test_the_review_service_keeps_of_identity_only_what_it_projects() -> None:
    projected = {kind for source, kind in PROJECTION.steps if source == "identity"}
    assert projected == set(IDENTITY_KEPT) == {"PostStarted", "PostEnded"}
    [identity] = [s for s in subscriptions() if s.source == "identity"]
    assert identity.keep == IDENTITY_KEPT
    [pledge] = [s for s in subscriptions() if s.source == "pledge"]
    assert pledge.keep is None  # the directory copy reads many of its types
