"""`gongkai bench store`: the event store's append and rebuild rates against raw asyncpg and
against the Python `eventsourcing` library, on the same PostgreSQL at the same concurrency.

The sides run alternately (raw, store, library, raw, ...) after a warm-up; each side's best
round is reported. Inputs (requests, rows, aggregates) are built before timing.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import time
import uuid
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any, ClassVar

import asyncpg

from gongkai.bench import eventsourcing_lib as library
from gongkai.bench.common import Bench, Figure, Sizes, alternate, best, report, timed, versus
from shared.database import open_pool
from shared.envelope import EventEnvelope
from shared.events import DomainEvent
from shared.eventstore.base import AppendRequest, CommandContext, draft_event
from shared.eventstore.postgres import PostgresEventStore
from shared.projections import ReadModels

WARMUP = 400  # events per side, not timed
APPEND_TARGET, REBUILD_TARGET = 0.7, 0.35
LIBRARY_TARGETS = {1: 2.0, 8: 4.0}  # the store against the library, by writers
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
        self.prefix = f"w{writers}-t-"  # partitions of their own per concurrency
        self.sequences = [0] * writers  # the raw side's own gap-free sequence per partition

    def build(self, events: int) -> tuple[list[list[AppendRequest]], list[list[tuple[Any, ...]]]]:
        requests = [
            [self._request(w) for _ in range(events // self.writers + (w < events % self.writers))]
            for w in range(self.writers)
        ]
        return requests, [[self._row(w, r) for r in mine] for w, mine in enumerate(requests)]

    @staticmethod
    def payloads(requests: list[list[AppendRequest]]) -> list[list[dict[str, str]]]:
        """The same events' data, for the library's aggregates."""
        return [[r.events[0].model_dump(mode="json") for r in mine] for mine in requests]

    def _request(self, w: int) -> AppendRequest:
        pledge, partition = f"pledge-{uuid.uuid4().hex}", f"{self.prefix}{w}"
        event = BenchPledgeMade(pledge_id=pledge, township=partition, **PAYLOAD)
        return AppendRequest(pledge, partition, 0, [event], CONTEXT)

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


async def _store_writer(
    store: PostgresEventStore, pool: asyncpg.Pool, requests: list[AppendRequest]
) -> None:
    # one connection per writer, as on the raw side; a command's unit of work hands the store
    # its connection the same way (append(conn=...))
    async with pool.acquire() as conn:
        for request in requests:  # one event per command, each to a new stream
            await store.append(request, conn=conn)


async def _store_borrowing_writer(store: PostgresEventStore, requests: list[AppendRequest]) -> None:
    for request in requests:  # each append borrows a connection from the pool and returns it
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


async def _appends(
    pool: asyncpg.Pool, app: library.BenchPledges, events: int, writers: int, rounds: int
) -> dict[str, list[float]]:
    store, work = PostgresEventStore(pool, source="bench"), Workload(writers)
    requests: list[list[AppendRequest]] = []  # this round's, the same for every side

    async def raw(warm_up: bool) -> float:
        built, rows = work.build(WARMUP if warm_up else events)
        requests[:] = built
        return sum(map(len, rows)) / await timed([_raw_writer(pool, r) for r in rows])

    async def stored(warm_up: bool) -> float:
        writing = [_store_writer(store, pool, r) for r in requests]
        return sum(map(len, requests)) / await timed(writing)

    async def borrowing(warm_up: bool) -> float:
        renamed = [
            [replace(r, stream_id=f"pledge-{uuid.uuid4().hex}") for r in w] for w in requests
        ]
        writing = [_store_borrowing_writer(store, r) for r in renamed]  # streams of their own
        return sum(map(len, requests)) / await timed(writing)

    async def lib(warm_up: bool) -> float:
        aggregates = library.build(work.payloads(requests))
        return sum(map(len, requests)) / await asyncio.to_thread(library.append, app, aggregates)

    return await alternate(
        {"raw": raw, "store": stored, "borrowing": borrowing, "library": lib}, rounds
    )


async def _rebuilds(
    pool: asyncpg.Pool, app: library.BenchPledges, rounds: int
) -> tuple[int, dict[str, list[float]]]:
    total = await _raw_read(pool)  # the log into the page cache
    await asyncio.to_thread(library.replay, app)

    def side(replay: Any) -> Any:
        async def one(warm_up: bool) -> float:
            start = time.perf_counter()
            count = await replay()
            return float(count) / (time.perf_counter() - start)

        return one

    sides = {"raw": side(lambda: _raw_read(pool))}
    for label, models in REBUILDS.items():
        sides[label] = side(lambda models=models: models.rebuild(pool))
    sides["library"] = side(lambda: asyncio.to_thread(library.replay, app))
    rates = await alternate(sides, rounds)
    return total, rates


async def measure(bench: Bench, sizes: Sizes) -> list[Figure]:
    events, writers = sizes.events, sizes.writers
    dsn, role = await bench.database("store", RAW_DDL)  # the raw side's table, granted alike
    owner = await asyncpg.connect(dsn)
    try:
        facts = {s: await owner.fetchval(f"SHOW {s}") for s in ("server_version", SYNC)}
    finally:
        await owner.close()
    top = max(writers)
    pool = await open_pool(dsn, role=role, min_size=top, max_size=top + 2)
    app = await asyncio.to_thread(library.open_application, dsn, top)
    figures: list[Figure] = []
    try:
        for n in writers:
            with bench.console.status(f"appending {events} events per side, {n} writers ..."):
                rates = await _appends(pool, app, events, n, bench.rounds)
            raw = best(f"append: raw INSERT, {n} conns", rates["raw"])
            lib = best(f"append: eventsourcing library, {n} threads", rates["library"])
            figures += [
                raw,
                lib,
                versus(
                    f"append: EventStore.append, {n} writers, vs raw",
                    rates["store"],
                    raw,
                    APPEND_TARGET if n == 8 else None,
                ),
                versus(
                    f"append: EventStore.append, {n} writers, vs library",
                    rates["store"],
                    lib,
                    LIBRARY_TARGETS.get(n),
                ),
                versus(
                    f"append: EventStore.append, {n} writers, a pool connection each",
                    rates["borrowing"],
                    raw,
                ),
            ]
        with bench.console.status("rebuilding ..."):
            log_size, rebuilds = await _rebuilds(pool, app, bench.rounds)
    finally:
        await asyncio.to_thread(app.close)
        await pool.close()
    read = best("read: raw cursor + json.loads", rebuilds["raw"])
    figures.append(read)
    for label in REBUILDS:
        target = None if "no-op" in label else REBUILD_TARGET
        figures.append(versus(f"rebuild: {label}", rebuilds[label], read, target))
    figures.append(
        versus("replay: eventsourcing library, read + decode", rebuilds["library"], read)
    )
    report(
        bench.console,
        f"store: events/s, best of {bench.rounds} alternating rounds",
        figures,
        f"CPUs: {os.cpu_count()}; PostgreSQL {facts['server_version']} ({SYNC}={facts[SYNC]});"
        f" {events} events per side per round, one per command, our writers in as many"
        f" partitions; each rebuild replays the whole log ({log_size} events). Every round:",
    )
    return figures
