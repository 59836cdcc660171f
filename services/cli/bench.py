"""`gongkai bench`: the event store's append and rebuild rates against raw asyncpg.

Both sides run on the same PostgreSQL, alternately (raw, store, raw, store, ...) after a
warm-up; each side's best round is reported. Inputs (requests, rows) are built before timing.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
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

from shared.database import ensure_database, grant_runtime_role, migrate, open_pool
from shared.embedded import EmbeddedPostgres
from shared.envelope import EventEnvelope
from shared.events import DomainEvent
from shared.eventstore.base import AppendRequest, CommandContext, new_envelope
from shared.eventstore.postgres import PostgresEventStore
from shared.projections import ReadModels
from shared.settings import with_database

ROUNDS = 3
WARMUP = 400  # events per side, not timed
APPEND_TARGET, REBUILD_TARGET = 0.7, 0.35

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
    "INSERT INTO raw_events (id, stream_id, stream_version, partition, sequence, type, time,"
    " body, prev_hash, hash) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"
)
COUNTS_DDL = "CREATE TABLE counts (partition text PRIMARY KEY, n bigint NOT NULL);"
UPSERT = "INSERT INTO counts VALUES ($1, 1) ON CONFLICT (partition) DO UPDATE SET n = counts.n + 1"


class BenchPledgeMade(DomainEvent):
    aggregate_type: ClassVar[str] = "bench"
    pledge_id: str
    township: str
    title: str
    description: str
    due_date: str
    n: int


async def _count(conn: asyncpg.Connection, envelope: EventEnvelope) -> None:
    await conn.execute(UPSERT, envelope.partition)


async def _noop(conn: asyncpg.Connection, envelope: EventEnvelope) -> None:
    return None


COUNTS = ReadModels(ddl=COUNTS_DDL, project=_count)
NOOP = ReadModels(ddl=COUNTS_DDL, project=_noop, version="noop")
CONTEXT = CommandContext(actor="bench", role="county_admin")


class Workload:
    """Per-writer inputs for both sides: the same events, rows with the same body bytes."""

    def __init__(self, writers: int) -> None:
        self.writers = writers
        self.sequences = [0] * writers  # the raw side's own gap-free sequence per partition

    def build(self, events: int) -> tuple[list[list[AppendRequest]], list[list[tuple[Any, ...]]]]:
        requests: list[list[AppendRequest]] = []
        rows: list[list[tuple[Any, ...]]] = []
        for w in range(self.writers):
            count = events // self.writers + (w < events % self.writers)
            mine = [self._request(w) for _ in range(count)]
            requests.append(mine)
            rows.append([self._row(w, r) for r in mine])
        return requests, rows

    @staticmethod
    def _request(w: int) -> AppendRequest:
        pledge = f"pledge-{uuid.uuid4().hex}"
        event = BenchPledgeMade(
            pledge_id=pledge,
            township=f"t-{w}",
            title="为群众办实事：村道硬化与路灯安装",
            description="本季度完成村内主干道硬化约1.2公里，安装太阳能路灯40盏，接受群众评议。",
            due_date="2025-12-31",
            n=w,
        )
        return AppendRequest(pledge, f"t-{w}", 0, [event], CONTEXT)

    def _row(self, w: int, request: AppendRequest) -> tuple[Any, ...]:
        draft = new_envelope(
            source="bench",
            request=request,
            index=0,
            event=request.events[0],
            now=datetime.now(UTC),
        )
        body = draft.body()
        self.sequences[w] += 1
        prev = hashlib.sha256(draft.id.encode()).digest()
        return (
            uuid.UUID(draft.id),
            draft.streamid,
            1,
            draft.partition,
            self.sequences[w],
            draft.type,
            draft.time,
            body,
            prev,
            hashlib.sha256(prev + body).digest(),
        )


async def _timed(tasks: Sequence[Awaitable[Any]]) -> float:
    start = time.perf_counter()
    await asyncio.gather(*tasks)
    return time.perf_counter() - start


async def _store_writer(store: PostgresEventStore, requests: list[AppendRequest]) -> None:
    for request in requests:
        await store.append(request)


async def _raw_writer(pool: asyncpg.Pool, rows: list[tuple[Any, ...]]) -> None:
    async with pool.acquire() as conn:
        for row in rows:
            await conn.execute(RAW_INSERT, *row)


async def _raw_read(pool: asyncpg.Pool) -> int:
    count = 0
    async with pool.acquire() as conn, conn.transaction(isolation="repeatable_read"):
        async for row in conn.cursor("SELECT body FROM events ORDER BY position", prefetch=2000):
            json.loads(row["body"])
            count += 1
    return count


async def _appends(
    pool: asyncpg.Pool, events: int, writers: int
) -> tuple[list[float], list[float]]:
    store = PostgresEventStore(pool, source="bench")
    work = Workload(writers)
    raw_rates: list[float] = []
    store_rates: list[float] = []
    for round_ in range(ROUNDS + 1):  # round 0 is the warm-up
        requests, rows = work.build(WARMUP if round_ == 0 else events)
        n = sum(map(len, rows))
        raw = await _timed([_raw_writer(pool, r) for r in rows])
        stored = await _timed([_store_writer(store, r) for r in requests])
        if round_:
            raw_rates.append(n / raw)
            store_rates.append(n / stored)
    return raw_rates, store_rates


async def _rebuilds(pool: asyncpg.Pool) -> tuple[int, dict[str, list[float]]]:
    rates: dict[str, list[float]] = {"raw": [], "store": [], "noop": []}
    total = 0
    for round_ in range(ROUNDS + 1):  # round 0 is the warm-up
        for side in rates:
            start = time.perf_counter()
            if side == "raw":
                count = await _raw_read(pool)
            else:
                count = await (COUNTS if side == "store" else NOOP).rebuild(pool)
            if round_:
                rates[side].append(count / (time.perf_counter() - start))
            total = max(total, count)
    return total, rates


async def _measure(
    admin_dsn: str, events: int, writers: int, console: Console, *, drop: bool
) -> None:
    name = f"gongkai_bench_{uuid.uuid4().hex[:8]}"
    await ensure_database(admin_dsn, name)
    dsn = with_database(admin_dsn, name)
    owner = await asyncpg.connect(dsn)
    try:
        await migrate(owner, ["shared.migrations"])
        role = await grant_runtime_role(owner, name)
        version = await owner.fetchval("SHOW server_version")
        sync = await owner.fetchval("SHOW synchronous_commit")
    finally:
        await owner.close()
    pool = await open_pool(dsn, role=role, min_size=writers, max_size=writers + 2)
    try:
        await pool.execute(RAW_DDL)
        with console.status(f"appending {events} events per side, {ROUNDS} rounds ..."):
            raw_append, store_append = await _appends(pool, events, writers)
        with console.status("rebuilding ..."):
            log_size, rebuild = await _rebuilds(pool)
    finally:
        await pool.close()
    if drop:  # an external server: leave nothing behind
        conn = await asyncpg.connect(admin_dsn)
        try:
            await conn.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
            await conn.execute(f'DROP ROLE IF EXISTS "{role}"')
        finally:
            await conn.close()

    table = Table(title=f"gongkai bench: best of {ROUNDS} alternating rounds (events/s)")
    for column in ("measurement", "rate", "ratio", "target", "met?"):
        table.add_column(column, justify="left" if column == "measurement" else "right")

    def row(
        what: str, rates: list[float], base: list[float] | None = None, target: float | None = None
    ) -> None:
        ratio = max(rates) / max(base) if base else None
        met = "" if ratio is None or target is None else ("yes" if ratio >= target else "NO")
        table.add_row(
            what,
            f"{max(rates):,.0f}",
            "" if ratio is None else f"{ratio:.2f}",
            "" if target is None else f"≥ {target:.2f}",
            met,
        )

    row(f"append: raw asyncpg INSERT ({writers} conns)", raw_append)
    row(
        f"append: PostgresEventStore.append ({writers} writers)",
        store_append,
        raw_append,
        APPEND_TARGET,
    )
    row("read: raw cursor SELECT body + json.loads", rebuild["raw"])
    row(
        "rebuild: ReadModels.rebuild, upsert projector",
        rebuild["store"],
        rebuild["raw"],
        REBUILD_TARGET,
    )
    row("rebuild: ReadModels.rebuild, no-op projector", rebuild["noop"], rebuild["raw"])
    console.print(table)
    console.print(
        f"{events} events per side in {writers} partitions; rebuilds replay the whole"
        f" log ({log_size} events); CPUs: {os.cpu_count()}; PostgreSQL {version}"
        f" (synchronous_commit={sync})"
    )
    for label, rates in (
        ("append raw", raw_append),
        ("append store", store_append),
        *((f"rebuild {k}", v) for k, v in rebuild.items()),
    ):
        console.print(f"  {label}: " + ", ".join(f"{r:,.0f}" for r in rates))


async def run_bench(
    *, events: int, writers: int, database_url: str | None, console: Console
) -> None:
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
