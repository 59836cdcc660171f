"""Read models: projected in the appending transaction, rebuilt from the log on demand.

A service declares its read-model tables (DDL with unqualified names) and one projector
function. Live projection runs inside the command's transaction (read-your-writes). A
rebuild builds a fresh schema from the log while the old one keeps serving reads, catches
up under a short lock that holds appends back, and swaps the schemas (A2). The same code
builds a read model as of a past time or position into a schema of its own (A3).
"""

from __future__ import annotations

import asyncio
import json
import re
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any, cast

import asyncpg
import structlog

from shared.database import READ_SCHEMA, checksum
from shared.directory import project_directory
from shared.envelope import EventEnvelope
from shared.eventstore.postgres import COLUMNS, decode_row

log = structlog.get_logger()
ENSURE_LOCK = 4245  # replicas starting together build the read models once

Projector = Callable[[asyncpg.Connection, EventEnvelope], Awaitable[None]]

OWN = ""
# The service's own log and the events it consumed (inbox), as one relation to replay.
REPLAY = f"""
SELECT * FROM (
    SELECT {COLUMNS}, time, '' AS origin, partition AS key FROM events
    UNION ALL
    SELECT position, body, sequence, NULL, NULL, time, source, source || '/' || partition
    FROM inbox
) AS log"""


Step = Callable[[asyncpg.Connection, EventEnvelope, dict[str, Any]], Awaitable[None]]
ANY_SOURCE = "*"


# A service's table of projectors: its own events by type (`"PledgeProposed"`), consumed
# ones by the publishing service and type (`("pledge", "MemberEnrolled")`, or
# `(ANY_SOURCE, type)` for the same type from any other service).
Table = Mapping[str | tuple[str, str], Step]


class Projection:
    """Which step projects which event, from one explicit table (`projections/__init__.py`
    of each service). With `directory`, the pledge service's directory events keep the
    service's copy of the hierarchy (D2)."""

    def __init__(
        self,
        service: str,
        table: Table | None = None,
        *,
        directory: bool = False,
        batched: Mapping[str, BatchStep] | None = None,
    ) -> None:
        self.service = service
        self.directory = directory
        self.steps: dict[tuple[str, str], Step] = {}
        # the service's own events some step projects many at a time (the bulk path), with
        # the same outcome as one by one
        self.batched: dict[str, BatchStep] = dict(batched or {})
        for key, step in (table or {}).items():
            source, event_type = (service, key) if isinstance(key, str) else key
            self.on(event_type, source)(step)

    def on(self, event_type: str, source: str | None = None) -> Callable[[Step], Step]:
        key = (source or self.service, event_type)

        def register(step: Step) -> Step:
            if key in self.steps:
                raise ValueError(f"two projections of {key}")
            self.steps[key] = step
            return step

        return register

    def add(self, steps: Mapping[str, Step], source: str | None = None) -> None:
        for event_type, step in steps.items():
            self.on(event_type, source)(step)

    async def __call__(self, conn: asyncpg.Connection, envelope: EventEnvelope) -> None:
        source = envelope.source.rsplit("/", 1)[-1]
        if self.directory and source == "pledge" and await project_directory(conn, envelope):
            return
        step = self.steps.get((source, envelope.type))
        if step is None and source != self.service:
            step = self.steps.get((ANY_SOURCE, envelope.type))
        if step is not None:
            await step(conn, envelope, envelope.data)

    async def many(self, conn: asyncpg.Connection, envelopes: list[EventEnvelope]) -> None:
        """Project events in order: each run of one type with a batched step at once, the
        others one by one (the same outcome as one by one)."""
        run: list[EventEnvelope] = []
        for envelope in [*envelopes, None]:
            if run and (envelope is None or envelope.type != run[0].type):
                await self.batched[run[0].type](conn, run)
                run = []
            if envelope is None:
                break
            own = envelope.source.rsplit("/", 1)[-1] == self.service
            if own and envelope.type in self.batched:
                run.append(envelope)
            else:
                await self(conn, envelope)


BatchStep = Callable[[asyncpg.Connection, list[EventEnvelope]], Awaitable[None]]


