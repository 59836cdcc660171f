"""The subscription runner against real NATS and PostgreSQL: exactly-once effect, poison."""

from __future__ import annotations

import asyncio

import asyncpg
import pytest
from prometheus_client import REGISTRY

from shared.database import READ_SCHEMA
from shared.envelope import EventEnvelope
from shared.projections import ReadModels, table_fingerprints
from shared.subscriptions import Subscription, SubscriptionRunner
from tests.e2e.helpers import eventually
from tests.integration.source import Source
from tests.support import Servers, fresh_log_database


async def test_duplicates_have_no_second_effect_and_poison_is_parked(servers: Servers) -> None:
    pool, _ = await fresh_log_database(
        servers, owner_sql="CREATE TABLE effects (event_id text PRIMARY KEY, text text)"
    )
    source = await Source.on(servers)
    subjects, js = source.subjects, source.js
    texts = ["一", "二", "poison", "三", "四"]
    envelopes = [await source.note(text) for text in texts]

    async def handler(conn: asyncpg.Connection, envelope: EventEnvelope) -> None:
        if envelope.data["text"] == "poison":
            raise ValueError("cannot handle this one")
        await conn.execute(
            "INSERT INTO effects VALUES ($1, $2)", envelope.id, envelope.data["text"]
        )

    for envelope in envelopes:
        await source.publish(envelope)
    # a redelivery the broker cannot recognise (another message id), and garbage
    await source.publish(envelopes[0], msg_id="again")
    await js.publish(
        subjects.matching("source", partition="t-a", aggregate="note", event_type="Noted"),
        b"not json",
        headers={"x": "y"},
    )

    runner = SubscriptionRunner(pool, js, Subscription("tester", "source", handler), subjects)
    task = asyncio.create_task(runner.run())
    try:

        async def all_seen() -> bool:
            parked = await pool.fetchval("SELECT count(*) FROM parked_messages")
            return bool(parked == 2)

        await eventually(all_seen, timeout=20)
        rows = await pool.fetch("SELECT text FROM effects ORDER BY text")
        assert sorted(r["text"] for r in rows) == sorted(["一", "二", "三", "四"])
        parked = await pool.fetch("SELECT event_id, error FROM parked_messages ORDER BY id")
        assert parked[0]["event_id"] == envelopes[2].id
        assert "cannot handle" in parked[0]["error"]
        assert parked[1]["event_id"] is None  # the garbage, kept as it came
        position = await pool.fetchval(
            "SELECT sequence FROM consumer_positions WHERE consumer = 'tester'"
        )
        assert position == 5
    finally:
        runner.stop()
        await task
        await source.nc.close()
        await pool.close()


async def test_a_restarted_runner_resumes_from_its_durable_consumer(servers: Servers) -> None:
    pool, _ = await fresh_log_database(
        servers, owner_sql="CREATE TABLE effects (event_id text PRIMARY KEY)"
    )
    source = await Source.on(servers)

    async def handler(conn: asyncpg.Connection, envelope: EventEnvelope) -> None:
        await conn.execute("INSERT INTO effects VALUES ($1)", envelope.id)

    async def publish(count: int) -> None:
        for _ in range(count):
            await source.publish(await source.note("x"))

    async def effects(expected: int) -> bool:
        return bool(await pool.fetchval("SELECT count(*) FROM effects") == expected)

    subscription = Subscription("tester", "source", handler)
    try:
        for total in (30, 60):
            await publish(30)
            runner = SubscriptionRunner(pool, source.js, subscription, source.subjects)
            task = asyncio.create_task(runner.run())
            await eventually(lambda total=total: effects(total), timeout=20)  # type: ignore[misc]
            runner.stop()
            await task
        # the second runner started after the first 30: nothing was applied or parked twice
        assert await pool.fetchval("SELECT count(*) FROM parked_messages") == 0
        assert await pool.fetchval("SELECT sequence FROM consumer_positions") == 60
    finally:
        await source.nc.close()
        await pool.close()


