"""The subscription runner against real NATS and PostgreSQL: exactly-once effect, poison."""

from __future__ import annotations

import asyncio

import asyncpg
import pytest

from shared.database import READ_SCHEMA
from shared.envelope import EventEnvelope
from shared.projections import ReadModels, table_fingerprints
from shared.subscriptions import Subscription, SubscriptionRunner
from shared.testing import Servers, fresh_log_database
from tests.e2e.helpers import eventually
from tests.integration.source import Source


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
    with pytest.raises(asyncpg.InsufficientPrivilegeError):
        await pool.execute("DELETE FROM inbox")
    await pool.close()
