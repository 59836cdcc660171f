"""Running a command: one transaction that loads aggregates, appends their new events,
projects them into the read models and remembers the idempotency key's response.

A handler sees only the unit of work: the event store (any `EventStore`) and the read ports
it asks for with `uow.port(factory)`, a factory that builds a port on the transaction's
connection. A unit of work without a database (tests/support/memory.py) is handed the ports
instead, keyed by the same factories, so handlers run with no server at all."""

from __future__ import annotations

import gc
import hashlib
import json
import pickle
import secrets
from collections import Counter
from collections.abc import Awaitable, Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, tzinfo
from typing import Any, TypeVar, cast

import asyncpg
from pydantic import BaseModel

from shared.aggregate import Aggregate
from shared.envelope import EventEnvelope
from shared.errors import ConcurrencyConflict, IdempotencyKeyReused, NotFound
from shared.events import EventRegistry
from shared.eventstore.base import AppendRequest, CommandContext, EventStore
from shared.eventstore.postgres import BatchState, PostgresEventStore
from shared.metrics import EVENTS_APPENDED
from shared.projections import Projector

A = TypeVar("A", bound=Aggregate)
P = TypeVar("P")

# Builds a read port on the transaction's connection (e.g. `queries.copies`).
PortFactory = Callable[[asyncpg.Connection], P]


@dataclass(frozen=True)
class Idempotency:
    principal: str
    key: str
    request_hash: str

    @staticmethod
    def hash_request(method: str, path: str, body: bytes) -> str:
        return hashlib.sha256(method.encode() + b" " + path.encode() + b"\n" + body).hexdigest()


