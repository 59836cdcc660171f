"""Leases: work that runs on one replica at a time, handed over when its holder dies.

Several replicas of a service share one database. Its relay and each of its schedulers must
run on one of them only (two relays would publish everything twice, two schedulers would act
twice). A lease is a session-level PostgreSQL advisory lock held on a connection of its own,
outside the pool: while the connection lives the lock is held; when the process dies, its
server backend ends and the lock is free. The other replicas try for it every `retry`
seconds and the first to get it starts the work (hand-over: about `retry` after the holder's
death).

The holder checks its connection every `check` seconds. If it breaks (PostgreSQL restarted,
the network cut), the lock may already be someone else's: the work is cancelled at once and
the lease tried for again. TCP keepalives on the connection let the server notice a holder
that vanished without closing its socket (a machine lost) within about 25 s.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
from collections.abc import Awaitable, Callable

import asyncpg
import structlog

log = structlog.get_logger()

# the server drops the connection of a client it no longer hears (seconds: idle, then probes)
KEEPALIVES = {
    "tcp_keepalives_idle": "10",
    "tcp_keepalives_interval": "5",
    "tcp_keepalives_count": "3",
    "application_name": "gongkai-lease",
}


def lease_key(name: str) -> int:
    """The advisory lock's key for lease `name` (advisory locks are per database)."""
    return int.from_bytes(hashlib.sha256(f"lease:{name}".encode()).digest()[:8], "big", signed=True)


class Leases:
    """The leases one process holds or waits for, on one dedicated connection."""

    def __init__(self, dsn: str, *, retry: float = 1.0, check: float = 1.0) -> None:
        self.dsn = dsn
        self.retry = retry
        self.check = check
        self.held: set[str] = set()
        self._conn: asyncpg.Connection | None = None
        self._broken = asyncio.Event()  # set when the current connection is lost
        self._lock = asyncio.Lock()  # one statement at a time on the connection
        self._monitor: asyncio.Task[None] | None = None
        self._closed = False

    async def run(self, name: str, work: Callable[[], Awaitable[None]]) -> None:
        """Forever (until `work` returns or this is cancelled): wait for the lease `name`,
        then run `work` while it is held; if the lease is lost, cancel `work` and wait for
        the lease again."""
        key = lease_key(name)
        while not self._closed:
            try:
                broken = await self._try(key)
            except Exception as error:  # the database is away: try again
                log.warning("lease_retrying", lease=name, error=repr(error))
                broken = None
            if broken is None:
                await asyncio.sleep(self.retry)
                continue
            self.held.add(name)
            log.info("lease_acquired", lease=name)
            task = asyncio.ensure_future(work())
            lost = asyncio.ensure_future(broken.wait())
            try:
                await asyncio.wait({task, lost}, return_when=asyncio.FIRST_COMPLETED)
            finally:
                self.held.discard(name)
                for pending in (task, lost):
                    pending.cancel()
                await asyncio.gather(task, lost, return_exceptions=True)
            if not lost.cancelled() and lost.done():
                log.warning("lease_lost", lease=name)
                # step back longer than the others' retry, so that a replica whose connection
                # held takes the work over (a flaky one reconnecting at once won the race)
                await asyncio.sleep(self.check + self.retry)
                continue
            if task.done() and not task.cancelled() and task.exception() is None:
                await self._release(key)
                return  # the work ended by itself (stopped)
            failure = None if task.cancelled() else task.exception()
            log.warning("lease_work_failed", lease=name, error=repr(failure))
            await self._release(key)
            await asyncio.sleep(self.retry)

    async def _try(self, key: int) -> asyncio.Event | None:
        """The event that says the connection broke, if the lock was got on it; else None."""
        async with self._lock:
            if self._conn is None or self._conn.is_closed():
                self._conn = await asyncpg.connect(
                    self.dsn, server_settings=KEEPALIVES, timeout=self.check * 5
                )
                self._broken = asyncio.Event()
                if self._monitor is None:
                    self._monitor = asyncio.create_task(self._watch())
            conn, broken = self._conn, self._broken
            got = await asyncio.wait_for(
                conn.fetchval("SELECT pg_try_advisory_lock($1)", key), self.check * 3
            )
        return broken if got else None

    async def _release(self, key: int) -> None:
        with contextlib.suppress(Exception):
            async with self._lock:
                if self._conn is not None and not self._conn.is_closed():
                    await self._conn.fetchval("SELECT pg_advisory_unlock($1)", key)

    async def _watch(self) -> None:
        """Every `check` seconds, that the connection (and with it every lock) still holds."""
        while True:
            await asyncio.sleep(self.check)
            async with self._lock:
                conn = self._conn
                if conn is None:
                    continue
                try:
                    await asyncio.wait_for(conn.fetchval("SELECT 1"), self.check * 3)
                except Exception as error:
                    log.warning("lease_connection_lost", error=repr(error))
                    self._broken.set()
                    conn.terminate()
                    self._conn = None

    async def close(self) -> None:
        """Give every lease up (the work is stopped by whoever runs it)."""
        self._closed = True
        if self._monitor is not None:
            self._monitor.cancel()
            await asyncio.gather(self._monitor, return_exceptions=True)
        async with self._lock:
            if self._conn is not None:
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(self._conn.close(), 5)
                self._conn = None
