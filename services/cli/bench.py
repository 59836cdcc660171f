"""`gongkai bench`: the event store's append and rebuild rates against raw asyncpg.

Both sides run on the same PostgreSQL, alternately (raw, store, raw, store, ...) after a
warm-up; each side's best round is reported. Inputs (requests, rows) are built before timing.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import statistics
import tempfile
import time
import uuid
from collections.abc import Awaitable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ClassVar

import asyncpg
from rich.console import Console
from rich.table import Table

from shared.database import ensure_database, grant_runtime_role, migrate, open_pool, runtime_role
from shared.embedded import EmbeddedPostgres
from shared.envelope import EventEnvelope
from shared.events import DomainEvent
from shared.eventstore.base import AppendRequest, CommandContext, draft_event
from shared.eventstore.postgres import PostgresEventStore
from shared.logging import configure_logging
from shared.projections import ReadModels
from shared.settings import with_database

ROUNDS = 3
WARMUP = 400  # events per side, not timed
APPEND_TARGET, REBUILD_TARGET = 0.7, 0.35
SYNC = "synchronous_commit"
COLUMNS = "id, stream_id, stream_version, partition, sequence, type, time, body, prev_hash, hash"
RAW_DDL = """
CREATE TABLE raw_events (
    position bigserial PRIMARY KEY, id uuid NOT NULL UNIQUE, stream_id text NOT NULL,
    stream_version integer NOT NULL CHECK (stream_version > 0), partition text NOT NULL,
    sequence bigint NOT NULL CHECK (sequence > 0), type text NOT NULL,
    time timestamptz NOT NULL, body bytea NOT NULL, prev_hash bytea NOT NULL,
    hash bytea NOT NULL, UNIQUE (stream_id, stream_version), UNIQUE (partition, sequence)
);
CREATE INDEX raw_events_time ON raw_events (time);
"""
RAW_INSERT = (
    f"INSERT INTO raw_events ({COLUMNS}) VALUES ({', '.join(f'${i}' for i in range(1, 11))})"
)
PAYLOAD = {
    "title": "为群众办实事：村道硬化与路灯安装",
    "description": "本季度完成村内主干道硬化约1.2公里，安装太阳能路灯40盏，接受群众评议。",
    "due_date": "2025-12-31",
}


class BenchPledgeMade(DomainEvent):
    aggregate_type: ClassVar[str] = "bench"
    pledge_id: str
    township: str
    title: str
    description: str
    due_date: str


async def _count(conn: asyncpg.Connection, envelope: EventEnvelope) -> None:
    await conn.execute(
        "INSERT INTO counts VALUES ($1, 1) ON CONFLICT (partition) DO UPDATE SET n = counts.n + 1",
        envelope.partition,
    )


async def _per_stream(conn: asyncpg.Connection, envelope: EventEnvelope) -> None:
    await conn.execute("INSERT INTO pledges VALUES ($1, $2)", envelope.streamid, envelope.time)


async def _noop(conn: asyncpg.Connection, envelope: EventEnvelope) -> None:
    return None


COUNTS_DDL = "CREATE TABLE counts (partition text PRIMARY KEY, n bigint NOT NULL);"
REBUILDS = {  # label -> read model (the no-op one shows what decoding and the mechanism cost)
    "upsert a count per partition": ReadModels(COUNTS_DDL, _count),
    "insert a row per stream": ReadModels(
        "CREATE TABLE pledges (stream_id text PRIMARY KEY, made timestamptz NOT NULL);", _per_stream
    ),
    "no-op projector": ReadModels(COUNTS_DDL, _noop, version="no-op"),
}
CONTEXT = CommandContext(actor="bench", role="county_admin")


class Workload:
    """Per writer: append requests for the store and rows with the same body bytes for raw."""

    def __init__(self, writers: int) -> None:
        self.writers = writers
        self.sequences = [0] * writers  # the raw side's own gap-free sequence per partition

    def build(self, events: int) -> tuple[list[list[AppendRequest]], list[list[tuple[Any, ...]]]]:
        requests = [
            [self._request(w) for _ in range(events // self.writers + (w < events % self.writers))]
            for w in range(self.writers)
        ]
        return requests, [[self._row(w, r) for r in mine] for w, mine in enumerate(requests)]

    @staticmethod
    def _request(w: int) -> AppendRequest:
        pledge = f"pledge-{uuid.uuid4().hex}"
        event = BenchPledgeMade(pledge_id=pledge, township=f"t-{w}", **PAYLOAD)
        return AppendRequest(pledge, f"t-{w}", 0, [event], CONTEXT)

    def _row(self, w: int, request: AppendRequest) -> tuple[Any, ...]:
        now = datetime.now(UTC)
        draft = draft_event(
            source="bench", request=request, index=0, event=request.events[0], now=now
        )
        event_id = draft.attrs["id"]
        body, prev = draft.body, hashlib.sha256(event_id.encode()).digest()
        self.sequences[w] += 1
        head = (uuid.UUID(event_id), request.stream_id, 1, request.partition, self.sequences[w])
        return (*head, draft.attrs["type"], now, body, prev, hashlib.sha256(prev + body).digest())


async def _timed(tasks: Sequence[Awaitable[Any]]) -> float:
    start = time.perf_counter()
    await asyncio.gather(*tasks)
    return time.perf_counter() - start


async def _store_writer(store: PostgresEventStore, requests: list[AppendRequest]) -> None:
    for request in requests:  # one event per command, each to a new stream
        await store.append(request)


async def _raw_writer(pool: asyncpg.Pool, rows: list[tuple[Any, ...]]) -> None:
    async with pool.acquire() as conn:  # one connection per writer, autocommit
        for row in rows:
            await conn.execute(RAW_INSERT, *row)


async def _raw_read(pool: asyncpg.Pool) -> int:
    count = 0
    async with pool.acquire() as conn, conn.transaction(isolation="repeatable_read"):
        async for row in conn.cursor("SELECT body FROM events ORDER BY position", prefetch=2000):
            json.loads(row["body"])
            count += 1
    return count


async def _appends(pool: asyncpg.Pool, events: int, writers: int) -> dict[str, list[float]]:
    store, work = PostgresEventStore(pool, source="bench"), Workload(writers)
    rates: dict[str, list[float]] = {"raw": [], "store": []}
    for round_ in range(ROUNDS + 1):  # round 0 is the warm-up
        requests, rows = work.build(WARMUP if round_ == 0 else events)
        raw = await _timed([_raw_writer(pool, r) for r in rows])
        stored = await _timed([_store_writer(store, r) for r in requests])
        if round_:
            rates["raw"].append(events / raw)
            rates["store"].append(events / stored)
    return rates


async def _rebuilds(pool: asyncpg.Pool) -> tuple[int, dict[str, list[float]]]:
    rates: dict[str, list[float]] = {side: [] for side in ("raw", *REBUILDS)}
    total = await _raw_read(pool)  # warm-up: the log into the page cache
    for _ in range(ROUNDS):
        for side, series in rates.items():
            start = time.perf_counter()
            count = await (_raw_read(pool) if side == "raw" else REBUILDS[side].rebuild(pool))
            series.append(count / (time.perf_counter() - start))
            total = max(total, count)
    return total, rates


async def _measure(admin_dsn: str, events: int, writers: int, console: Console, drop: bool) -> None:
    name = f"gongkai_bench_{uuid.uuid4().hex[:8]}"
    await ensure_database(admin_dsn, name)
    try:
        dsn = with_database(admin_dsn, name)
        owner = await asyncpg.connect(dsn)
        try:
            await migrate(owner, ["shared.migrations"])
            await owner.execute(RAW_DDL)  # the raw side's table, granted like the log's
            role = await grant_runtime_role(owner, name)
            facts = {s: await owner.fetchval(f"SHOW {s}") for s in ("server_version", SYNC)}
        finally:
            await owner.close()
        pool = await open_pool(dsn, role=role, min_size=writers, max_size=writers + 2)
        try:
            with console.status(f"appending {events} events per side, {ROUNDS} rounds ..."):
                appends = await _appends(pool, events, writers)
            with console.status("rebuilding ..."):
                log_size, rebuilds = await _rebuilds(pool)
        finally:
            await pool.close()
    finally:
        if drop:  # an external server: leave nothing behind
            conn = await asyncpg.connect(admin_dsn)
            try:
                await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
                await conn.execute(f'DROP ROLE IF EXISTS "{runtime_role(name)}"')
            finally:
                await conn.close()
    raw_a, raw_r = appends["raw"], rebuilds["raw"]
    rows: list[tuple[str, list[float], list[float] | None, float | None]] = [
        (f"append: raw INSERT, {writers} conns", raw_a, None, None),
        (f"append: EventStore.append, {writers} writers", appends["store"], raw_a, APPEND_TARGET),
        ("read: raw cursor + json.loads", raw_r, None, None),
    ]
    for label in REBUILDS:
        target = None if "no-op" in label else REBUILD_TARGET
        rows.append((f"rebuild: {label}", rebuilds[label], raw_r, target))
    table = Table(title=f"gongkai bench: events/s, best of {ROUNDS} alternating rounds")
    for column in ("measurement", "rate", "ratio", "target", "met?"):
        table.add_column(column, justify="left" if column == "measurement" else "right")
    for what, rates, base, target in rows:
        ratio = max(rates) / max(base) if base else None
        met = ("yes" if ratio >= target else "NO") if ratio and target else ""
        shown = f"{ratio:.2f}" if ratio else ""
        table.add_row(what, f"{max(rates):,.0f}", shown, f"≥ {target}" if target else "", met)
    console.print(table)
    console.print(
        f"CPUs: {os.cpu_count()}; PostgreSQL {facts['server_version']} ({SYNC}={facts[SYNC]});"
        f" {events} events per side in {writers} partitions; each rebuild replays the whole"
        f" log ({log_size} events). Every round, events/s:"
    )
    for what, rates, _, _ in rows:
        median = statistics.median(rates)
        console.print(f"  {what}: {', '.join(f'{r:,.0f}' for r in rates)} (median {median:,.0f})")


async def run_bench(
    *, events: int, writers: int, database_url: str | None, console: Console
) -> None:
    configure_logging(json=False, level="WARNING")  # no log line per rebuild in the report
    if database_url:
        await _measure(database_url, events, writers, console, drop=True)
        return
    with tempfile.TemporaryDirectory(prefix="gongkai-bench-") as tmp:
        postgres = EmbeddedPostgres(Path(tmp) / "postgres")
        with console.status("starting the embedded PostgreSQL ..."):
            dsn = await asyncio.to_thread(postgres.start)
        try:
            await _measure(dsn, events, writers, console, drop=False)
        finally:
            await asyncio.to_thread(postgres.stop)