@dataclass
class UnitOfWork:
    database: asyncpg.Connection | None  # the transaction's; None for a unit in memory
    store: EventStore
    registry: EventRegistry
    project: Callable[[Any, EventEnvelope], Awaitable[None]]  # called with `database`
    context: CommandContext
    local_timezone: tzinfo = UTC
    appended: list[EventEnvelope] = field(default_factory=list)
    # ports handed in, by the factory that would build each on the connection
    ports: dict[Callable[..., Any], Any] = field(default_factory=dict)
    # projects many events at once (ReadModels.apply_many), for the bulk path
    project_many: Callable[[Any, list[EventEnvelope]], Awaitable[None]] | None = None
    staged: list[AppendRequest] = field(default_factory=list)
    # the bulk path's batches in this transaction: their heads, versions and writes in flight
    batches: BatchState | None = None

    @property
    def conn(self) -> asyncpg.Connection:
        """The transaction's connection, for reads not yet behind a port."""
        if self.database is None:
            raise RuntimeError("this unit of work has no database: read through uow.port()")
        return self.database

    def port(self, factory: PortFactory[P]) -> P:
        """The read port `factory` builds on this transaction, or the one handed in for it."""
        if factory in self.ports:
            return cast(P, self.ports[factory])
        return factory(self.conn)

    def today(self) -> date:
        """The local date now (deadlines and meeting dates are local dates)."""
        return self.store.clock.now().astimezone(self.local_timezone).date()

    async def load(
        self, kind: type[A], stream_id: str, cache: StateCache | None = None
    ) -> A | None:
        """The aggregate replayed from its stream; with a `cache`, from the state it last
        read there (a copy) and only the events appended since: for a stream hundreds of
        commands a minute load (a round's ballots), where each would replay it all. The
        cached state is used only if the stream still has, at its version, the event it was
        last built from (another database, a restored one: replayed from the start)."""
        await self.settle()  # a batch's writes still under way come first
        kept = cache.get(stream_id) if cache is not None else None
        if cache is not None and kept is not None:
            last_id, state = kept
            envelopes = await self.store.read_stream(
                stream_id, conn=self.database, after_version=state.version - 1
            )
            if envelopes and envelopes[0].id == last_id:
                aggregate: A = pickle.loads(state.bytes)  # noqa: S301 - our own bytes
                return self._kept(aggregate, envelopes[1:], cache)
        envelopes = await self.store.read_stream(stream_id, conn=self.database)
        if not envelopes:
            return None
        events = [self.registry.decode(e.type, e.schemaversion, e.data) for e in envelopes]
        aggregate = kind.replay(stream_id, envelopes[-1].partition, events)
        if cache is not None:
            cache.keep(stream_id, envelopes[-1].id, aggregate)
        return aggregate

    def _kept(self, aggregate: A, envelopes: list[EventEnvelope], cache: StateCache) -> A:
        for envelope in envelopes:
            aggregate.apply(
                self.registry.decode(envelope.type, envelope.schemaversion, envelope.data)
            )
            aggregate.version += 1
        if len(envelopes) >= cache.refresh_after:  # a few events replay faster than a pickle
            cache.keep(aggregate.stream_id, envelopes[-1].id, aggregate)
        return aggregate

    async def get(self, kind: type[A], stream_id: str, what: str) -> A:
        aggregate = await self.load(kind, stream_id)
        if aggregate is None:
            raise NotFound(f"没有找到{what}：请核对后再试。", stream_id=stream_id)
        return aggregate

    async def save(self, aggregate: Aggregate) -> list[EventEnvelope]:
        if not aggregate.pending:
            return []
        await self.settle()
        self.batches = None  # this append moves a head: a later batch reads the heads again
        stored = await self.store.append(
            AppendRequest(
                aggregate.stream_id,
                aggregate.partition,
                aggregate.version,
                tuple(aggregate.pending),
                self.context,
            ),
            conn=self.database,
        )
        aggregate.version += len(aggregate.pending)
        aggregate.pending = []
        service = self.store.source.rpartition("/")[2]  # `/gongkai/pledge`: as the relay labels
        for envelope in stored:
            await self.project(self.database, envelope)
            EVENTS_APPENDED.labels(service, envelope.type).inc()
        self.appended.extend(stored)
        return stored

    def stage(self, aggregate: Aggregate) -> None:
        """The bulk path (a large import): the aggregate's new events kept to be appended
        with many others by `flush`, in the order staged; the aggregate moves on as if
        saved (later changes to it stage after these)."""
        if not aggregate.pending:
            return
        self.staged.append(
            AppendRequest(
                aggregate.stream_id,
                aggregate.partition,
                aggregate.version,
                tuple(aggregate.pending),
                self.context,
            )
        )
        aggregate.version += len(aggregate.pending)
        aggregate.pending = []

    async def flush(self, *, settle: bool = True) -> list[EventEnvelope]:
        """Append what was staged in one batch (the store's `append_batch`: the same
        invariants as one append each) and project it, in this transaction.

        With `settle=False` the batch's writes (COPYs, read models) may still be under way
        when it returns, while the caller decides the next changes: the next `load`, `save`
        or `flush` of this unit waits for them, and so does the command's end (`settle`).
        Other reads on the connection in the meantime must call `settle` first."""
        requests, self.staged = self.staged, []
        stored = await self._append_staged(requests) if requests else []
        if settle:
            await self.settle()
        return stored

    async def lock_partitions(self, partitions: Iterable[str]) -> None:
        """Before many batches over several partitions (a roster import): their head rows
        locked now, in one order, until the transaction ends (the store's `lock_partitions`),
        so that two such transactions over the same partitions never deadlock: the second
        waits for the first. A store in memory has no locks to order."""
        lock = getattr(self.store, "lock_partitions", None)
        if lock is None or self.database is None:
            return
        self.batches = self.batches or BatchState(self.database)
        await lock(partitions, conn=self.database, state=self.batches)

    async def _append_staged(self, requests: list[AppendRequest]) -> list[EventEnvelope]:
        batch = getattr(self.store, "append_batch", None)
        if batch is None or self.database is None:  # a store in memory: one by one
            stored = [e for r in requests for e in await self.store.append(r)]
            await self._project(stored)
        else:
            self.batches = self.batches or BatchState(self.database)
            stored = await batch(
                requests, conn=self.database, state=self.batches, then=self._project
            )
        service = self.store.source.rpartition("/")[2]
        for type_, count in Counter(e.type for e in stored).items():
            EVENTS_APPENDED.labels(service, type_).inc(count)
        self.appended.extend(stored)
        return stored

    async def _project(self, stored: list[EventEnvelope]) -> None:
        if self.project_many is not None:
            await self.project_many(self.database, stored)
        else:
            for envelope in stored:
                await self.project(self.database, envelope)

    async def settle(self) -> None:
        """Every write of the bulk path's batches done (what refused one is raised)."""
        if self.batches is not None:
            await self.batches.settle()

    async def abandon(self) -> None:
        """The bulk path's writes ended, before the transaction rolls back."""
        if self.batches is not None:
            await self.batches.abandon()


Work = Callable[[UnitOfWork], Awaitable[Any]]

_collector = {"pauses": 0, "resume": False}


@contextmanager
def collector_paused() -> Iterator[None]:
    """The cyclic garbage collector held off for a bulk path (a roster import's tens of
    thousands of aggregates, events and rows, all alive until it ends). Each full collection
    walks every live object, and as they pile up the collector runs several, over everything:
    a third of a 30,000-member import's CPU time went there, freeing nothing. Reference
    counting still frees what is dropped; cycles wait for the collector's next run after
    the last pause ends (nested and concurrent pauses are counted). Process-wide, so only
    around work whose size is bounded."""
    if _collector["pauses"] == 0:
        _collector["resume"] = gc.isenabled()
        gc.disable()
    _collector["pauses"] += 1
    try:
        yield
    finally:
        _collector["pauses"] -= 1
        if _collector["pauses"] == 0 and _collector["resume"]:
            gc.enable()


@dataclass(frozen=True)
class State:
    version: int
    bytes: bytes  # the aggregate, pickled: each load takes a copy