AS_OF_KEPT = 4  # past states kept built for `as_of` reads
REPLAY_CHUNK = 1000  # events applied per committed transaction in a rebuild
SNAPSHOT_TIMEOUT = 3600.0  # seconds for the server to store a rebuild's snapshot of the log
YIELD_EVERY = 50  # events projected between two turns of the previous chunk's writes
# writes a replay chunk holds before sending them itself: a chunk's writes are sent by its
# commit, beside the next chunk's projecting, unless a projector writes this many (several
# rows an event); at the chunk's size, a projector writing a row an event sent them inline
WRITES_HELD = 10 * REPLAY_CHUNK


def _literal(moment: datetime) -> str:
    """A time as an SQL literal (DECLARE takes no parameters; this is a datetime, not text
    from a request)."""
    aware = moment if moment.tzinfo else moment.replace(tzinfo=UTC)  # as asyncpg reads it
    return f"'{aware.isoformat()}'::timestamptz"


async def _drop_old_snapshots(pool: asyncpg.Pool, keep: int, in_use: set[str]) -> None:
    """Keep the `keep` latest positions and any snapshot being read (one just built for an
    early moment is the oldest, and must outlive the read it was built for)."""
    rows = await pool.fetch("SELECT nspname FROM pg_namespace WHERE nspname ~ '^asof_[0-9]+$'")
    for name in sorted((r["nspname"] for r in rows), key=lambda n: int(n[5:]))[:-keep]:
        if name not in in_use:
            await pool.execute(f'DROP SCHEMA IF EXISTS "{name}" CASCADE')


async def drop_snapshots(conn: asyncpg.Connection) -> None:
    """Forget every past state built for `as_of` reads (they are rebuilt on demand): e.g. when
    an erasure (A7) must reach the read models of the past too."""
    rows = await conn.fetch("SELECT nspname FROM pg_namespace WHERE nspname LIKE 'asof\\_%'")
    for row in rows:
        await conn.execute(f'DROP SCHEMA IF EXISTS "{row["nspname"]}" CASCADE')


