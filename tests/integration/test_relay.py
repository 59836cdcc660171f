"""The outbox relay against a real nats-server: kills, restarts, repeats, a lost stream."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from nats.js import JetStreamContext
from prometheus_client import REGISTRY

from shared.embedded import EmbeddedNats
from shared.envelope import EventEnvelope
from shared.events import DomainEvent
from shared.eventstore import AppendRequest, CommandContext, PostgresEventStore
from shared.messaging import Subjects, connect, ensure_stream
from shared.relay import OutboxRelay, republish_from
from tests.e2e.helpers import eventually
from tests.support import Servers, fresh_log_database


class Counted(DomainEvent):
    aggregate_type = "thing"
    n: int


CTX = CommandContext(actor="tester", role="integration")


@pytest.fixture
async def log(servers: Servers) -> AsyncIterator[tuple[Any, PostgresEventStore]]:
    pool, _ = await fresh_log_database(servers)
    try:
        yield pool, PostgresEventStore(pool, source="/gongkai/test")
    finally:
        await pool.close()


@pytest.fixture
async def broker(servers: Servers) -> AsyncIterator[tuple[Subjects, JetStreamContext]]:
    """A stream of its own (a fresh subject root) on the session's NATS server."""
    subjects = Subjects(f"r{uuid.uuid4().hex[:8]}")
    nc = await connect(servers.nats.url, name="relay")
    try:
        await ensure_stream(nc.jetstream(), "test", subjects)
        yield subjects, nc.jetstream()
    finally:
        await nc.close()


async def append_many(store: PostgresEventStore, partitions: list[str], per: int) -> None:
    async def writer(partition: str) -> None:
        for n in range(per):
            await store.append(
                AppendRequest(f"thing-{uuid.uuid4().hex}", partition, 0, [Counted(n=n)], CTX)
            )
            await asyncio.sleep(0.002)

    await asyncio.gather(*(writer(p) for p in partitions))


def lag() -> float | None:
    return REGISTRY.get_sample_value("gongkai_relay_lag_events", {"service": "test"})


async def stream_contents(js: JetStreamContext, stream: str) -> list[EventEnvelope]:
    info = await js.stream_info(stream)
    envelopes = []
    for seq in range(info.state.first_seq, info.state.last_seq + 1):
        message = await js.get_msg(stream, seq)
        envelopes.append(EventEnvelope.from_message(dict(message.headers or {}), message.data))
    return envelopes


def assert_exactly_once_in_order(envelopes: list[EventEnvelope], expected: int) -> None:
    ids = [e.id for e in envelopes]
    assert len(ids) == len(set(ids)) == expected, "every event exactly once"
    per_partition: dict[str, list[int]] = {}
    for envelope in envelopes:
        per_partition.setdefault(envelope.partition, []).append(envelope.sequence)
    for sequences in per_partition.values():
        assert sequences == list(range(1, len(sequences) + 1)), "in order, no gaps"


async def published_all(pool: Any) -> bool:
    behind = await pool.fetchval(
        "SELECT count(*) FROM partition_heads h LEFT JOIN relay_positions r USING (partition)"
        " WHERE h.sequence > coalesce(r.sequence, 0)"
    )
    return bool(behind == 0)


async def test_nats_killed_mid_stream_loses_and_repeats_nothing(
    log: tuple[Any, PostgresEventStore],
    tmp_path: Path,
) -> None:
    pool, store = log
    nats_server = EmbeddedNats(tmp_path / "nats")
    nats_server.start()
    subjects = Subjects("relaytest")
    nc = await connect(nats_server.url, name="relay")
    js = nc.jetstream()
    await ensure_stream(js, "test", subjects)
    relay = OutboxRelay(pool, js, service="test", subjects=subjects, batch=50, poll_interval=0.05)
    task = asyncio.create_task(relay.run())
    try:
        writing = asyncio.create_task(append_many(store, ["t-a", "t-b", "t-c"], 150))
        await eventually(lambda: _published_some(pool), timeout=10)
        nats_server.kill()  # kill -9 while the relay is publishing and writers are writing
        await asyncio.sleep(1.0)
        nats_server.start()  # same port, same data directory
        await writing
        await eventually(lambda: published_all(pool), timeout=60)
        assert_exactly_once_in_order(await stream_contents(js, subjects.stream("test")), 450)
    finally:
        relay.stop()
        await task
        await nc.close()
        nats_server.stop()


