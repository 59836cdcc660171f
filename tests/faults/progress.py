"""How long a consumer made no progress while it had something to consume: the stall a
fault causes, end to end (committed in the source's log -> applied by the consumer)."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field

import asyncpg

from tests.faults.stack import Stack

COMMITTED = "SELECT coalesce(sum(sequence), 0) FROM partition_heads"
APPLIED = (
    "SELECT coalesce(sum(sequence), 0) FROM consumer_positions WHERE consumer = $1 AND source = $2"
)


@dataclass
class ProgressWatch:
    stack: Stack
    consumer: str = "review"
    source: str = "pledge"
    interval: float = 0.1
    longest: float = 0.0  # seconds
    task: asyncio.Task[None] | None = field(default=None, repr=False)

    def start(self) -> ProgressWatch:
        self.task = asyncio.create_task(self._watch())
        return self

    async def stop(self) -> float:
        assert self.task is not None
        self.task.cancel()
        await asyncio.gather(self.task, return_exceptions=True)
        return self.longest

    async def _watch(self) -> None:
        source = await asyncpg.connect(self.stack[self.source].dsn)
        consumer = await asyncpg.connect(self.stack[self.consumer].dsn)
        try:
            applied, since = -1, time.monotonic()
            while True:
                committed = await source.fetchval(COMMITTED)
                now_applied = await consumer.fetchval(APPLIED, self.consumer, self.source)
                now = time.monotonic()
                if now_applied != applied or now_applied >= committed:
                    applied, since = now_applied, now  # moving, or nothing to do
                self.longest = max(self.longest, now - since)
                await asyncio.sleep(self.interval)
        finally:
            await source.close()
            await consumer.close()