@dataclass(frozen=True)
class ReadModels:
    ddl: str
    project: Projector
    version: str = "1"  # bump when the projector changes meaning without a DDL change
    # the service's registry upcasts its old events before they are projected (invariant 6)
    upcast: Callable[[EventEnvelope], EventEnvelope] = lambda envelope: envelope
    _as_of_lock: asyncio.Lock = field(default_factory=asyncio.Lock, compare=False, repr=False)
    _as_of_readers: Counter[str] = field(default_factory=Counter, compare=False, repr=False)

    async def apply(self, conn: asyncpg.Connection, envelope: EventEnvelope) -> None:
        """Project one event, own or consumed, at its current schema version."""
        await self.project(conn, self.upcast(envelope))

    async def apply_many(self, conn: asyncpg.Connection, envelopes: list[EventEnvelope]) -> None:
        """Project many events in order (the bulk path): batched where the projection has a
        step for many, else one by one."""
        upcast = [self.upcast(e) for e in envelopes]
        if isinstance(self.project, Projection):
            await self.project.many(conn, upcast)
        else:
            for envelope in upcast:
                await self.project(conn, envelope)

    @property
    def checksum(self) -> str:
        return checksum(self.ddl + self.version)

    async def ensure(self, pool: asyncpg.Pool) -> None:
        """Build the live read models if they are missing or were built by other code.
        One replica at a time: the others, starting alongside, wait and find them built."""
        query = "SELECT checksum FROM read_model_state WHERE schema_name = $1"
        if await pool.fetchval(query, READ_SCHEMA) == self.checksum:
            return
        async with pool.acquire() as guard:
            await guard.execute("SELECT pg_advisory_lock($1)", ENSURE_LOCK)
            try:
                built = await guard.fetchval(query, READ_SCHEMA)
                if built != self.checksum:
                    reason = "missing" if built is None else "changed"
                    log.info("read_models_rebuilding", reason=reason)
                    async with pool.acquire() as conn:
                        await drop_snapshots(conn)  # past states built by the other code
                    await self.rebuild(pool)
            finally:
                await guard.execute("SELECT pg_advisory_unlock($1)", ENSURE_LOCK)

    async def rebuild(
        self,
        pool: asyncpg.Pool,
        *,
        into: str | None = None,
        until_time: datetime | None = None,
        until_position: int | None = None,
    ) -> int:
        """Rebuild into `into` (a separate schema, kept) or, by default, swap with the live one.

        Returns the number of events replayed.
        """
        # built under another name and renamed when complete: the replay commits as it goes,
        # and a half-built schema must never be found by its name
        building = f"{into or READ_SCHEMA}_next"
        async with pool.acquire() as conn:
            await conn.execute(f'DROP SCHEMA IF EXISTS "{building}" CASCADE')
            await conn.execute(f'CREATE SCHEMA "{building}"')
            await conn.execute(f'SET search_path = "{building}", public')
            try:
                await conn.execute(self.ddl)
                seen, replayed = await self._replay(pool, conn, until_time, until_position)
                if into is None:
                    await self._catch_up_and_swap(conn, building, seen)
                else:
                    async with conn.transaction():
                        await conn.execute(f'DROP SCHEMA IF EXISTS "{into}" CASCADE')
                        await conn.execute(f'ALTER SCHEMA "{building}" RENAME TO "{into}"')
            finally:
                await conn.execute(f"SET search_path = {READ_SCHEMA}, public")
        return replayed

    @asynccontextmanager
    async def as_of(
        self, pool: asyncpg.Pool, moment: datetime
    ) -> AsyncIterator[asyncpg.Connection]:
        """A3: a connection that reads the read models as they stood at `moment`: built once
        per log position into a schema of their own (the newest few are kept)."""
        position = await pool.fetchval(
            f"SELECT coalesce(max(position), 0) FROM ({REPLAY}) l WHERE time <= $1", moment
        )
        schema = f"asof_{position}"
        async with self._as_of_lock:
            self._as_of_readers[schema] += 1
            try:
                if not await pool.fetchval("SELECT 1 FROM pg_namespace WHERE nspname = $1", schema):
                    await self.rebuild(pool, into=schema, until_position=position)
                    await _drop_old_snapshots(pool, AS_OF_KEPT, set(+self._as_of_readers))
                conn = await pool.acquire()
            except BaseException:
                self._as_of_readers[schema] -= 1  # not read after all: may be pruned
                raise
        try:
            await conn.execute(f'SET search_path = "{schema}", public')
            yield conn
        finally:
            self._as_of_readers[schema] -= 1
            await conn.execute(f"SET search_path = {READ_SCHEMA}, public")
            await pool.release(conn)

    async def _replay(
        self,
        pool: asyncpg.Pool,
        conn: asyncpg.Connection,
        until_time: datetime | None,
        until_position: int | None,
    ) -> tuple[dict[str, int], int]:
        """Apply every event of one snapshot, own and consumed, in position order; the last
        sequence applied per partition (own) and per source and partition (consumed).

        Three things overlap: PostgreSQL hands over the next chunk of the stored snapshot
        (`ReadAhead`, on a connection of its own), this process decodes and projects the
        current one, and PostgreSQL writes the one before (on `conn`), chunk by chunk."""
        seen: dict[str, int] = {}
        replayed = 0
        bounds = (
            f" WHERE time <= {_literal(until_time)}" if until_time else " WHERE true",
            f" AND position <= {int(until_position)}" if until_position is not None else "",
        )
        sending: asyncio.Task[None] | None = None
        writes: BufferedWrites | None = None
        try:
            async with (
                pool.acquire() as reading,
                ReadAhead(reading, f"{REPLAY}{''.join(bounds)} ORDER BY position") as chunks,
            ):
                while rows := await chunks.next():
                    writes = BufferedWrites(conn, table_names(self.ddl), WRITES_HELD, after=sending)
                    for n, row in enumerate(rows, 1):
                        await self._apply(cast(asyncpg.Connection, writes), row, seen)
                        if n % YIELD_EVERY == 0:
                            await asyncio.sleep(0)  # the other two move on
                    replayed += len(rows)
                    # at most one chunk's writes in flight: memory stays bounded however
                    # long the log, and a slow writer holds the projecting back
                    await writes.after_previous()
                    sending = asyncio.create_task(writes.commit())
                    await asyncio.sleep(0)
            if sending is not None:
                await sending
        finally:
            if sending is not None:  # after a failure: let it end before the connection is used
                await asyncio.gather(sending, return_exceptions=True)
            if writes is not None:
                await writes.abandon()
        return seen, replayed

    async def _apply(
        self, conn: asyncpg.Connection, row: asyncpg.Record, seen: dict[str, int]
    ) -> None:
        if row["origin"] == OWN:
            envelope = decode_row(row)
            seen[envelope.partition] = envelope.sequence
        else:
            envelope = EventEnvelope.model_validate_json(row["body"])
            seen[f"{row['origin']}/{envelope.partition}"] = envelope.sequence
        await self.apply(conn, envelope)

    async def _catch_up_and_swap(
        self, conn: asyncpg.Connection, target: str, seen: dict[str, int]
    ) -> None:
        async with conn.transaction():
            # SHARE holds back every append (its head-row UPDATE comes before it projects)
            # and every consumed event (its position upsert comes before it projects) until
            # the swap commits; what committed since the snapshot is applied first.
            await conn.execute("LOCK TABLE partition_heads, consumer_positions IN SHARE MODE")
            rows = await conn.fetch(
                f"{REPLAY} WHERE sequence > coalesce(($1::jsonb ->> key)::bigint, 0)"
                " ORDER BY position",
                json.dumps(seen),
            )
            for row in rows:
                await self._apply(conn, row, seen)
            position = await conn.fetchval("SELECT coalesce(max(position), 0) FROM events")
            await conn.execute(f"DROP SCHEMA IF EXISTS {READ_SCHEMA} CASCADE")
            await conn.execute(f'ALTER SCHEMA "{target}" RENAME TO {READ_SCHEMA}')
            await conn.execute(
                "INSERT INTO read_model_state (schema_name, checksum, position)"
                " VALUES ($1, $2, $3) ON CONFLICT (schema_name) DO UPDATE"
                " SET checksum = EXCLUDED.checksum, position = EXCLUDED.position,"
                " rebuilt_at = now()",
                READ_SCHEMA,
                self.checksum,
                position,
            )
        log.info("read_models_rebuilt", caught_up=len(rows), position=position)


