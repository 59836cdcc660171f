"""The subscription runner: durable JetStream pull consumers that apply effects exactly once.

For each message the consumed position (per source partition), the event kept in the inbox,
its projection into the read models and the policy handler's writes are committed in one
PostgreSQL transaction (one per fetched batch, when the whole batch applies cleanly); a
redelivered or duplicated message finds its sequence already consumed and has no second
effect. A message the handler keeps failing on is parked in `parked_messages` with a log
line and skipped, not retried forever. Database or broker outages are transient: the batch
is left unacknowledged and fetched again.

Hand-over: a runner that dies holding fetched messages gives them back after `ack_wait`
(`ACK_WAIT_SECONDS`, a few seconds). A live runner working on a batch for longer keeps it by
telling the broker "in progress" every third of that, so slow work is not delivered again
while it runs. Replicas bind the same durable consumer; the runtime lets one of them pull at
a time (a lease, shared/lease.py): a township's events apply in order, and two replicas
pulling alternately spent their time deferring each other's messages. Messages that arrive
ahead of one a dead runner held (`OutOfOrder`) are held, with progress acks, and applied in
order right after it comes back.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import uuid
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from typing import Any

import asyncpg
import structlog
from nats.aio.msg import Msg
from nats.errors import TimeoutError as NatsTimeout
from nats.js import JetStreamContext
from nats.js.api import AckPolicy, ConsumerConfig, ConsumerInfo, DeliverPolicy
from nats.js.errors import NotFoundError

from shared.envelope import EventEnvelope, canonical_json
from shared.errors import ConcurrencyConflict
from shared.messaging import Subjects
from shared.metrics import CONSUMER_HANDLED, CONSUMER_LAG

log = structlog.get_logger()

# Messages held for a gap, at most (the rest go back to the broker, again after GAP_DELAY).
HOLD_LIMIT = 1000
GAP_DELAY = 1.0
# How long a message fetched by a runner that died stays with it before the broker hands it
# out again; a live runner's progress acks (every third of it) keep a slow batch its own.
ACK_WAIT_SECONDS = 3.0

Handler = Callable[[asyncpg.Connection, EventEnvelope], Awaitable[None]]
Projector = Handler

TRANSIENT = (
    OSError,
    asyncpg.PostgresConnectionError,
    asyncpg.InterfaceError,
    asyncpg.CannotConnectNowError,
    asyncpg.SerializationError,
    ConcurrencyConflict,  # a policy's command raced another: redelivered later, not parked
)


REMEMBER = (
    "INSERT INTO consumer_positions (consumer, source, partition, sequence)"
    " VALUES ($1, $2, $3, $4) ON CONFLICT (consumer, source, partition)"
    " DO UPDATE SET sequence = greatest(consumer_positions.sequence, EXCLUDED.sequence)"
)
# Rows in the batch's order (an inbox position is the order a rebuild replays them in).
KEEP_ALL = """
INSERT INTO inbox (source, id, partition, sequence, type, time, body)
SELECT $1, id, partition, sequence, type, time, body
  FROM unnest($2::uuid[], $3::text[], $4::bigint[], $5::text[], $6::timestamptz[], $7::bytea[])
       WITH ORDINALITY AS batch (id, partition, sequence, type, time, body, n)
 ORDER BY n
ON CONFLICT (id) DO NOTHING RETURNING id::text
"""


class OutOfOrder(Exception):
    """An event arrived before one it follows: a runner that died holding unacknowledged
    messages gets them back only after `ack_wait`, behind newer ones. Applying it now would
    make the earlier event look consumed when it finally comes, and lose its effect."""


@dataclass(frozen=True)
class Subscription:
    """Consume `source`'s events: each is kept in the inbox, projected into the read models
    (so they rebuild), then handed to the policy `handler`, all in one transaction."""

    consumer: str  # durable consumer name, e.g. "pledge"
    source: str  # the publishing service, e.g. "evaluation"
    # a policy: issues this service's own commands through `conn`, nothing outside it (a
    # batch that fails is rolled back and run again message by message)
    handler: Handler | None = None
    event_type: str = "*"  # e.g. "SatisfactionVerdictReached"
    aggregate: str = "*"
    # the event types kept (inbox, projection, policy); any other is acknowledged and its
    # position advanced, never stored: a service keeps no more of another's events than it
    # reads (A7). None: every type. The consumer still receives every event, so a complete
    # one keeps its gap-free order per township (one filter subject per type would not).
    keep: frozenset[str] | None = None

    @property
    def complete(self) -> bool:
        """Every event of the source, so a partition's sequence has no gaps."""
        return self.event_type == "*" and self.aggregate == "*"

    def keeps(self, envelope: EventEnvelope) -> bool:
        """Whether the event is kept, or dropped before it is stored."""
        return self.keep is None or envelope.type in self.keep


