"""A7 mechanism: personal data sealed with a key per person (shared/personal.py), on the real
PostgreSQL as the service's runtime role: seal, unseal, erase by destroying the key."""

from __future__ import annotations

import base64
import json

import asyncpg
import pytest

from shared.personal import (
    destroy_key,
    mask_id_number,
    mask_phone,
    seal,
    unseal,
    unseal_all,
)
from tests.support import Servers, fresh_log_database

ALICE = {"name": "王小明", "phone": "13812345678", "id_number": "11010519491231002X"}


async def test_sealed_data_opens_with_the_key_until_the_key_is_destroyed(
    servers: Servers,
) -> None:
    pool, _ = await fresh_log_database(servers)
    async with pool.acquire() as conn:
        sealed = await seal(conn, "rt-alice", ALICE)
        assert set(sealed) == {"person", "sealed"}
        assert sealed["person"] == "rt-alice"
        text = json.dumps(sealed, ensure_ascii=False)
        for value in ALICE.values():
            assert value not in text
        raw = base64.b64decode(sealed["sealed"])
        assert ALICE["name"].encode() not in raw
        assert ALICE["phone"].encode() not in raw
        assert await unseal(conn, sealed) == ALICE

        again = await seal(conn, "rt-alice", {"name": "王小明"})  # the same key, a new nonce
        assert again["sealed"] != sealed["sealed"]
        assert await pool.fetchval("SELECT count(*) FROM person_keys") == 1
        bob = await seal(conn, "rt-bob", {"phone": "13900000000"})

        # a sealed value cannot be moved to another person (the person id is authenticated)
        with pytest.raises(ValueError, match="does not open"):
            await unseal(conn, {**bob, "person": "rt-alice"})

        assert await destroy_key(conn, "rt-alice")
        assert await unseal(conn, sealed) is None
        assert await unseal(conn, again) is None
        assert not await destroy_key(conn, "rt-alice")  # erasing twice finds nothing
        assert await unseal(conn, bob) == {"phone": "13900000000"}  # others keep theirs
    await pool.close()


async def test_a_list_of_envelopes_opens_at_once_each_with_its_own_key(servers: Servers) -> None:
    """What a read model's query does with the sealed rows it reads (A7)."""
    pool, _ = await fresh_log_database(servers)
    async with pool.acquire() as conn:
        alice = await seal(conn, "rt-alice", ALICE)
        bob = await seal(conn, "rt-bob", {"name": "李四"})
        again = await seal(conn, "rt-alice", {"phone": "13900000000"})
        assert await unseal_all(conn, []) == []
        opened = await unseal_all(conn, [alice, bob, again])
        assert opened == [ALICE, {"name": "李四"}, {"phone": "13900000000"}]
        assert await destroy_key(conn, "rt-alice")
        assert await unseal_all(conn, [alice, bob, again]) == [None, {"name": "李四"}, None]
        moved = {**bob, "person": "rt-carol"}  # no key for carol: as erased
        assert await unseal_all(conn, [moved]) == [None]
        await seal(conn, "rt-carol", {"name": "x"})  # with one, bob's data does not open
        with pytest.raises(ValueError, match="does not open"):
            await unseal_all(conn, [moved])
    await pool.close()


async def test_a_seal_in_a_rolled_back_transaction_leaves_no_key(servers: Servers) -> None:
    pool, _ = await fresh_log_database(servers)
    async with pool.acquire() as conn:
        transaction = conn.transaction()
        await transaction.start()
        await seal(conn, "rt-carol", ALICE)
        assert await conn.fetchval("SELECT count(*) FROM person_keys") == 1
        await transaction.rollback()  # the command failed: its key goes with its events
        assert await pool.fetchval("SELECT count(*) FROM person_keys") == 0
    await pool.close()


async def test_keys_are_32_bytes_and_the_table_refuses_others(servers: Servers) -> None:
    pool, _ = await fresh_log_database(servers)
    async with pool.acquire() as conn:
        await seal(conn, "rt-dave", ALICE)
        assert await conn.fetchval("SELECT length(key) FROM person_keys") == 32
        with pytest.raises(asyncpg.CheckViolationError):
            await conn.execute("INSERT INTO person_keys (person_id, key) VALUES ('x', '\\x00')")
    await pool.close()


def test_masks() -> None:
    assert mask_phone("13812345678") == "138****5678"
    assert mask_phone("8123456") == "81***56"
    assert mask_id_number("11010519491231002X") == "110105********002X"
