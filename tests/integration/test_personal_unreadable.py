"""A7 mechanism, issue 21's leftover: sealed personal data whose bytes were altered does not
open, and a list read (`unseal_each`) gives that one as `Unreadable` (logged) while every
other envelope opens, or reads erased, as before; `unseal_all` still refuses the whole list."""

from __future__ import annotations

import base64

import pytest
from structlog.testing import capture_logs

from shared.personal import Unreadable, destroy_key, seal, unseal_all, unseal_each
from tests.support import Servers, fresh_log_database


async def test_one_altered_envelope_does_not_hide_the_others(servers: Servers) -> None:
    pool, _ = await fresh_log_database(servers)
    async with pool.acquire() as conn:
        alice = await seal(conn, "rt-alice", {"name": "王小明"})
        bob = await seal(conn, "rt-bob", {"name": "李四"})
        carol = await seal(conn, "rt-carol", {"name": "赵六"})
        assert await destroy_key(conn, "rt-carol")
        raw = bytearray(base64.b64decode(alice["sealed"]))
        raw[-1] ^= 0x01
        flipped = {**alice, "sealed": base64.b64encode(bytes(raw)).decode()}
        garbled = {**bob, "sealed": "not base64!"}
        moved = {**alice, "person": "rt-bob"}  # another person's key
        nameless: dict[str, str] = {"sealed": alice["sealed"]}
        with capture_logs() as logs:
            opened = await unseal_each(conn, [bob, flipped, garbled, moved, nameless, carol])
        assert opened[0] == {"name": "李四"}
        assert all(isinstance(o, Unreadable) for o in opened[1:5])
        assert opened[5] is None  # erased reads as erased, not as damaged
        persons = [x["person_id"] for x in logs if x["event"] == "personal_data_unreadable"]
        assert persons == ["rt-alice", "rt-bob", "rt-bob", None]
        assert "王小明" not in repr(logs)
        assert await unseal_each(conn, []) == []
        with pytest.raises(ValueError, match="does not open"):
            await unseal_all(conn, [bob, flipped])
    await pool.close()