class ReadAhead:
    """A snapshot of the log, handed out a chunk at a time and fetched one chunk ahead.

    The snapshot is a cursor WITH HOLD: the server runs its query to the end when the
    declaring transaction commits and keeps the rows, so no snapshot stays open while the
    replay commits its chunks (a read model that updates the same few rows for every event
    leaves a row version per update, and PostgreSQL prunes them only once no open snapshot
    could still see them). That commit is one scan of the whole log, allowed longer than a
    command's timeout. Any failure closes the connection rather than leave a held cursor
    (and its stored rows) on a pooled one."""

    def __init__(self, conn: asyncpg.Connection, query: str) -> None:
        self._conn = conn
        self._query = query
        self._cursor = f"replay_{uuid.uuid4().hex[:12]}"
        self._chunks: asyncio.Queue[list[asyncpg.Record] | BaseException] = asyncio.Queue(1)
        self._reading: asyncio.Task[None] | None = None
        self._stopping = False

    async def __aenter__(self) -> ReadAhead:
        try:
            await self._conn.execute("BEGIN ISOLATION LEVEL REPEATABLE READ")
            await self._conn.execute(
                f"DECLARE {self._cursor} NO SCROLL CURSOR WITH HOLD FOR {self._query}"
            )
            await self._conn.execute("COMMIT", timeout=SNAPSHOT_TIMEOUT)
        except BaseException:
            self._conn.terminate()
            raise
        self._reading = asyncio.create_task(self._read())
        return self

    async def _read(self) -> None:
        try:
            while True:
                rows = await self._conn.fetch(f"FETCH {REPLAY_CHUNK} FROM {self._cursor}")
                await self._chunks.put(rows)
                if not rows or self._stopping:
                    return
        except Exception as failure:  # handed to the consumer, which raises it
            await self._chunks.put(failure)

    async def next(self) -> list[asyncpg.Record]:
        """The next chunk; empty at the end."""
        chunk = await self._chunks.get()
        if isinstance(chunk, BaseException):
            raise chunk
        return chunk

    async def __aexit__(self, kind: type[BaseException] | None, *_: object) -> None:
        # the reader ends after its next chunk, which finds room: the cursor is then free
        self._stopping = True
        while not self._chunks.empty():
            self._chunks.get_nowait()
        try:
            if self._reading is not None:
                await self._reading
            await self._conn.execute(f"CLOSE {self._cursor}")
        except BaseException:
            self._conn.terminate()
            if kind is None:
                raise  # else the replay's own failure is the one to report