class SubscriptionRunner:
    def __init__(
        self,
        pool: asyncpg.Pool,
        js: JetStreamContext,
        subscription: Subscription,
        subjects: Subjects,
        *,
        project: Projector | None = None,
        batch: int = 100,
        attempts: int = 3,
        ack_wait: float = ACK_WAIT_SECONDS,
    ) -> None:
        self.pool = pool
        self.js = js
        self.sub = subscription
        self.subjects = subjects
        self.project = project
        self.filter = subjects.matching(
            subscription.source,
            aggregate=subscription.aggregate,
            event_type=subscription.event_type,
        )
        self.batch = batch
        self.attempts = attempts
        self.ack_wait = ack_wait  # how long a dead runner's unacknowledged messages wait
        self._stopping = asyncio.Event()
        # set once its durable consumer exists: from then on the broker counts what it owes
        self.consuming = asyncio.Event()
        self._in_hand: list[Msg] = []  # fetched and not yet acknowledged

    def stop(self) -> None:
        self._stopping.set()

    async def run(self) -> None:
        while not self._stopping.is_set():
            try:
                await self._consume()
            except NotFoundError:
                log.info("subscription_waiting_for_stream", source=self.sub.source)
            except Exception as error:
                log.warning("subscription_retrying", consumer=self.sub.consumer, error=repr(error))
            await self._pause(1.0)

    async def _pause(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), timeout=seconds)

    @property
    def durable(self) -> str:
        """The durable consumer's name, shared by every replica of the service, and unique in
        the service: its source is in it (the review service's consumers of the pledge and
        identity streams were both `review-any-any`, one lag metric and one lease for two).
        It also names the runner's lease and its lag metric."""
        durable = (
            f"{self.sub.consumer}-{self.sub.source}-{self.sub.aggregate}-{self.sub.event_type}"
        )
        return durable.replace("*", "any")

    @property
    def former_durable(self) -> str:
        """The name the same consumer had before its source was in it (`_started_as`)."""
        durable = f"{self.sub.consumer}-{self.sub.aggregate}-{self.sub.event_type}"
        return durable.replace("*", "any")

    async def _started_as(self, stream: str, config: ConsumerConfig) -> str | None:
        """Where the durable consumer starts; the consumer of the former name to delete, if
        there is one (`former_durable`, on the stream, with the same filter: a deployment
        that ran the version before the rename, or a deletion a crash cut short).

        One that exists keeps the start it was made with (NATS refuses to change it). A new
        one, where the former one exists, starts right after what that one had acknowledged:
        the stream's history is not delivered again (what it had delivered and not
        acknowledged comes again, and is skipped as consumed). Otherwise from the start."""
        try:
            former: ConsumerInfo | None = await self.js.consumer_info(stream, self.former_durable)
        except NotFoundError:
            former = None
        if former is not None and former.config.filter_subject != self.filter:
            former = None  # not this consumer's
        try:
            info = await self.js.consumer_info(stream, self.durable)
        except NotFoundError:
            if former is not None:
                config.deliver_policy = DeliverPolicy.BY_START_SEQUENCE
                config.opt_start_seq = (former.ack_floor.stream_seq if former.ack_floor else 0) + 1
                log.info(
                    "subscription_renamed",
                    consumer=self.durable,
                    former=self.former_durable,
                    start=config.opt_start_seq,
                )
        else:
            config.deliver_policy = info.config.deliver_policy
            config.opt_start_seq = info.config.opt_start_seq
        return self.former_durable if former is not None else None

    async def _consume(self) -> None:
        durable = self.durable
        stream = self.subjects.stream(self.sub.source)
        config = ConsumerConfig(
            name=durable,
            durable_name=durable,
            ack_policy=AckPolicy.EXPLICIT,
            deliver_policy=DeliverPolicy.ALL,
            ack_wait=self.ack_wait,
            filter_subject=self.filter,
        )
        former = await self._started_as(stream, config)
        # created, or updated to this ack_wait (one made with an older one keeps it otherwise);
        # every replica does the same, and all of them pull from the one durable consumer
        await self.js.add_consumer(stream, config)
        if former is not None:
            with contextlib.suppress(NotFoundError):  # another replica was first
                await self.js.delete_consumer(stream, former)
        psub = await self.js.pull_subscribe(self.filter, durable=durable, stream=stream)
        self.consuming.set()
        log.info("subscription_started", consumer=durable)
        # messages that came before an earlier one of their township (a runner that died
        # holds it until ack_wait): kept, with progress acks, until it comes
        held: list[Msg] = []
        self._in_hand = held
        ticker = asyncio.create_task(self._tell_in_progress())
        try:
            while not self._stopping.is_set():
                try:
                    messages = await self._next_batch(psub)
                except (NatsTimeout, TimeoutError):
                    continue
                self._in_hand = held + messages
                held = await self.handle_batch(self._in_hand)
                if len(held) > HOLD_LIMIT:  # a gap that does not fill: let the broker keep them
                    held.sort(key=_stream_order)
                    await _nak(held[HOLD_LIMIT:], delay=GAP_DELAY)
                    del held[HOLD_LIMIT:]
                self._in_hand = held
                if messages:
                    CONSUMER_LAG.labels(durable).set(messages[-1].metadata.num_pending or 0)
        finally:
            ticker.cancel()
            with contextlib.suppress(Exception):  # back to the broker at once, not ack_wait
                await _nak(held)

    async def _tell_in_progress(self) -> None:
        """While messages are in hand (being applied, or held for a gap), tell the broker so
        every third of `ack_wait`: a live runner keeps them however long that takes, a dead
        one's come back after `ack_wait`."""
        while True:
            await asyncio.sleep(self.ack_wait / 3)
            for msg in list(self._in_hand):
                if not msg._ackd:  # not yet acked or nak'd (a progress ack would undo a delay)
                    with contextlib.suppress(Exception):  # the broker is away: it comes back
                        await msg.in_progress()

    async def _next_batch(self, psub: JetStreamContext.PullSubscription) -> list[Msg]:
        """The next message as soon as it comes, with those already waiting behind it (up to
        a batch). A request for a whole batch would hold the first message back until the
        batch filled or the request expired (up to a second when events trickle in)."""
        messages = await self._unless_stopped(psub.fetch(1, timeout=1))
        waiting = min(messages[-1].metadata.num_pending or 0, self.batch - 1)
        if waiting:  # already there: fetched without lingering
            with contextlib.suppress(NatsTimeout, TimeoutError):
                messages += await psub.fetch(waiting, timeout=1)
        return messages

    async def _unless_stopped(self, fetch: Coroutine[Any, Any, list[Msg]]) -> list[Msg]:
        """The fetch's messages, unless the runner is stopped first: then the fetch is dropped
        (TimeoutError) and the runner stops at once, not when the request expires (up to a
        second per consumer, every stop and restart). A message the broker sent just as the
        fetch was dropped is not lost: unacknowledged, it comes back after `ack_wait`."""
        fetching = asyncio.ensure_future(fetch)
        stopping = asyncio.ensure_future(self._stopping.wait())
        try:
            await asyncio.wait({fetching, stopping}, return_when=asyncio.FIRST_COMPLETED)
        except BaseException:  # this runner cancelled: its fetch goes with it
            fetching.cancel()
            raise
        finally:
            stopping.cancel()
        if not fetching.done():
            fetching.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await fetching
            raise TimeoutError("stopped")
        return fetching.result()

    async def handle_batch(self, messages: list[Msg]) -> list[Msg]:
        """Apply a whole fetch in one transaction and acknowledge it once that commits: one
        commit (one fsync) instead of one per message. If any message cannot be applied as
        it stands (malformed, out of order, or its handler fails), the transaction is rolled
        back, so nothing of the batch took effect, and each message goes through `handle`
        alone, which parks or retries it on its own. Returns the messages that came before
        an earlier one of their township, neither acknowledged nor refused: the caller holds
        them and hands them in again with the next fetch.

        The batch is taken in the stream's order (held messages come first otherwise)."""
        messages = sorted(messages, key=_stream_order)
        if len(messages) > 1:
            try:
                envelopes = [
                    EventEnvelope.from_message(dict(msg.headers or {}), msg.data)
                    for msg in messages
                ]
                outcomes = await self._apply_all(envelopes)
            except TRANSIENT:
                await _nak(messages)
                raise
            except Exception:  # one of them needs handling on its own
                outcomes = None
            if outcomes is not None:
                for msg, applied in zip(messages, outcomes, strict=True):
                    result = "applied" if applied else "duplicate"
                    CONSUMER_HANDLED.labels(self.sub.consumer, result).inc()
                    await msg.ack()
                return []
        pending = messages
        while True:  # again over what waited, while that made its township move
            deferred: list[Msg] = []
            blocked: dict[str, int] = {}  # township -> its first sequence that had to wait
            moved: set[str] = set()
            for index, msg in enumerate(pending):
                position = _position(msg)
                if position is not None and position[1] > blocked.get(position[0], position[1]):
                    # behind one that waits: no need to ask the database
                    CONSUMER_HANDLED.labels(self.sub.consumer, "deferred_for_gap").inc()
                    deferred.append(msg)
                    continue
                try:
                    waits = await self.handle(msg)
                except TRANSIENT:
                    await _nak(deferred + pending[index:])
                    raise
                if position is None:
                    continue
                if waits:
                    deferred.append(msg)
                    blocked[position[0]] = min(blocked.get(position[0], position[1]), position[1])
                else:
                    moved.add(position[0])
            if not moved & blocked.keys():
                return deferred
            pending = deferred

    async def handle(self, msg: Msg) -> bool:
        """Apply, skip (a duplicate) or park one message, and acknowledge it; or, if an
        earlier message of its township has not been applied yet, leave it to the caller
        (True: neither acknowledged nor refused)."""
        try:
            envelope = EventEnvelope.from_message(dict(msg.headers or {}), msg.data)
        except Exception as malformed:  # not even an envelope: park it as it came
            await self._park(msg, None, malformed)
            await msg.ack()
            return False
        error: Exception | None = None
        for attempt in range(self.attempts):
            try:
                applied = await self._apply(envelope)
            except TRANSIENT as transient:  # fetched again later
                log.warning(
                    "message_handling_interrupted", **self._named(envelope), error=repr(transient)
                )
                raise
            except OutOfOrder:
                # counted, so that a gap which never fills shows on /metrics, not only in logs
                CONSUMER_HANDLED.labels(self.sub.consumer, "deferred_for_gap").inc()
                return True  # held until the gap has filled
            except Exception as failure:
                error = failure
                log.warning(
                    "message_handling_failed",
                    **self._named(envelope),
                    attempt=attempt + 1,
                    error=repr(failure),
                )
                await asyncio.sleep(0.1 * 2**attempt)
                continue
            CONSUMER_HANDLED.labels(self.sub.consumer, "applied" if applied else "duplicate").inc()
            await msg.ack()
            return False
        await self._park(msg, envelope, error)
        await msg.ack()
        return False

    async def _apply(self, envelope: EventEnvelope) -> bool:
        async with self.pool.acquire() as conn, conn.transaction():
            return await self._apply_in(conn, envelope)

    async def _apply_all(self, envelopes: list[EventEnvelope]) -> list[bool]:
        """What `_apply_in` does for each, with a statement or two for the whole batch where
        it needs several per message; whether each was new (False: a duplicate)."""
        async with self.pool.acquire() as conn, conn.transaction():
            fresh = await self._claim_all(conn, envelopes)
            latest: dict[str, int] = {}
            for envelope, new in zip(envelopes, fresh, strict=True):
                if new:
                    latest[envelope.partition] = max(
                        envelope.sequence, latest.get(envelope.partition, 0)
                    )
            # the positions before any projection, as in `_apply_in`
            await conn.executemany(
                REMEMBER,
                [(self.sub.consumer, self.sub.source, p, n) for p, n in sorted(latest.items())],
            )
            for envelope, new in zip(envelopes, fresh, strict=True):
                if new and self.sub.keeps(envelope):
                    await self._effects(conn, envelope)
            return fresh

    async def _claim_all(
        self, conn: asyncpg.Connection, envelopes: list[EventEnvelope]
    ) -> list[bool]:
        """Which of the batch are new, the inbox rows of those kept inserted; OutOfOrder on a
        gap. An incomplete subscription's dropped events count as duplicates (nothing of
        them is kept to tell them apart)."""
        if not self.sub.complete:  # the inbox alone knows: claimed by inserting them
            kept = [e for e in envelopes if self.sub.keeps(e)]
            claimed = await keep_all_in_inbox(conn, self.sub.source, kept)
            fresh = []
            for envelope in envelopes:  # the first of a message delivered twice in the batch
                key = str(uuid.UUID(envelope.id))  # as PostgreSQL writes it
                fresh.append(key in claimed)
                claimed.discard(key)
            return fresh
        rows = await conn.fetch(
            "SELECT partition, sequence FROM consumer_positions WHERE consumer = $1"
            " AND source = $2 AND partition = ANY($3::text[]) ORDER BY partition FOR UPDATE",
            self.sub.consumer,
            self.sub.source,
            sorted({e.partition for e in envelopes}),
        )
        consumed = {row["partition"]: row["sequence"] for row in rows}
        fresh = []
        for envelope in envelopes:
            last = consumed.get(envelope.partition, 0)
            if envelope.sequence > last + 1:
                raise OutOfOrder  # `handle` logs and defers it
            fresh.append(envelope.sequence == last + 1)
            consumed[envelope.partition] = max(last, envelope.sequence)
        new = [e for e, f in zip(envelopes, fresh, strict=True) if f and self.sub.keeps(e)]
        if len(await keep_all_in_inbox(conn, self.sub.source, new)) != len(new):
            raise AssertionError("an unconsumed event was already in the inbox")
        return fresh

    async def _apply_in(self, conn: asyncpg.Connection, envelope: EventEnvelope) -> bool:
        if not self.sub.complete:  # gaps are normal: only the inbox knows what was applied
            # claimed by inserting it: a concurrent delivery of the same event waits on the
            # unique id, then finds it taken (a SELECT would let both through)
            if not self.sub.keeps(envelope):
                return False  # dropped: nothing stored, so nothing to apply
            if not await keep_in_inbox(conn, self.sub.source, envelope):
                return False
        else:
            consumed = await self._consumed(conn, envelope)
            if consumed >= envelope.sequence:
                return False
            if envelope.sequence > consumed + 1:
                log.warning(  # one that never fills stalls the partition: for an operator
                    "subscription_gap_waiting", **self._named(envelope), consumed=consumed
                )
                raise OutOfOrder
            if not self.sub.keeps(envelope):  # dropped: only its position moves on
                await self._remember(conn, envelope)
                return True
            await keep_in_inbox(conn, self.sub.source, envelope)
        # the position before any projection: a rebuild's swap holds this upsert back, and
        # with it the rest of the transaction (an inbox row inserted above stays uncommitted
        # meanwhile, so the swap's catch-up does not see it, and it is projected into the new
        # schema afterwards)
        await self._remember(conn, envelope)
        await self._effects(conn, envelope)
        return True

    async def _effects(self, conn: asyncpg.Connection, envelope: EventEnvelope) -> None:
        structlog.contextvars.bind_contextvars(
            correlation_id=envelope.correlationid, causation_id=envelope.id
        )
        try:
            if self.project is not None:
                await self.project(conn, envelope)
            if self.sub.handler is not None:
                await self.sub.handler(conn, envelope)
        finally:
            structlog.contextvars.unbind_contextvars("correlation_id", "causation_id")

    def _named(self, envelope: EventEnvelope) -> dict[str, object]:
        """What a log line about a consumed event says of it: which it is, not what it holds."""
        return {
            "consumer": self.sub.consumer,
            "source": self.sub.source,
            "event_id": envelope.id,
            "event_type": envelope.type,
            "partition": envelope.partition,
            "sequence": envelope.sequence,
            "correlation_id": envelope.correlationid,
        }

    async def _consumed(self, conn: asyncpg.Connection, envelope: EventEnvelope) -> int:
        value = await conn.fetchval(
            "SELECT sequence FROM consumer_positions"
            " WHERE consumer = $1 AND source = $2 AND partition = $3 FOR UPDATE",
            self.sub.consumer,
            self.sub.source,
            envelope.partition,
        )
        return int(value or 0)

    async def _remember(self, conn: asyncpg.Connection, envelope: EventEnvelope) -> None:
        await conn.execute(
            REMEMBER,
            self.sub.consumer,
            self.sub.source,
            envelope.partition,
            envelope.sequence,
        )

    async def _park(
        self, msg: Msg, envelope: EventEnvelope | None, error: Exception | None
    ) -> None:
        event_id = envelope.id if envelope else None
        named = (
            self._named(envelope)
            if envelope is not None
            else {  # not an envelope: the id the relay gave its message, if any
                "consumer": self.sub.consumer,
                "source": self.sub.source,
                "event_id": (msg.headers or {}).get("Nats-Msg-Id"),
            }
        )
        # the traceback, never the payload (the error's text is scrubbed: shared.logging)
        log.error("message_parked", **named, subject=msg.subject, exc_info=error or False)
        CONSUMER_HANDLED.labels(self.sub.consumer, "parked").inc()
        async with self.pool.acquire() as conn, conn.transaction():
            await conn.execute(
                "INSERT INTO parked_messages (consumer, event_id, subject, headers, payload, error)"
                " VALUES ($1, $2, $3, $4, $5, $6)",
                self.sub.consumer,
                event_id,
                msg.subject,
                json.dumps(dict(msg.headers or {})),
                msg.data,
                repr(error),
            )
            if envelope is not None:
                await self._remember(conn, envelope)


