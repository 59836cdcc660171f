"""The service's background work, run by the runtime on a schedule: the clock-driven
scheduler (N3, N4) and the delivery loop (N5)."""

from __future__ import annotations

import asyncio
import json
from functools import partial
from typing import Any

import httpx
import structlog

from services.notification.delivery.channels import DeliverySettings, send, send_sms
from services.notification.delivery.scheduler import CONTEXT, tick
from services.notification.handlers import record_attempt
from services.notification.queries import due_deliveries, phone_of
from shared.database import alone
from shared.logging import scrub_text
from shared.runtime import Periodic, Runtime
from shared.sms import SmsError, SmsGateway, SmsSettings, gateway_from_settings

log = structlog.get_logger()


class Worker:
    def __init__(
        self, runtime: Runtime, settings: DeliverySettings, sms: SmsSettings | None = None
    ) -> None:
        self.runtime = runtime
        self.settings = settings
        self.http = httpx.AsyncClient(timeout=10)
        self.sms: SmsGateway | None = gateway_from_settings(sms or SmsSettings(), self.http)
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
                permanent = False
                try:
                    if not row["active"]:
                        raise RuntimeError("the channel was retired")
                    if row["kind"] == "sms":
                        outcome: int | str = await self._sms(delivery)
                    else:
                        outcome = await send(delivery, delivery, self.settings, self.http)
                except Exception as error:  # any failure is retried, then given up visibly
                    permanent = isinstance(error, SmsError) and not error.retryable
                    # kept in the log and shown to the county's auditor: no address or number
                    # a mail server or provider named in it (as in the service's own logs)
                    outcome = scrub_text(f"{type(error).__name__}: {error}")[:500]
                    log.warning("delivery_failed", delivery_id=row["delivery_id"], error=outcome)
                record = partial(
                    record_attempt,
                    delivery_id=row["delivery_id"],
                    seen=row["attempts"],
                    outcome=outcome,
                    permanent=permanent,
                )
                await self.runtime.executor.execute(record, context=CONTEXT)
            return len(rows)

    async def _sms(self, delivery: dict[str, Any]) -> int:
        """A notice by SMS to its recipient's phone, opened only now (A7)."""
        if self.sms is None:  # retrying cannot mend it: given up at once, redelivered once set
            raise SmsError(
                "NoAccount", "no SMS account is configured (GONGKAI_SMS_PROVIDER)", retryable=False
            )
        recipient = str(delivery["content"]["recipient"])
        async with self.runtime.pool.acquire() as conn:
            phone = await phone_of(conn, recipient)
        if phone is None:  # removed or erased since: nobody to send it to
            raise SmsError("NoPhone", f"no phone registered for {recipient}", retryable=False)
        return await send_sms(self.sms, phone, delivery)

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