async def _published_some(pool: Any) -> bool:
    return bool(await pool.fetchval("SELECT coalesce(sum(sequence), 0) FROM relay_positions") > 40)


async def test_a_relay_that_dies_before_remembering_repeats_nothing_and_a_lost_stream_refills(
    log: tuple[Any, PostgresEventStore],
    broker: tuple[Subjects, JetStreamContext],
) -> None:
    pool, store = log
    subjects, js = broker
    await append_many(store, ["t-a", "t-b"], 60)
    relay = OutboxRelay(pool, js, service="test", subjects=subjects, batch=25)
    assert await relay.publish_pending() == 25
    assert lag() == 120  # behind when the batch was read
    while await relay.publish_pending():
        pass
    assert lag() == 0
    stream = subjects.stream("test")
    assert_exactly_once_in_order(await stream_contents(js, stream), 120)

    # the relay published but "died" before remembering: it starts over from zero
    await republish_from(pool, partition=None, sequence=0)
    fresh = OutboxRelay(pool, js, service="test", subjects=subjects, batch=25)
    while await fresh.publish_pending():
        pass
    assert_exactly_once_in_order(await stream_contents(js, stream), 120)  # broker dropped

    # the stream is lost: PostgreSQL refills it
    await js.delete_stream(stream)
    await ensure_stream(js, "test", subjects)
    await republish_from(pool, partition=None, sequence=0)
    while await fresh.publish_pending():
        pass
    assert_exactly_once_in_order(await stream_contents(js, stream), 120)


async def test_the_relay_publishes_in_log_order_across_townships_in_small_batches(
    log: tuple[Any, PostgresEventStore],
    broker: tuple[Subjects, JetStreamContext],
) -> None:
    """Each round reads every township's next events by its own index and merges them by
    log position: a stream that moved township (D3) keeps its order on the broker."""
    pool, store = log
    subjects, js = broker
    mover = f"thing-{uuid.uuid4().hex}"
    for n, partition in enumerate(["t-a", "t-b", "t-c"] * 5):
        await store.append(
            AppendRequest(f"thing-{uuid.uuid4().hex}", partition, 0, [Counted(n=n)], CTX)
        )
        if n % 5 == 0:  # the mover's next event, in the next township
            version = n // 5
            await store.append(AppendRequest(mover, partition, version, [Counted(n=version)], CTX))
    relay = OutboxRelay(pool, js, service="test", subjects=subjects, batch=4)
    rounds = 0
    while await relay.publish_pending():
        rounds += 1
    assert rounds == 5  # 18 events, 4 at a time
    published = [e.id for e in await stream_contents(js, subjects.stream("test"))]
    logged = [str(r["id"]) for r in await pool.fetch("SELECT id FROM events ORDER BY position")]
    assert published == logged
    moves = [e for e in await stream_contents(js, subjects.stream("test")) if e.streamid == mover]
    assert [(e.partition, e.streamversion) for e in moves] == [
        ("t-a", 1),
        ("t-c", 2),
        ("t-b", 3),
    ]


async def test_a_commit_during_an_empty_round_is_published_at_once(
    log: tuple[Any, PostgresEventStore],
    broker: tuple[Subjects, JetStreamContext],
) -> None:
    """A command's commit wakes the relay; one that lands while a round is ending empty must
    not wait for the next poll (here 30 s)."""
    pool, store = log
    subjects, js = broker
    relay = OutboxRelay(pool, js, service="test", subjects=subjects, poll_interval=30)
    looked = relay.publish_pending
    first_round = True

    async def round_with_a_commit_at_its_end(conn: Any = None) -> int:
        nonlocal first_round
        published = await (looked() if conn is None else looked(conn))
        if first_round:  # the round found nothing; a command commits before it returns
            first_round = False
            await store.append(
                AppendRequest(f"thing-{uuid.uuid4().hex}", "t-a", 0, [Counted(n=1)], CTX)
            )
            relay.wake()
        return published

    relay.publish_pending = round_with_a_commit_at_its_end  # type: ignore[method-assign]
    task = asyncio.create_task(relay.run())
    try:

        async def published_it() -> bool:
            return bool(await pool.fetchval("SELECT sum(sequence) FROM relay_positions") == 1)

        await eventually(published_it, timeout=5)
        assert len(await stream_contents(js, subjects.stream("test"))) == 1
    finally:
        relay.stop()
        await task
