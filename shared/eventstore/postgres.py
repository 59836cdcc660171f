"""The PostgreSQL event store (asyncpg).

One statement appends an event: it checks the stream version, locks and advances the
partition's head row (gap-free sequence, hash chain computed by PostgreSQL) and inserts the
row. Townships are partitions with their own head rows, so they append in parallel.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Sequence
from datetime import datetime
from functools import partial
from typing import Any

import asyncpg

from shared.clock import Clock, SystemClock
from shared.envelope import GENESIS_HASH, EventEnvelope
from shared.errors import ConcurrencyConflict
from shared.eventstore.base import AppendRequest, BatchDrafts, draft_event

# Appends the next event of an existing stream: the guard refuses a version that would leave
# a gap; the unique (stream_id, stream_version) refuses one that was taken meanwhile.
APPEND = """
WITH guard AS (
    SELECT coalesce(max(stream_version), 0) AS version FROM events WHERE stream_id = $2
), head AS (
    UPDATE partition_heads h
       SET sequence = h.sequence + 1,
           prev_hash = h.hash,
           hash = sha256(h.hash || int8send(h.sequence + 1) || $7::bytea)
     WHERE h.partition = $1 AND (SELECT version FROM guard) = $3 - 1
    RETURNING h.sequence, h.prev_hash, h.hash
)
INSERT INTO events (id, stream_id, stream_version, partition, sequence, type, time, body,
                    prev_hash, hash)
SELECT $4, $2, $3, $1, head.sequence, $5, $6, $7, head.prev_hash, head.hash FROM head
RETURNING position, sequence, prev_hash, hash
"""

# Starts a stream: version 1 cannot leave a gap, and the unique index refuses a second start.
APPEND_FIRST = """
WITH head AS (
    UPDATE partition_heads h
       SET sequence = h.sequence + 1,
           prev_hash = h.hash,
           hash = sha256(h.hash || int8send(h.sequence + 1) || $7::bytea)
     WHERE h.partition = $1 AND $3::int = 1
    RETURNING h.sequence, h.prev_hash, h.hash
)
INSERT INTO events (id, stream_id, stream_version, partition, sequence, type, time, body,
                    prev_hash, hash)
SELECT $4, $2, $3, $1, head.sequence, $5, $6, $7, head.prev_hash, head.hash FROM head
RETURNING position, sequence, prev_hash, hash
"""

ENSURE_HEAD = """
INSERT INTO partition_heads (partition, sequence, hash, prev_hash) VALUES ($1, 0, $2, $2)
ON CONFLICT (partition) DO NOTHING
"""

COLUMNS = "position, body, sequence, prev_hash, hash"

# The bulk path (append_batch): each partition's head row locked until commit, as one append
# holds it, so its sequence stays gap-free and in log order.
LOCK_HEAD = "SELECT sequence, hash FROM partition_heads WHERE partition = $1 FOR UPDATE"
MOVE_HEADS = """
UPDATE partition_heads h SET sequence = m.sequence, prev_hash = m.prev_hash, hash = m.hash
  FROM unnest($1::text[], $2::bigint[], $3::bytea[], $4::bytea[])
       AS m (partition, sequence, prev_hash, hash)
 WHERE h.partition = m.partition
