"""The service's background work, run by the runtime on a schedule: the clock-driven
scheduler (N3, N4) and the delivery loop (N5)."""

from __future__ import annotations

import asyncio
import json
from functools import partial

import httpx
import structlog

from services.notification.delivery.channels import DeliverySettings, send
from services.notification.delivery.scheduler import CONTEXT, tick
from services.notification.handlers import record_attempt
from services.notification.queries import due_deliveries
from shared.database import alone
from shared.runtime import Periodic, Runtime

log = structlog.get_logger()


class Worker:
    def __init__(self, runtime: Runtime, settings: DeliverySettings) -> None:
        self.runtime = runtime
        self.settings = settings
        self.http = httpx.AsyncClient(timeout=10)
        self._lock = asyncio.Lock()  # one pass at a time: a message is not sent twice at once

    async def tick(self) -> int:
        async with self._lock:
            return await tick(self.runtime)

    async def deliver_due(self) -> int:
        """Attempt every delivery that is due; the number attempted. One replica at a time: a
        second one passing at the same moment would send the same messages again."""
        async with self._lock, alone(self.runtime.pool, "notification.deliveries") as mine:
            if not mine:
                return 0
            now = self.runtime.clock.now()
            async with self.runtime.pool.acquire() as conn:
                rows = await due_deliveries(conn, now)
            for row in rows:
                delivery = {**dict(row), "content": json.loads(row["content"])}
                try:
                    if not row["active"]:
                        raise RuntimeError("the channel was retired")
                    outcome: int | str = await send(delivery, delivery, self.settings, self.http)
                except Exception as error:  # any failure is retried, then given up visibly
                    outcome = f"{type(error).__name__}: {error}"[:500]
                    log.warning("delivery_failed", delivery_id=row["delivery_id"], error=outcome)
                record = partial(
                    record_attempt,
                    delivery_id=row["delivery_id"],
                    seen=row["attempts"],
                    outcome=outcome,
                )
                await self.runtime.executor.execute(record, context=CONTEXT)
            return len(rows)

    def periodic(self) -> list[Periodic]:
        return [
            Periodic("notices", self.settings.scheduler_interval, self.tick),
            Periodic(
                "deliveries",
                self.settings.delivery_interval,
                self.deliver_due,
                close=self.http.aclose,
            ),
        ]


def periodic(runtime: Runtime) -> list[Periodic]:
    """The notification service's background work; tests drive it through
    `runtime.components["worker"]`."""
    worker = Worker(runtime, DeliverySettings())
    runtime.components["worker"] = worker
    return worker.periodic()
