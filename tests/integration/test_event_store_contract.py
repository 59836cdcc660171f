"""One contract, every event store: PostgreSQL (real, embedded) and in-memory."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import httpx
import pytest
from fastapi import FastAPI

from shared.envelope import GENESIS_HASH
from shared.errors import ConcurrencyConflict
from shared.events import DomainEvent
from shared.eventstore import (
    AppendRequest,
    CommandContext,
    InMemoryEventStore,
    PostgresEventStore,
)
from shared.http import install_error_handlers
from tests.support import Servers, fresh_log_database


class Happened(DomainEvent):
    aggregate_type = "thing"
    n: int


CTX = CommandContext(actor="tester", role="county_admin", causation_id="cause-1")


def request(stream: str, partition: str, expected: int, *ns: int) -> AppendRequest:
    return AppendRequest(stream, partition, expected, [Happened(n=n) for n in ns], CTX)


@pytest.fixture(params=["postgres", "memory"])
async def store(request: pytest.FixtureRequest, servers: Servers) -> AsyncIterator[Any]:
    if request.param == "memory":
        yield InMemoryEventStore(source="/gongkai/test")
        return
    pool, _ = await fresh_log_database(servers)
    try:
        yield PostgresEventStore(pool, source="/gongkai/test")
    finally:
        await pool.close()


async def test_appended_events_come_back_with_full_envelope(store: Any) -> None:
    stored = await store.append(request("thing-1", "t-a", 0, 1, 2))
    read = await store.read_stream("thing-1")
    assert read == stored
    first, second = read
    assert (first.streamversion, second.streamversion) == (1, 2)
    assert (first.sequence, second.sequence) == (1, 2)
    assert first.type == "Happened"
    assert first.data == {"n": 1}
    assert first.actor == "tester"
    assert first.actorrole == "county_admin"
    assert first.causationid == "cause-1"
    assert first.correlationid == CTX.correlation_id
    assert first.partition == "t-a"
    assert first.subject == "thing-1"


async def test_wrong_expected_version_conflicts_and_appends_nothing(store: Any) -> None:
    await store.append(request("thing-1", "t-a", 0, 1))
    for expected in (0, 2, 5):
        with pytest.raises(ConcurrencyConflict):
            await store.append(request("thing-1", "t-a", expected, 9))
    assert [e.data["n"] for e in await store.read_stream("thing-1")] == [1]


async def test_a_conflict_is_a_clear_409_problem(store: Any) -> None:
    """What a client sees when its write lost the race every time it was retried."""
    await store.append(request("thing-1", "t-a", 0, 1))
    app = FastAPI()
    install_error_handlers(app)

    @app.post("/things/thing-1")
    async def stale_write() -> None:
        await store.append(request("thing-1", "t-a", 0, 2))

    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        response = await client.post("/things/thing-1")
    assert response.status_code == 409
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["type"] == "urn:gongkai:problem:concurrency-conflict"
    assert body["title"] == "The record was changed by someone else; reload and retry"
    assert "thing-1" in body["detail"]
    assert (body["stream_id"], body["expected_version"]) == ("thing-1", 0)
    assert len(await store.read_stream("thing-1")) == 1


async def test_concurrent_writers_of_one_stream_only_one_wins(store: Any) -> None:
    await store.append(request("thing-1", "t-a", 0, 0))
    results = await asyncio.gather(
        *(store.append(request("thing-1", "t-a", 1, n)) for n in range(10)),
        return_exceptions=True,
    )
    assert sum(not isinstance(r, Exception) for r in results) == 1
    assert all(isinstance(r, ConcurrencyConflict) for r in results if isinstance(r, Exception))
    assert len(await store.read_stream("thing-1")) == 2


async def test_sequences_are_gap_free_per_township_under_concurrency(store: Any) -> None:
    townships = [f"t-{i}" for i in range(8)]

    async def writer(township: str, w: int) -> None:
        for k in range(15):
            await store.append(request(f"thing-{township}-{w}-{k}", township, 0, k))

    await asyncio.gather(*(writer(t, w) for t in townships for w in range(3)))
    per_partition: dict[str, list[int]] = {}
    async for _, envelope in store.read_all():
        per_partition.setdefault(envelope.partition, []).append(envelope.sequence)
    assert set(per_partition) == set(townships)
    for sequences in per_partition.values():
        assert sorted(sequences) == list(range(1, 46))


async def test_each_partition_is_a_hash_chain(store: Any) -> None:
    for i in range(5):
        await store.append(request(f"thing-{i}", "t-a", 0, i))
        await store.append(request(f"thing-b{i}", "t-b", 0, i))
    previous = {"t-a": GENESIS_HASH, "t-b": GENESIS_HASH}
    async for _, envelope in store.read_all():
        assert envelope.verifies_after(previous[envelope.partition])
        previous[envelope.partition] = envelope.hash
    changed = envelope.model_copy(update={"data": {"n": 99}})
    assert not changed.verifies_after(envelope.prevhash)


@pytest.mark.parametrize(
    "statement",
    ["UPDATE events SET type = 'Forged'", "DELETE FROM events", "TRUNCATE events"],
)
async def test_the_log_rejects_update_delete_truncate(servers: Servers, statement: str) -> None:
    pool, owner_dsn = await fresh_log_database(servers)
    store = PostgresEventStore(pool, source="/gongkai/test")
    await store.append(request("thing-1", "t-a", 0, 1))
    try:
        # the runtime role lacks the privilege (refused before the trigger could say so) ...
        with pytest.raises(asyncpg.InsufficientPrivilegeError, match="permission denied"):
            await pool.execute(statement)
        # ... and even the owner is stopped by the trigger
        owner = await asyncpg.connect(owner_dsn)
        try:
            with pytest.raises(asyncpg.InsufficientPrivilegeError, match="append-only"):
                await owner.execute(statement)
        finally:
            await owner.close()
        assert len(await store.read_stream("thing-1")) == 1
    finally:
        await pool.close()


async def test_a_batch_keeps_sequence_chain_and_versions(servers: Servers) -> None:
    """The bulk path (append_batch): interleaved with single appends, the same gap-free
    sequence and hash chain per township; a stale version conflicts and appends nothing."""
    pool, _ = await fresh_log_database(servers)
    store = PostgresEventStore(pool, source="/gongkai/test")
    try:
        await store.append(request("thing-0", "t-a", 0, 0))
        async with pool.acquire() as conn, conn.transaction():
            batch = [request(f"thing-{i}", "t-a" if i % 2 else "t-b", 0, i) for i in range(1, 7)]
            batch.append(request("thing-0", "t-a", 1, 10, 11))  # continues a stream
            batch.append(request("thing-1", "t-a", 1, 12))  # one the batch started
            stored = await store.append_batch(batch, conn=conn)
        assert [e.data["n"] for e in stored] == [1, 2, 3, 4, 5, 6, 10, 11, 12]
        await store.append(request("thing-7", "t-a", 0, 7))
        previous, sequences = {"t-a": GENESIS_HASH, "t-b": GENESIS_HASH}, {"t-a": 0, "t-b": 0}
        async for _, envelope in store.read_all():
            assert envelope.verifies_after(previous[envelope.partition])
            assert envelope.sequence == sequences[envelope.partition] + 1
            previous[envelope.partition] = envelope.hash
            sequences[envelope.partition] = envelope.sequence
        assert sequences == {"t-a": 8, "t-b": 3}
        assert [e.streamversion for e in await store.read_stream("thing-0")] == [1, 2, 3]
        for stale in (request("thing-0", "t-a", 1, 99), request("thing-2", "t-b", 0, 99)):
            with pytest.raises(ConcurrencyConflict):
                async with pool.acquire() as conn, conn.transaction():
                    await store.append_batch([request("new-1", "t-a", 0, 1), stale], conn=conn)
        assert await pool.fetchval("SELECT count(*) FROM events") == 11
    finally:
        await pool.close()