def _stream_order(msg: Msg) -> int:
    """The message's place in its stream (0 for one that is not a JetStream message)."""
    try:
        return int(msg.metadata.sequence.stream)
    except Exception:
        return 0


def _position(msg: Msg) -> tuple[str, int] | None:
    """A message's township and sequence there (None: not an envelope)."""
    try:
        envelope = EventEnvelope.from_message(dict(msg.headers or {}), msg.data)
    except Exception:
        return None
    return envelope.partition, envelope.sequence


async def _nak(messages: list[Msg], *, delay: float | None = None) -> None:
    for msg in messages:
        await msg.nak(delay=delay)


async def keep_in_inbox(conn: asyncpg.Connection, source: str, envelope: EventEnvelope) -> bool:
    """Keep the event as it came; False if it was already kept."""
    kept = await conn.fetchval(
        "INSERT INTO inbox (source, id, partition, sequence, type, time, body)"
        " VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (id) DO NOTHING RETURNING true",
        source,
        envelope.id,
        envelope.partition,
        envelope.sequence,
        envelope.type,
        envelope.time,
        canonical_json(envelope.model_dump(mode="json")),
    )
    return bool(kept)


async def keep_all_in_inbox(
    conn: asyncpg.Connection, source: str, envelopes: list[EventEnvelope]
) -> set[str]:
    """Keep the events as they came, in their order; the ids (as PostgreSQL spells a uuid)
    of those that were not kept already."""
    if not envelopes:
        return set()
    rows = await conn.fetch(
        KEEP_ALL,
        source,
        [e.id for e in envelopes],
        [e.partition for e in envelopes],
        [e.sequence for e in envelopes],
        [e.type for e in envelopes],
        [e.time for e in envelopes],
        [canonical_json(e.model_dump(mode="json")) for e in envelopes],
    )
    return {row["id"] for row in rows}