"""
VERSIONS = (
    "SELECT stream_id, max(stream_version) AS version FROM events"
    " WHERE stream_id = ANY($1::text[]) GROUP BY stream_id"
)
COPY_CHUNK = 2500  # events a COPY of the bulk path sends while the next ones are drafted
YIELD_EVERY = 25  # events drafted between two turns of the writes in flight
WRITES_AHEAD = 4  # writes (a chunk's COPY, its read models) under way while drafting goes on
BATCH_COLUMNS = (
    "id",
    "stream_id",
    "stream_version",
    "partition",
    "sequence",
    "type",
    "time",
    "body",
    "prev_hash",
    "hash",
)


async def _lock_heads(conn: asyncpg.Connection, state: BatchState, partitions: list[str]) -> None:
    """The head rows of `partitions` (sorted: one lock order, no deadlock) locked until the
    transaction ends, and where they stand kept in `state`."""
    for partition in partitions:
        row = await conn.fetchrow(LOCK_HEAD, partition)
        state.heads[partition] = (row["sequence"], row["hash"])


def decode_row(row: asyncpg.Record) -> EventEnvelope:
    """The stored body plus the columns the store assigned, parsed in one pass."""
    tail = b',"sequence":%d,"prevhash":"%s","hash":"%s"}' % (
        row["sequence"],
        row["prev_hash"].hex().encode(),
        row["hash"].hex().encode(),
    )
    return EventEnvelope.model_validate_json(row["body"][:-1] + tail)


class BatchState:
    """A transaction's bulk appends (`append_batch`) from one batch to the next: where its
    batches left each partition's head (locked by this transaction until it ends, its row
    written by `settle`) and each stream they appended to, and the writes still under way
    on its connection, one after another in the order sent (a failed one fails every later
    one, and `settle` raises it).

    The connection is the writes' while any is under way: whoever reads or writes on it
    otherwise calls `settle` first, and the transaction must not end before `settle` (or,
    when it is being abandoned, `abandon`). An append made otherwise in the transaction moves
    the heads: after it, a new state."""

    def __init__(self, conn: asyncpg.Connection) -> None:
        self.conn = conn
        self.heads: dict[str, tuple[int, bytes]] = {}
        self.versions: dict[str, int] = {}
        self.moved: dict[str, bytes] = {}  # heads advanced, not yet written: last prev_hash
        self.broken = False
        self._writes: deque[asyncio.Task[Any]] = deque()

    def send(self, write: Callable[[], Awaitable[Any]]) -> None:
        """Run `write` on the connection after every write sent before it."""
        previous = self._writes[-1] if self._writes else None

        async def run() -> None:
            if previous is not None:
                await previous  # its failure is this one's: nothing after it runs
            await write()

        self._writes.append(asyncio.create_task(run()))

    async def ready(self) -> None:
        """Wait until at most WRITES_AHEAD writes are under way (the CPU stays a little ahead
        of PostgreSQL, and no further)."""
        while len(self._writes) > WRITES_AHEAD:
            await self._writes.popleft()

    async def settle(self) -> None:
        """The heads written where the batches left them (one statement, however many
        batches moved them), every write sent done; the first failure raised. A state that
        failed once stays failed: its transaction must roll back, never commit."""
        if self.broken:
            raise RuntimeError("an earlier batch of this transaction failed: it must roll back")
        if self.moved:
            moved, self.moved = self.moved, {}
            self.send(
                partial(
                    self.conn.execute,
                    MOVE_HEADS,
                    list(moved),
                    [self.heads[p][0] for p in moved],
                    list(moved.values()),
                    [self.heads[p][1] for p in moved],
                )
            )
        try:
            while self._writes:
                await self._writes.popleft()
        except BaseException:
            self.broken = True  # a write refused: what came after it was never written
            raise

    async def abandon(self) -> None:
        """Every write sent ended, failures ignored (the transaction is being abandoned)."""
        writes, self._writes, self.moved = list(self._writes), deque(), {}
        await asyncio.gather(*writes, return_exceptions=True)


class PostgresEventStore:
    def __init__(self, pool: asyncpg.Pool, *, source: str, clock: Clock | None = None) -> None:
        self.pool = pool
        self.source = source
        self.clock = clock or SystemClock()
        self._known_partitions: set[str] = set()

    async def _ensure_head(self, partition: str) -> None:
        if partition not in self._known_partitions:
            await self.pool.execute(ENSURE_HEAD, partition, bytes.fromhex(GENESIS_HASH))
            self._known_partitions.add(partition)

    async def append(self, request: AppendRequest, *, conn: Any = None) -> list[EventEnvelope]:
        await self._ensure_head(request.partition)
        if conn is not None:
            stored = await self._append_on(conn, request)
        elif len(request.events) == 1:  # one statement is its own transaction
            async with self.pool.acquire() as own:
                stored = await self._append_on(own, request)
        else:
            async with self.pool.acquire() as own, own.transaction():
                stored = await self._append_on(own, request)
        return stored

    async def _append_on(
        self, conn: asyncpg.Connection, request: AppendRequest
    ) -> list[EventEnvelope]:
        now = self.clock.now()
        stored = []
        for index, event in enumerate(request.events):
            draft = draft_event(
                source=self.source, request=request, index=index, event=event, now=now
            )
            try:
                row = await conn.fetchrow(
                    APPEND_FIRST if draft.streamversion == 1 else APPEND,
                    request.partition,
                    request.stream_id,
                    draft.streamversion,
                    draft.attrs["id"],
                    draft.attrs["type"],
                    draft.time,
                    draft.body,
                )
            except asyncpg.UniqueViolationError as error:
                raise self._conflict(request) from error
            if row is None:
                raise self._conflict(request)
            stored.append(draft.seal(row["sequence"], row["prev_hash"].hex(), row["hash"].hex()))
        return stored

    async def append_batch(
        self,
        requests: Sequence[AppendRequest],
        *,
        conn: asyncpg.Connection,
        state: BatchState | None = None,
        then: Callable[[list[EventEnvelope]], Awaitable[None]] | None = None,
    ) -> list[EventEnvelope]:
        """Many appends at once, in the caller's transaction, with every invariant of
        `append`: each partition's head row locked and advanced (gap-free sequence, the same
        hash chain, computed here as `chain_hash` does), each stream's version checked (existing
        streams against the log; a new stream's first version by the unique index), the rows
        written by one COPY a chunk, each chunk followed by `then` (the read models) for its
        events. The events come back in the requests' order (several requests may continue
        the same stream).

        With a `state` (the transaction's, kept between its batches), the writes may still be
        under way when this returns: `state.settle()` waits for them (and raises what refused
        them); the next batch goes on from where this one left the heads and versions,
        without reading them again."""
        if not requests:
            return []
        own = state is None
        state = state or BatchState(conn)
        if state.broken:
            raise RuntimeError("an earlier batch of this transaction failed: it must roll back")
        try:
            stored = await self._batch(requests, conn, state, then)
            if own:
                await state.settle()
        except BaseException:
            state.broken = True  # its heads and versions went ahead of what was written
            await state.abandon()  # refused: the connection is free when this raises
            raise
        return stored

    async def _batch(
        self,
        requests: Sequence[AppendRequest],
        conn: asyncpg.Connection,
        state: BatchState,
        then: Callable[[list[EventEnvelope]], Awaitable[None]] | None,
    ) -> list[EventEnvelope]:
        for partition in {r.partition for r in requests}:
            await self._ensure_head(partition)
        drafts = BatchDrafts(self.source, self.clock.now())
        versions, heads = state.versions, state.heads
        # the versions the batch starts from, for streams it continues (unless an earlier
        # batch of this transaction left them), and the partitions' head rows, locked
        continued = sorted(
            {r.stream_id for r in requests if r.expected_version > 0} - versions.keys()
        )
        partitions = sorted({r.partition for r in requests} - heads.keys())
        if continued or partitions:
            await state.settle()  # the connection's turn: what is in flight first
        if continued:
            rows = await conn.fetch(VERSIONS, continued)
            versions.update({r["stream_id"]: r["version"] for r in rows})
        await _lock_heads(conn, state, partitions)
        records: list[tuple[Any, ...]] = []
        stored: list[EventEnvelope] = []
        chunk: list[EventEnvelope] = []
        # the rows go by one COPY a chunk, each chunk's read models after it, sent while the
        # next chunk is drafted (this process's CPU and PostgreSQL's work overlap)
        for request in requests:
            at = versions.get(request.stream_id, 0)
            if at != request.expected_version:
                raise self._conflict(request)
            versions[request.stream_id] = at + len(request.events)
            sequence, prev = heads[request.partition]
            for index, event in enumerate(request.events):
                draft = drafts.draft(request, index, event)
                sequence += 1
                # chain_hash's formula, on bytes: sha256(prev || int8 big-endian || body)
                digest = hashlib.sha256(prev + sequence.to_bytes(8, "big") + draft.body).digest()
                records.append(
                    (
                        draft.attrs["id"],  # text: asyncpg writes a uuid from it
                        request.stream_id,
                        draft.streamversion,
                        request.partition,
                        sequence,
                        draft.attrs["type"],
                        draft.time,
                        draft.body,
                        prev,
                        digest,
                    )
                )
                envelope = draft.seal(sequence, prev.hex(), digest.hex(), last_use=True)
                stored.append(envelope)
                chunk.append(envelope)
                state.moved[request.partition] = prev
                prev = digest
                if len(stored) % YIELD_EVERY == 0:
                    await asyncio.sleep(0)  # the writes in flight move on
            heads[request.partition] = (sequence, prev)
            if len(records) >= COPY_CHUNK:
                await self._send(state, records, chunk, then)
                records, chunk = [], []
        if records:
            await self._send(state, records, chunk, then)
        return stored

    async def lock_partitions(
        self, partitions: Iterable[str], *, conn: asyncpg.Connection, state: BatchState
    ) -> None:
        """Lock these partitions' head rows now, for the rest of the caller's transaction, in
        one order (sorted), before its bulk appends. A batch locks the partitions it is the
        first to touch, in order, but a transaction of many batches touching townships in the
        order of its input (a roster file) would take them in that order: two such, over the
        same townships in opposite orders, each held one and waited for the other's (a
        deadlock). Locked up front, the second waits for the first to end, then goes on."""
        wanted = sorted(set(partitions) - state.heads.keys())
        if not wanted:
            return
        for partition in wanted:
            await self._ensure_head(partition)
        await state.settle()  # the connection's turn: what is in flight first
        await _lock_heads(conn, state, wanted)

    async def _send(
        self,
        state: BatchState,
        records: list[tuple[Any, ...]],
        chunk: list[EventEnvelope],
        then: Callable[[list[EventEnvelope]], Awaitable[None]] | None,
    ) -> None:
        await state.ready()  # a bounded number of chunks in flight: memory stays bounded
        state.send(partial(self._copy, state.conn, records))
        if then is not None:
            state.send(partial(then, chunk))

    @staticmethod
    async def _copy(conn: asyncpg.Connection, records: list[tuple[Any, ...]]) -> str:
        try:
            status: str = await conn.copy_records_to_table(
                "events", records=records, columns=BATCH_COLUMNS
            )
        except asyncpg.UniqueViolationError as error:
            raise ConcurrencyConflict(
                "记录已被他人修改：请刷新页面后再试。", stream_id="batch"
            ) from error
        return status

    @staticmethod
    def _conflict(request: AppendRequest) -> ConcurrencyConflict:
        return ConcurrencyConflict(
            f"记录已被他人修改（{request.stream_id} 已不是第 {request.expected_version} 版）："
            "请刷新页面后再试。",
            stream_id=request.stream_id,
            expected_version=request.expected_version,
        )

    async def read_stream(
        self, stream_id: str, *, conn: Any = None, after_version: int = 0
    ) -> list[EventEnvelope]:
        """The stream's events in order (only those after `after_version`, if given)."""
        query = (
            f"SELECT {COLUMNS} FROM events WHERE stream_id = $1 AND stream_version > $2"
            " ORDER BY stream_version"
        )
        rows = await (conn or self.pool).fetch(query, stream_id, after_version)
        return [decode_row(r) for r in rows]

    async def read_all(
        self,
        *,
        after_position: int = 0,
        until_position: int | None = None,
        until_time: datetime | None = None,
        batch: int = 1000,
    ) -> AsyncIterator[tuple[int, EventEnvelope]]:
        query = (
            f"SELECT {COLUMNS} FROM events WHERE position > $1"
            " AND ($2::bigint IS NULL OR position <= $2)"
            " AND ($3::timestamptz IS NULL OR time <= $3)"
            " ORDER BY position LIMIT $4"
        )
        position = after_position
        while True:
            rows = await self.pool.fetch(query, position, until_position, until_time, batch)
            for row in rows:
                position = row["position"]
                yield position, decode_row(row)
            if len(rows) < batch:
                return
