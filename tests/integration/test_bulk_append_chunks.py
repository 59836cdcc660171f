"""The bulk path sends its rows one COPY a chunk, each while the next chunk is drafted: the
log must come out as from one COPY (gap-free sequence, one hash chain per township, the
requests' order), and a conflict found after a chunk was sent must append nothing and leave
the connection usable."""

from __future__ import annotations

import asyncio

import pytest

from shared.envelope import GENESIS_HASH, EventEnvelope
from shared.errors import ConcurrencyConflict
from shared.eventstore import postgres
from shared.eventstore.postgres import PostgresEventStore
from tests.integration.test_event_store_contract import request
from tests.support import Servers, fresh_log_database


async def test_chunked_copies_keep_the_log_as_one_batch(
    servers: Servers, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(postgres, "COPY_CHUNK", 7)
    monkeypatch.setattr(postgres, "YIELD_EVERY", 3)
    pool, _ = await fresh_log_database(servers)
    store = PostgresEventStore(pool, source="/gongkai/test")
    try:
        await store.append(request("thing-0", "t-a", 0, 0))
        batch = [request(f"thing-{i}", ("t-a", "t-b", "t-c")[i % 3], 0, i) for i in range(1, 40)]
        batch.append(request("thing-0", "t-a", 1, 100, 101))
        async with pool.acquire() as conn, conn.transaction():
            stored = await store.append_batch(batch, conn=conn)
        assert [e.data["n"] for e in stored] == [*range(1, 40), 100, 101]
        previous = dict.fromkeys(("t-a", "t-b", "t-c"), GENESIS_HASH)
        sequences = dict.fromkeys(("t-a", "t-b", "t-c"), 0)
        order = []
        async for _, envelope in store.read_all():
            assert envelope.verifies_after(previous[envelope.partition])
            assert envelope.sequence == sequences[envelope.partition] + 1
            previous[envelope.partition] = envelope.hash
            sequences[envelope.partition] = envelope.sequence
            order.append(envelope.data["n"])
        assert order == [0, *range(1, 40), 100, 101]  # log positions in the requests' order
        assert sequences == {"t-a": 16, "t-b": 13, "t-c": 13}
        assert stored == [e for e in await _all(store) if e.data["n"] != 0]
    finally:
        await pool.close()


async def _all(store: PostgresEventStore) -> list[EventEnvelope]:
    return [envelope async for _, envelope in store.read_all()]


@pytest.mark.parametrize("where", ["stale version", "stream started meanwhile"])
async def test_a_conflict_after_a_chunk_was_sent_appends_nothing(
    servers: Servers, monkeypatch: pytest.MonkeyPatch, where: str
) -> None:
    monkeypatch.setattr(postgres, "COPY_CHUNK", 5)
    monkeypatch.setattr(postgres, "YIELD_EVERY", 1)  # the COPY is under way when refused
    pool, _ = await fresh_log_database(servers)
    store = PostgresEventStore(pool, source="/gongkai/test")
    try:
        await store.append(request("taken", "t-a", 0, 0))
        batch = [request(f"thing-{i}", "t-a", 0, i) for i in range(1, 23)]
        # found by this process while a COPY is in flight, or by the unique index in a
        # later chunk's COPY
        late = request("taken", "t-a", 5, 99) if where == "stale version" else None
        batch.insert(17, late or request("taken", "t-a", 0, 99))
        async with pool.acquire() as conn:
            with pytest.raises(ConcurrencyConflict):
                async with conn.transaction():
                    await store.append_batch(batch, conn=conn)
            await asyncio.sleep(0.2)  # nothing of the batch arrives late either
            assert await conn.fetchval("SELECT count(*) FROM events") == 1  # usable, nothing kept
        assert [e.data["n"] for e in await _all(store)] == [0]
        assert (await store.append(request("thing-1", "t-a", 0, 1)))[0].sequence == 2
    finally:
        await pool.close()
