"""`gongkai bench messaging`: the outbox relay and the subscription runner against raw nats-py
JetStream publishing and consuming the same messages, on one embedded nats-server.

The log holds `--messages` events (8 townships). Each round publishes all of them to a fresh
stream: raw pipelined `publish_async` of prebuilt messages (what the relay sends: subject,
body, CloudEvents headers, Nats-Msg-Id), then `OutboxRelay.publish_pending` from the log.
Then that stream is consumed to the end three ways: a raw pull consumer that only acks (the
broker's ceiling), a raw pull consumer doing the same durable work per message as ours (one
transaction: a read-model row and a checkpoint, then the ack), and `SubscriptionRunner`
(position, inbox, read model in one transaction, then the ack).
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import asyncpg
from nats.aio.msg import Msg
from nats.errors import TimeoutError as NatsTimeout
from nats.js import JetStreamContext
from nats.js.api import Header

from gongkai.bench.common import Bench, Figure, Sizes, alternate, best, report, versus
from gongkai.bench.store import Workload, _store_writer
from shared.envelope import EventEnvelope
from shared.eventstore.postgres import COLUMNS, PostgresEventStore, decode_row
from shared.messaging import Subjects, connect, ensure_stream
from shared.relay import OutboxRelay
from shared.subscriptions import Subscription, SubscriptionRunner

SERVICE = "bench"
TARGET = 0.5
BATCH = 500  # the relay's default batch, also the raw publisher's window
READ_MODEL_DDL = """
CREATE TABLE bench_copy (stream_id text PRIMARY KEY, type text NOT NULL);
CREATE TABLE bench_checkpoints (consumer text PRIMARY KEY, sequence bigint NOT NULL);
"""
COPY = "INSERT INTO bench_copy VALUES ($1, $2) ON CONFLICT (stream_id) DO NOTHING"
CHECKPOINT = (
    "INSERT INTO bench_checkpoints VALUES ($1, $2) ON CONFLICT (consumer)"
    " DO UPDATE SET sequence = EXCLUDED.sequence"
)


async def project_copy(conn: asyncpg.Connection, envelope: EventEnvelope) -> None:
    """Our consumer's read model: a row per stream (the same write as the raw consumer's)."""
    await conn.execute(COPY, envelope.streamid, envelope.type)


def raw_apply(pool: asyncpg.Pool, consumer: str) -> Callable[[Msg], Awaitable[None]]:
    """What a hand-written consumer does per message: the read-model row and its checkpoint
    (the stream sequence) in one transaction."""

    async def apply(msg: Msg) -> None:
        headers = msg.headers or {}
        async with pool.acquire() as conn, conn.transaction():
            await conn.execute(COPY, headers["ce-streamid"], headers["ce-type"])
            await conn.execute(CHECKPOINT, consumer, msg.metadata.sequence.stream)

    return apply


async def raw_consume(
    js: JetStreamContext,
    subjects: Subjects,
    count: int,
    apply: Callable[[Msg], Awaitable[None]] | None,
    *,
    durable: str | None = None,
    stop: asyncio.Event | None = None,
) -> None:
    """Pull `count` messages (or until `stop`), applying and acking each in order."""
    psub = await js.pull_subscribe(
        subjects.all(SERVICE),
        durable=durable or f"raw-{uuid.uuid4().hex[:8]}",
        stream=subjects.stream(SERVICE),
    )
    done = 0
    while done < count and not (stop and stop.is_set()):
        try:
            messages = await psub.fetch(100, timeout=1)
        except (NatsTimeout, TimeoutError):
            continue
        for msg in messages:
            if apply is not None:
                await apply(msg)
            await msg.ack()
        done += len(messages)
    await psub.unsubscribe()


async def wait_for(predicate: Callable[[], Awaitable[bool]], seconds: float = 120) -> None:
    deadline = time.monotonic() + seconds
    while not await predicate():
        if time.monotonic() > deadline:
            raise TimeoutError("the consumer did not catch up")
        await asyncio.sleep(0.01)


async def measure(bench: Bench, sizes: Sizes) -> list[Figure]:
    n = sizes.messages
    nc = await connect(await bench.nats(), name="gongkai-bench")
    js = nc.jetstream()
    dsn, _ = await bench.database("messaging", READ_MODEL_DDL)
    pool = await asyncpg.create_pool(dsn, min_size=2, max_size=10)  # the owner: it truncates
    try:
        requests, _ = Workload(8).build(n)
        store = PostgresEventStore(pool, source=f"/gongkai/{SERVICE}")
        with bench.console.status(f"writing {n} events to the log ..."):
            await asyncio.gather(*(_store_writer(store, pool, r) for r in requests))
            rows = await pool.fetch(f"SELECT {COLUMNS} FROM events ORDER BY position")
        envelopes = [decode_row(r) for r in rows]
        with bench.console.status("publishing and consuming ..."):
            rates = await alternate(_sides(bench, pool, js, envelopes), bench.rounds)
    finally:
        await pool.close()
        await nc.close()
    publish = best("publish: raw js.publish_async, pipelined", rates["publish"])
    acks = best("consume: raw pull, fetch + ack only", rates["ack"])
    consume = best("consume: raw pull, read-model row + checkpoint txn", rates["consume"])
    figures = [
        publish,
        versus("relay: OutboxRelay.publish_pending", rates["relay"], publish, TARGET),
        acks,
        consume,
        versus("consumer: SubscriptionRunner, vs the same work", rates["runner"], consume, TARGET),
        versus("consumer: SubscriptionRunner, vs fetch + ack only", rates["runner"], acks),
    ]
    report(
        bench.console,
        f"messaging: messages/s, best of {bench.rounds} alternating rounds",
        figures,
        f"{n} messages per side per round, {len(rows[0]['body'])} bytes of body each;"
        " nats-server with JetStream file storage, fsync always. Every round:",
    )
    return figures


def _sides(
    bench: Bench, pool: asyncpg.Pool, js: JetStreamContext, envelopes: list[EventEnvelope]
) -> dict[str, Callable[[bool], Awaitable[float]]]:
    n = len(envelopes)
    state: dict[str, Any] = {}

    async def fresh_stream() -> Subjects:
        subjects = Subjects(f"b{uuid.uuid4().hex[:8]}")
        await ensure_stream(js, SERVICE, subjects)
        return subjects

    async def publish(warm_up: bool) -> float:
        subjects = await fresh_stream()
        messages = [
            (subjects.of(SERVICE, e), e.data_bytes(), e.headers() | {Header.MSG_ID: e.id})
            for e in envelopes
        ]
        stream = subjects.stream(SERVICE)
        start = time.perf_counter()
        for first in range(0, n, BATCH):
            futures = [
                await js.publish_async(subject, body, headers=headers, stream=stream)
                for subject, body, headers in messages[first : first + BATCH]
            ]
            await asyncio.gather(*futures)
        elapsed = time.perf_counter() - start
        await js.delete_stream(stream)
        return n / elapsed

    async def relay(warm_up: bool) -> float:
        if "subjects" in state:
            await js.delete_stream(state["subjects"].stream(SERVICE))
        subjects = state["subjects"] = await fresh_stream()
        await pool.execute("DELETE FROM relay_positions")
        relay = OutboxRelay(pool, js, service=SERVICE, subjects=subjects, batch=BATCH)
        start = time.perf_counter()
        async with pool.acquire() as conn:  # as the relay's run loop keeps one
            while await relay.publish_pending(conn):
                pass
        return n / (time.perf_counter() - start)

    async def consumed(consume: Awaitable[None]) -> float:
        start = time.perf_counter()
        await consume
        return n / (time.perf_counter() - start)

    async def clean() -> None:
        await pool.execute("TRUNCATE bench_copy, bench_checkpoints")

    async def ack(warm_up: bool) -> float:
        return await consumed(raw_consume(js, state["subjects"], n, None))

    async def consume(warm_up: bool) -> float:
        await clean()
        return await consumed(raw_consume(js, state["subjects"], n, raw_apply(pool, "raw")))

    async def runner(warm_up: bool) -> float:
        # a fresh database each round: the inbox is append-only, and a second round into the
        # same inbox would only find its ids already there
        fresh = await bench.pool("consumer", READ_MODEL_DDL)
        name = f"ours{uuid.uuid4().hex[:8]}"
        subscription = Subscription(consumer=name, source=SERVICE)
        runner = SubscriptionRunner(
            fresh, js, subscription, state["subjects"], project=project_copy
        )
        task = asyncio.create_task(runner.run())
        try:
            return await consumed(wait_for(lambda: _consumed(fresh, name, n)))
        finally:
            runner.stop()  # not timed: it notices within a fetch timeout
            await task
            await fresh.close()

    return {"publish": publish, "relay": relay, "ack": ack, "consume": consume, "runner": runner}


async def _consumed(pool: asyncpg.Pool, consumer: str, n: int) -> bool:
    done = await pool.fetchval(
        "SELECT coalesce(sum(sequence), 0) FROM consumer_positions WHERE consumer = $1", consumer
    )
    return bool(done >= n)