class StateCache(dict[str, tuple[str, State]]):
    """Aggregates' states as last read from their streams, with the id of the last event
    they were built from, for `UnitOfWork.load`; process-local, the oldest dropped past
    `size`. Only a state read from the log is kept (before the command changes it), so a
    command that fails or rolls back leaves nothing behind, and each load still reads what
    was appended since."""

    def __init__(self, size: int = 64, refresh_after: int = 16) -> None:
        super().__init__()
        self.size = size
        self.refresh_after = refresh_after  # events past the kept state before it is renewed

    def keep(self, stream_id: str, last_event_id: str, aggregate: Aggregate) -> None:
        self.pop(stream_id, None)
        self[stream_id] = (last_event_id, State(aggregate.version, pickle.dumps(aggregate)))
        while len(self) > self.size:
            del self[next(iter(self))]


class CommandExecutor:
    def __init__(
        self,
        pool: asyncpg.Pool,
        store: PostgresEventStore,
        registry: EventRegistry,
        project: Projector,
        local_timezone: tzinfo = UTC,
        project_many: Callable[[Any, list[EventEnvelope]], Awaitable[None]] | None = None,
    ) -> None:
        self.local_timezone = local_timezone
        self.project_many = project_many
        self.pool = pool
        self.store = store
        self.registry = registry
        self.project = project
        self.on_commit: list[Callable[[], None]] = []

    async def execute(
        self,
        work: Work,
        *,
        context: CommandContext,
        idempotency: Idempotency | None = None,
        attempts: int = 3,
        withheld: Exception | None = None,
    ) -> Any:
        """Run `work` in a transaction; retried on a concurrency conflict (it re-decides
        on the new state); a repeated idempotency key returns the first result. `withheld`:
        the result holds a secret (a code shown once) and is not kept; the key is kept as
        used, and a repeat raises `withheld` instead, appending nothing."""
        for attempt in range(attempts):
            try:
                async with self.pool.acquire() as conn, conn.transaction():
                    if idempotency and (earlier := await _remembered(conn, idempotency)):
                        if withheld is not None:
                            raise withheld
                        return earlier
                    unit = self.unit(conn, context)
                    try:
                        result = _jsonable(await work(unit))
                        await unit.settle()  # the bulk path's last writes
                    except BaseException:
                        await unit.abandon()  # the connection free before the rollback
                        raise
                    if idempotency:
                        await _remember(conn, idempotency, WITHHELD if withheld else result)
            except asyncpg.UniqueViolationError as error:
                if error.constraint_name != "idempotency_keys_pkey" or attempt == attempts - 1:
                    raise  # a bug, not a race: it must not be retried into silence
                continue  # a concurrent first use of the same key: the retry returns its result
            except (
                ConcurrencyConflict,
                asyncpg.InvalidCachedStatementError,  # read models swapped by a rebuild
            ):
                if attempt == attempts - 1:
                    raise
                continue
            for callback in self.on_commit:
                callback()
            return result
        raise AssertionError("unreachable")

    def unit(self, conn: asyncpg.Connection, context: CommandContext) -> UnitOfWork:
        return UnitOfWork(
            conn,
            self.store,
            self.registry,
            self.project,
            context,
            self.local_timezone,
            project_many=self.project_many,
        )


# what a key whose result was withheld keeps instead of the result
WITHHELD = {"withheld": True}


async def _remembered(conn: asyncpg.Connection, idem: Idempotency) -> Any:
    row = await conn.fetchrow(
        "SELECT request_hash, response FROM idempotency_keys WHERE principal = $1 AND key = $2",
        idem.principal,
        idem.key,
    )
    if row is None:
        return None
    if row["request_hash"] != idem.request_hash:
        raise IdempotencyKeyReused(
            "这个幂等键（Idempotency-Key）已用于另一个不同的请求：请刷新页面后重新填写。",
            key=idem.key,
        )
    return json.loads(row["response"])


async def _remember(conn: asyncpg.Connection, idem: Idempotency, result: Any) -> None:
    await conn.execute(
        "INSERT INTO idempotency_keys (principal, key, request_hash, status, response)"
        " VALUES ($1, $2, $3, 200, $4)",
        idem.principal,
        idem.key,
        idem.request_hash,
        json.dumps(result, ensure_ascii=False),
    )


def _jsonable(result: Any) -> Any:
    if isinstance(result, BaseModel):
        return result.model_dump(mode="json")
    return result


def new_id(prefix: str, size: int = 4) -> str:
    """A short random id that is also a NATS subject token, e.g. `t-1a2b3c4d`. Where
    thousands are made at once (a roster import: 30,000 members), `size=8`: 32 random bits
    would collide (a 10% chance among 30,000), 64 do not."""
    return f"{prefix}-{secrets.token_hex(size)}"


def new_ids(prefix: str, size: int = 4, drawn: int = 256) -> Iterator[str]:
    """Ids as `new_id` makes them, as many as asked for, their randomness drawn `drawn` at a
    time (a roster import makes tens of thousands)."""
    while True:
        random = secrets.token_bytes(size * drawn).hex()
        for at in range(0, len(random), 2 * size):
            yield f"{prefix}-{random[at : at + 2 * size]}"


def accepted(entity_id: str, uow: UnitOfWork, **ids: Any) -> dict[str, Any]:
    """What a command answers: the id it concerns, the events it recorded, ids it made."""
    return {"id": entity_id, "events": [e.type for e in uow.appended], **ids}
