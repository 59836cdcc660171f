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
        durable_name=runner.durable,
        ack_policy=AckPolicy.EXPLICIT,
        deliver_policy=DeliverPolicy.ALL,
        ack_wait=2,
        filter_subject=runner.filter,
    )
    dead = await js.pull_subscribe(runner.filter, durable=runner.durable, config=config)
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


async def test_slow_live_work_is_not_handed_to_another_replica(servers: Servers) -> None:
    """Two replicas pull from one durable consumer; one works on a message for longer than
    `ack_wait`. Its progress acks keep the message its own: the broker never hands it to the
    idle replica (which would wait on the first's transaction, then find it applied)."""
    pool, _ = await fresh_log_database(servers)
    source = await Source.on(servers)
    subscription = Subscription("tester", "source", handler=None)
    calls: list[str] = []

    async def slow(conn: asyncpg.Connection, envelope: EventEnvelope) -> None:
        calls.append(envelope.id)
        await asyncio.sleep(2.5)  # the work: 2.5 times ack_wait

    replicas = [
        SubscriptionRunner(pool, source.js, subscription, source.subjects, ack_wait=1, project=slow)
        for _ in range(2)
    ]
    tasks = [asyncio.create_task(r.run()) for r in replicas]
    try:
        for runner in replicas:
            await asyncio.wait_for(runner.consuming.wait(), 10)
        envelope = await source.note("slow")
        await source.publish(envelope)

        async def applied() -> bool:
            query = "SELECT count(*) FROM consumer_positions WHERE consumer = 'tester'"
            return bool(await pool.fetchval(query) == 1)

        await eventually(applied, timeout=20)

        async def settled() -> bool:
            info = await source.js.consumer_info(
                source.subjects.stream("source"), replicas[0].durable
            )
            return info.num_ack_pending == 0

        await eventually(settled)
        info = await source.js.consumer_info(source.subjects.stream("source"), replicas[0].durable)
        assert info.num_redelivered == 0
        assert info.delivered.consumer_seq == 1
        assert calls == [envelope.id]
    finally:
        for runner in replicas:
            runner.stop()
        await asyncio.gather(*tasks)
        await source.nc.close()
        await pool.close()
