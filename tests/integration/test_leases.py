"""Leases (shared/lease.py) on the real PostgreSQL: one holder at a time among replicas, hand-
over when the holder's connection dies, and the work of a holder that lost it is stopped."""

from __future__ import annotations

import asyncio

import asyncpg

from shared.lease import Leases
from tests.e2e.helpers import eventually
from tests.support import Servers, fresh_log_database


async def test_one_holder_at_a_time_and_hand_over_when_it_dies(servers: Servers) -> None:
    pool, dsn = await fresh_log_database(servers)
    running: list[str] = []  # which replica's work is running now
    started: list[str] = []

    def work(replica: str) -> object:
        async def run() -> None:
            running.append(replica)
            started.append(replica)
            try:
                await asyncio.Event().wait()  # until cancelled
            finally:
                running.remove(replica)

        return run

    a, b = Leases(dsn, retry=0.1, check=0.2), Leases(dsn, retry=0.1, check=0.2)
    task_a = asyncio.create_task(a.run("relay", work("a")))  # type: ignore[arg-type]

    async def a_holds() -> bool:
        return running == ["a"]

    await eventually(a_holds)
    task_b = asyncio.create_task(b.run("relay", work("b")))  # type: ignore[arg-type]
    other = asyncio.create_task(b.run("periodic:x", work("b-x")))  # type: ignore[arg-type]
    try:

        async def b_holds_the_other() -> bool:
            return "b-x" in running

        await eventually(b_holds_the_other)  # another lease: not held back by a's
        assert "b" not in started
        assert a.held == {"relay"}
        assert b.held == {"periodic:x"}

        # a's process dies: its server backend ends, and its locks with it
        assert a._conn is not None
        owner = await asyncpg.connect(dsn)
        try:
            await owner.execute("SELECT pg_terminate_backend($1)", a._conn.get_server_pid())
        finally:
            await owner.close()

        async def b_took_over() -> bool:
            return "b" in running and "a" not in running

        await eventually(b_took_over)  # and a, which lost its connection, stopped its work
        assert running.count("b") == 1
    finally:
        for task in (task_a, task_b, other):
            task.cancel()
        await asyncio.gather(task_a, task_b, other, return_exceptions=True)
        await a.close()
        await b.close()
        await pool.close()
