"""A runner that dies holding unacknowledged messages: the broker redelivers them only after
`ack_wait`, behind newer ones. They must still take effect, in order, exactly once."""

from __future__ import annotations

import asyncio

import asyncpg
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy

from shared.envelope import EventEnvelope
from shared.subscriptions import Subscription, SubscriptionRunner
from tests.e2e.helpers import eventually
from tests.integration.source import Source
from tests.support import Servers, fresh_log_database


async def test_messages_a_dead_runner_held_take_effect_in_order(servers: Servers) -> None:
    pool, _ = await fresh_log_database(
        servers, owner_sql="CREATE TABLE effects (n serial, text text UNIQUE)"
    )
    source = await Source.on(servers)
    js = source.js
    for text in "12345":
        await source.publish(await source.note(text, stream="note-a", version=int(text) - 1))
    subscription = Subscription("tester", "source", handler=None)
    runner = SubscriptionRunner(pool, js, subscription, source.subjects, ack_wait=2)

    # the runner's durable consumer, as a process that fetched two messages and was killed
    config = ConsumerConfig(
        durable_name="tester-any-any",
        ack_policy=AckPolicy.EXPLICIT,
        deliver_policy=DeliverPolicy.ALL,
        ack_wait=2,
        filter_subject=runner.filter,
    )
    dead = await js.pull_subscribe(runner.filter, durable="tester-any-any", config=config)
    assert len(await dead.fetch(2, timeout=5)) == 2  # never acknowledged

    async def effect(conn: asyncpg.Connection, envelope: EventEnvelope) -> None:
        await conn.execute("INSERT INTO effects (text) VALUES ($1)", envelope.data["text"])

    runner.project = effect
    task = asyncio.create_task(runner.run())
    try:

        async def all_applied() -> bool:
            return bool(await pool.fetchval("SELECT count(*) FROM effects") == 5)

        await eventually(all_applied, timeout=20)
        rows = await pool.fetch("SELECT text FROM effects ORDER BY n")
        assert [r["text"] for r in rows] == list("12345")
        assert await pool.fetchval("SELECT count(*) FROM parked_messages") == 0
    finally:
        runner.stop()
        await task
        await source.nc.close()
        await pool.close()