class BufferedWrites:
    """The connection a projector sees during a rebuild: one chunk of the replay, committed
    by `commit`. Writes are queued per read-model table and sent with executemany,
    consecutive identical statements together. Writes to different tables commute (read
    models have no foreign keys or triggers), so only each table's own order is kept: a
    projector that inserts a row here and updates one there for every event still sends both
    in batches. A read, or a statement naming several tables or none, first sends what is
    queued for the tables it names (all, if none), so the projector always sees its own
    writes. Nothing touches the connection before the previous chunk's commit (`after`) has
    ended; the chunk's transaction begins at its first statement."""

    def __init__(
        self,
        conn: asyncpg.Connection,
        tables: re.Pattern[str],
        limit: int = 1000,
        *,
        after: asyncio.Task[None] | None = None,
    ):
        self._conn = conn
        self._tables = tables
        self._limit = limit
        self._previous = after
        self._transaction: Any = None
        self._queues: dict[str, list[tuple[str, list[tuple[Any, ...]]]]] = {}
        self._queued = 0

    async def after_previous(self) -> None:
        """Wait for the previous chunk's commit (raising its error): the connection is free."""
        if self._previous is not None:
            previous, self._previous = self._previous, None
            await previous

    async def _begin(self) -> None:
        await self.after_previous()
        if self._transaction is None:
            transaction = self._conn.transaction()
            await transaction.start()
            self._transaction = transaction  # only once begun: `abandon` rolls back what began
            # a crash loses nothing: the schema is not read until the swap, whose
            # synchronous commit also flushes these
            await self._conn.execute("SET LOCAL synchronous_commit = off")

    async def commit(self) -> None:
        try:
            await self._send(set())
        except BaseException:
            await self.abandon()
            raise
        transaction, self._transaction = self._transaction, None
        await transaction.commit()

    async def abandon(self) -> None:
        """Roll back a chunk begun and not committed (its replay failed)."""
        if self._transaction is not None and not self._conn.is_closed():
            transaction, self._transaction = self._transaction, None
            await transaction.rollback()

    async def execute(self, query: str, *args: Any) -> str:
        named = set(tables_named(self._tables, query))
        if len(named) != 1:
            await self._send(named)
            await self._conn.execute(query, *args)
            return ""
        runs = self._queues.setdefault(named.pop(), [])
        if runs and runs[-1][0] == query:
            runs[-1][1].append(args)
        else:
            runs.append((query, [args]))
        self._queued += 1
        if self._queued >= self._limit:
            await self._send(set())
        return ""

    async def _send(self, tables: set[str]) -> None:
        await self._begin()
        for table in tables or list(self._queues):
            for query, rows in self._queues.pop(table, []):
                await self._conn.executemany(query, rows)
        self._queued = sum(len(rows) for runs in self._queues.values() for _, rows in runs)

    async def _before_read(self, query: str) -> None:
        await self._send(set(tables_named(self._tables, query)))

    async def fetch(self, query: str, *args: Any) -> list[asyncpg.Record]:
        await self._before_read(query)
        return await self._conn.fetch(query, *args)  # type: ignore[no-any-return]

    async def fetchrow(self, query: str, *args: Any) -> asyncpg.Record | None:
        await self._before_read(query)
        return await self._conn.fetchrow(query, *args)

    async def fetchval(self, query: str, *args: Any) -> Any:
        await self._before_read(query)
        return await self._conn.fetchval(query, *args)


@lru_cache(maxsize=4096)
def tables_named(tables: re.Pattern[str], query: str) -> frozenset[str]:
    """The read-model tables a statement names (a projector's statements are few and fixed)."""
    return frozenset(tables.findall(query))


@lru_cache
def table_names(ddl: str) -> re.Pattern[str]:
    """Matches the names of the tables `ddl` creates, as whole words in a statement."""
    names = re.findall(r"CREATE\s+TABLE\s+(?:IF\s+NOT\s+EXISTS\s+)?(\w+)", ddl, re.IGNORECASE)
    return re.compile(rf"\b(?:{'|'.join(map(re.escape, names))})\b" if names else r"(?!)")


async def table_fingerprints(conn: asyncpg.Connection, schema: str) -> dict[str, str]:
    """An order-independent digest of every table's rows, to compare two schemas."""
    names = await conn.fetch(
        "SELECT tablename FROM pg_tables WHERE schemaname = $1 ORDER BY 1", schema
    )
    result = {}
    for record in names:
        table = record["tablename"]
        result[table] = await conn.fetchval(
            f"SELECT count(*)::text || ':' || coalesce(md5(string_agg(t::text, '|'"
            f' ORDER BY t::text)), \'\') FROM "{schema}"."{table}" t'
        )
    return result
