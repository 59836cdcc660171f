"""A rebuild's replay projects one chunk while PostgreSQL writes the previous one: a projector
that reads still sees every earlier write, and a failing projector leaves the live read
models and the connection as they were."""

from __future__ import annotations

from typing import ClassVar

import asyncpg
import pytest

from shared import projections
from shared.database import READ_SCHEMA
from shared.envelope import EventEnvelope
from shared.events import DomainEvent
from shared.eventstore import AppendRequest, CommandContext, PostgresEventStore
from shared.projections import ReadModels
from tests.support import Servers, fresh_log_database

DDL = "CREATE TABLE totals (partition text PRIMARY KEY, n int NOT NULL, seen int[] NOT NULL)"


class Counted(DomainEvent):
    aggregate_type: ClassVar[str] = "counter"
    n: int


async def read_then_write(conn: asyncpg.Connection, envelope: EventEnvelope) -> None:
    # reads the running total before each write: wrong if an earlier chunk's writes were
    # not in place yet when this one is projected
    n = await conn.fetchval("SELECT n FROM totals WHERE partition = $1", envelope.partition)
    if n is None:
        await conn.execute(
            "INSERT INTO totals VALUES ($1, $2::int, ARRAY[$2::int])",
            envelope.partition,
            envelope.data["n"],
        )
    else:
        await conn.execute(
            "UPDATE totals SET n = $2, seen = array_append(seen, $3::int) WHERE partition = $1",
            envelope.partition,
            n + envelope.data["n"],
            envelope.data["n"],
        )


async def log_of(servers: Servers, events: int) -> asyncpg.Pool:
    pool, _ = await fresh_log_database(servers)
    store = PostgresEventStore(pool, source="/gongkai/test")
    for i in range(1, events + 1):
        await store.append(
            AppendRequest(f"c-{i}", f"t-{i % 3}", 0, [Counted(n=i)], CommandContext("a", "r"))
        )
    return pool


async def test_a_projector_that_reads_sees_every_earlier_chunk(
    servers: Servers, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(projections, "REPLAY_CHUNK", 4)  # 16 chunks for 61 events
    monkeypatch.setattr(projections, "YIELD_EVERY", 1)  # the previous chunk moves on often
    pool = await log_of(servers, 61)
    assert await ReadModels(DDL, read_then_write).rebuild(pool) == 61
    rows = await pool.fetch(f"SELECT * FROM {READ_SCHEMA}.totals ORDER BY partition")
    expected = {p: [i for i in range(1, 62) if i % 3 == p] for p in range(3)}
    assert [(r["partition"], r["n"], r["seen"]) for r in rows] == [
        (f"t-{p}", sum(ns), ns) for p, ns in expected.items()
    ]


# 21: the fifth chunk's first event, before it reads anything, the fourth chunk's commit in
# flight; 23: after its reads began the fifth chunk's transaction
@pytest.mark.parametrize("failing", [21, 23])
async def test_a_failing_projector_leaves_the_live_read_models_and_the_connection(
    servers: Servers, monkeypatch: pytest.MonkeyPatch, failing: int
) -> None:
    monkeypatch.setattr(projections, "REPLAY_CHUNK", 5)
    pool = await log_of(servers, 30)
    await ReadModels(DDL, read_then_write).rebuild(pool)
    live = await pool.fetch(f"SELECT * FROM {READ_SCHEMA}.totals ORDER BY partition")

    async def fails_late(conn: asyncpg.Connection, envelope: EventEnvelope) -> None:
        if envelope.data["n"] == failing:
            raise RuntimeError("projector bug")
        await read_then_write(conn, envelope)

    broken = ReadModels(DDL, fails_late, version="broken")
    for _ in range(2):  # the second time on a connection the first failure gave back
        with pytest.raises(RuntimeError, match="projector bug"):
            await broken.rebuild(pool)
    assert await pool.fetch(f"SELECT * FROM {READ_SCHEMA}.totals ORDER BY partition") == live
    # the replay's two connections (writing, reading), as the pool hands them out again
    async with pool.acquire() as one, pool.acquire() as other:
        for conn in (one, other):
            assert not conn.is_in_transaction()
            assert await conn.fetchval("SHOW synchronous_commit") == "on"
            # a chunk left open would take the rebuild's reset of the search path with it
            # when the pool rolls it back
            assert await conn.fetchval("SHOW search_path") == f"{READ_SCHEMA}, public"
            assert await conn.fetch("SELECT name FROM pg_cursors WHERE name <> ''") == []
