"""Waiting, in a generated history, until the services have heard each other: every event
each one logged is on its stream, and each one's consumers have taken and acknowledged all
they asked for. The walk waits for that at the end of a day with steps, as the services,
running all along, would have caught up by the next morning."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

import asyncpg
from nats.js import JetStreamContext
from nats.js.errors import NotFoundError

from shared.messaging import Subjects


async def _until(check: Callable[[], Awaitable[bool]], what: str) -> None:
    deadline = time.monotonic() + 120
    while not await check():
        if time.monotonic() > deadline:
            raise RuntimeError(f"gave up waiting for {what}")
        await asyncio.sleep(0.05)


async def _snapshot(
    js: JetStreamContext, subjects: Subjects, pools: dict[str, asyncpg.Pool]
) -> tuple[int, ...] | None:
    """Events logged and published per service, if nothing is in flight; else None."""
    counts: list[int] = []
    for service, pool in pools.items():
        logged: int = await pool.fetchval("SELECT count(*) FROM events")
        try:
            stream = await js.stream_info(subjects.stream(service))
        except NotFoundError:
            if logged:
                return None
            continue
        if stream.state.messages < logged:
            return None  # the relay has more to publish
        for consumer in await js.consumers_info(subjects.stream(service)):
            if consumer.name.split("-", 1)[0] in pools and (
                consumer.num_pending or consumer.num_ack_pending
            ):
                return None  # one of ours has not taken or finished everything yet
        counts.append(logged)
    return tuple(counts)


async def settled(js: JetStreamContext, subjects: Subjects, pools: dict[str, asyncpg.Pool]) -> None:
    """Twice in a row the same and quiet: an event a consumer appended while the services
    were being looked at, one by one, shows in the second look."""
    seen: list[tuple[int, ...] | None] = [None]

    async def quiet() -> bool:
        now = await _snapshot(js, subjects, pools)
        steady = now is not None and now == seen[0]
        seen[0] = now
        return steady

    await _until(quiet, "the services to hear each other's events")