async def test_read_models_built_from_consumed_events_rebuild_the_same(servers: Servers) -> None:
    """Consumed events are kept in the inbox, so their read models rebuild like our own."""
    pool, _ = await fresh_log_database(servers)
    source = await Source.on(servers)

    async def project(conn: asyncpg.Connection, envelope: EventEnvelope) -> None:
        if envelope.type == "Noted":
            await conn.execute(
                "INSERT INTO notes VALUES ($1, $2, $3) ON CONFLICT (partition) DO UPDATE"
                " SET n = notes.n + 1, last = EXCLUDED.last",
                envelope.partition,
                1,
                envelope.data["text"],
            )

    read_models = ReadModels(
        ddl="CREATE TABLE notes (partition text PRIMARY KEY, n int NOT NULL, last text)",
        project=project,
    )
    await read_models.ensure(pool)
    for i in range(20):
        await source.publish(await source.note(f"第{i}条", partition=f"t-{i % 3}"))
    runner = SubscriptionRunner(
        pool,
        source.js,
        Subscription("tester", "source"),
        source.subjects,
        project=read_models.project,
    )
    task = asyncio.create_task(runner.run())
    try:

        async def all_in() -> bool:
            return bool(await pool.fetchval("SELECT coalesce(sum(n), 0) FROM notes") == 20)

        await eventually(all_in, timeout=20)
    finally:
        runner.stop()
        await task
        await source.nc.close()
    async with pool.acquire() as conn:
        live = await table_fingerprints(conn, READ_SCHEMA)
        assert await conn.fetchval("SELECT count(*) FROM inbox") == 20
    await read_models.rebuild(pool, into="rm_check")
    await read_models.rebuild(pool)  # and the swap
    async with pool.acquire() as conn:
        assert await table_fingerprints(conn, "rm_check") == live
        assert await table_fingerprints(conn, READ_SCHEMA) == live
    with pytest.raises(asyncpg.InsufficientPrivilegeError, match="permission denied"):
        await pool.execute("DELETE FROM inbox")  # the runtime role's missing privilege
    await pool.close()


async def test_a_fetched_batch_commits_together_and_a_failure_in_it_costs_no_effect(
    servers: Servers,
) -> None:
    """A clean batch is one transaction; one failing message rolls the batch back, and the
    rest still take effect once each, in order, from the message-by-message path."""
    pool, _ = await fresh_log_database(
        servers,
        owner_sql="CREATE TABLE effects (seq int PRIMARY KEY, text text, txid bigint)",
    )
    source = await Source.on(servers)
    seen: list[str] = []

    async def handler(conn: asyncpg.Connection, envelope: EventEnvelope) -> None:
        seen.append(envelope.data["text"])
        if envelope.data["text"] == "poison":
            raise ValueError("cannot handle this one")
        await conn.execute(
            "INSERT INTO effects VALUES ($1, $2, txid_current())",
            envelope.sequence,
            envelope.data["text"],
        )

    clean = [await source.note(f"{i}") for i in range(40)]
    for envelope in clean:
        await source.publish(envelope)
    runner = SubscriptionRunner(
        pool, source.js, Subscription("tester", "source", handler), source.subjects, batch=100
    )
    task = asyncio.create_task(runner.run())
    try:

        async def applied(count: int) -> bool:
            return bool(await pool.fetchval("SELECT count(*) FROM effects") == count)

        await eventually(lambda: applied(40), timeout=20)
        # published before the runner started, so they arrive in one or a few fetches
        transactions = await pool.fetchval("SELECT count(DISTINCT txid) FROM effects")
        assert transactions <= 4, transactions

        runner.stop()
        await task
        seen.clear()
        later = [await source.note(text) for text in ["甲", "乙", "poison", "丙"]]
        poison = later[2]
        for envelope in later:
            await source.publish(envelope)
        runner = SubscriptionRunner(
            pool, source.js, Subscription("tester", "source", handler), source.subjects
        )
        task = asyncio.create_task(runner.run())
        await eventually(lambda: applied(43), timeout=20)
        await eventually(
            lambda: _count(pool, "SELECT count(*) FROM parked_messages", 1), timeout=20
        )
        rows = await pool.fetch("SELECT text FROM effects WHERE seq > 40 ORDER BY seq")
        assert [r["text"] for r in rows] == ["甲", "乙", "丙"]
        # the batch ran up to the poison and was rolled back, then went one at a time: had
        # the rollback kept 甲 and 乙, their second inserts would have failed and been parked
        assert seen.count("poison") == 1 + runner.attempts
        parked = await pool.fetchval("SELECT event_id FROM parked_messages")
        assert parked == poison.id
        assert await pool.fetchval("SELECT sequence FROM consumer_positions") == 44
    finally:
        runner.stop()
        await task
        await source.nc.close()
        await pool.close()


async def _count(pool: asyncpg.Pool, query: str, expected: int) -> bool:
    return bool(await pool.fetchval(query) == expected)


async def test_a_filtered_subscription_keeps_each_event_once_within_a_batch(
    servers: Servers,
) -> None:
    """A filtered subscription knows what it applied only from the inbox: a message delivered
    twice in one fetch takes effect once, and the inbox keeps the batch's order."""
    pool, _ = await fresh_log_database(
        servers, owner_sql="CREATE TABLE effects (event_id text PRIMARY KEY, txid bigint)"
    )
    source = await Source.on(servers)

    async def handler(conn: asyncpg.Connection, envelope: EventEnvelope) -> None:
        await conn.execute("INSERT INTO effects VALUES ($1, txid_current())", envelope.id)

    envelopes = [await source.note(f"{i}", partition=f"t-{i % 2}") for i in range(10)]
    for envelope in envelopes:
        await source.publish(envelope)
        if envelope.sequence % 3 == 0:  # the same event again under another message id
            await source.publish(envelope, msg_id=f"again-{envelope.id}")
    subscription = Subscription("tester", "source", handler, event_type="Noted")
    assert not subscription.complete
    runner = SubscriptionRunner(pool, source.js, subscription, source.subjects)
    task = asyncio.create_task(runner.run())
    try:
        await eventually(lambda: _count(pool, "SELECT count(*) FROM effects", 10), timeout=20)
        await asyncio.sleep(0.5)  # the duplicates, had they a second effect, would show now
        assert await pool.fetchval("SELECT count(*) FROM parked_messages") == 0
        assert await pool.fetchval("SELECT count(*) FROM effects") == 10
        # in one or a few batches: not one message at a time after a failed batch
        assert await pool.fetchval("SELECT count(DISTINCT txid) FROM effects") <= 3
        kept = await pool.fetch("SELECT id::text FROM inbox ORDER BY position")
        assert [r["id"] for r in kept] == [e.id for e in envelopes]
        positions = await pool.fetch(
            "SELECT partition, sequence FROM consumer_positions ORDER BY partition"
        )
        assert [(r["partition"], r["sequence"]) for r in positions] == [("t-0", 5), ("t-1", 5)]
    finally:
        runner.stop()
        await task
        await source.nc.close()
        await pool.close()


async def test_an_event_after_a_gap_waits_for_it_and_the_wait_is_counted(
    servers: Servers,
) -> None:
    pool, _ = await fresh_log_database(
        servers, owner_sql="CREATE TABLE effects (n serial, text text NOT NULL)"
    )
    source = await Source.on(servers)
    first, second, third = [await source.note(text) for text in ("一", "二", "三")]

    async def handler(conn: asyncpg.Connection, envelope: EventEnvelope) -> None:
        await conn.execute("INSERT INTO effects (text) VALUES ($1)", envelope.data["text"])

    def deferred() -> float:
        value = REGISTRY.get_sample_value(
            "gongkai_consumer_handled_total",
            {"consumer": "gap-tester", "outcome": "deferred_for_gap"},
        )
        return value or 0.0

    before = deferred()
    await source.publish(first)
    await source.publish(third)  # the second is late (its publish lost, say)
    runner = SubscriptionRunner(
        pool, source.js, Subscription("gap-tester", "source", handler), source.subjects
    )
    task = asyncio.create_task(runner.run())
    try:

        async def waited() -> bool:
            return deferred() > before

        await eventually(waited, timeout=20)
        assert [r["text"] for r in await pool.fetch("SELECT text FROM effects ORDER BY n")] == [
            "一"
        ]
        await source.publish(second)

        async def all_three() -> bool:
            return bool(await pool.fetchval("SELECT count(*) FROM effects") == 3)

        await eventually(all_three, timeout=20)
        rows = await pool.fetch("SELECT text FROM effects ORDER BY n")
        assert [r["text"] for r in rows] == ["一", "二", "三"]
    finally:
        runner.stop()
        await task
        await source.nc.close()
        await pool.close()
