"""The outbox relay: every committed event, in order per partition, to JetStream.

The log is the outbox. The relay remembers, per partition, the last sequence the broker
acknowledged (`relay_positions`) and publishes what follows. A crash between commit and
publish, or between publish and remembering, only repeats messages; `Nats-Msg-Id` = event
id lets the broker drop the repeats, and consumers skip what they have already applied.
`republish_from` rewinds the positions to refill a lost stream (PostgreSQL is the truth).
"""

from __future__ import annotations

import asyncio
import contextlib

import asyncpg
import structlog
from nats.js import JetStreamContext
from nats.js.api import Header

from shared.envelope import EventEnvelope
from shared.eventstore.postgres import COLUMNS, decode_row
from shared.messaging import Subjects
from shared.metrics import RELAY_LAG, RELAY_PUBLISHED

log = structlog.get_logger()

PENDING = """
SELECT h.partition, h.sequence AS head, coalesce(r.sequence, 0) AS published
FROM partition_heads h LEFT JOIN relay_positions r USING (partition)
WHERE h.sequence > coalesce(r.sequence, 0)
"""

# The next unpublished events of every township, in log order (committed only: a township's
# events up to its head row's sequence are all committed). Each township's are read by its
# (partition, sequence) index, so a round costs the same however long the log has grown;
# within a township sequence order is log order (appends hold its head row until commit).
NEXT_BATCH = f"""
SELECT e.* FROM partition_heads h
LEFT JOIN relay_positions r ON r.partition = h.partition
CROSS JOIN LATERAL (
    SELECT {COLUMNS}, position AS log_order FROM events
    WHERE partition = h.partition AND sequence > coalesce(r.sequence, 0)
      AND sequence <= h.sequence
    ORDER BY sequence LIMIT $1
) e
WHERE h.sequence > coalesce(r.sequence, 0)
ORDER BY e.log_order
LIMIT $1
"""

REMEMBER = """
INSERT INTO relay_positions (partition, sequence) VALUES ($1, $2)
ON CONFLICT (partition) DO UPDATE SET sequence = EXCLUDED.sequence
"""
# One statement, its own transaction, whose commit does not wait for the disk (set_config's
# local setting lasts until that commit): positions lost in a crash only make the relay
# publish again what the broker then drops as a repeat (and consumers skip).
REMEMBER_ALL = """
INSERT INTO relay_positions (partition, sequence)
SELECT p, s FROM unnest($1::text[], $2::bigint[]) AS u(p, s)
WHERE set_config('synchronous_commit', 'off', true) IS NOT NULL
ON CONFLICT (partition) DO UPDATE SET sequence = EXCLUDED.sequence
"""


class OutboxRelay:
    def __init__(
        self,
        pool: asyncpg.Pool,
        js: JetStreamContext,
        *,
        service: str,
        subjects: Subjects,
        batch: int = 500,
        poll_interval: float = 0.25,
    ) -> None:
        self.pool = pool
        self.js = js
        self.service = service
        self.subjects = subjects
        self.stream = subjects.stream(service)
        self.batch = batch
        self.poll_interval = poll_interval
        self._wake = asyncio.Event()
        self._stopping = asyncio.Event()

    def wake(self) -> None:
        self._wake.set()

    def stop(self) -> None:
        self._stopping.set()
        self._wake.set()

    async def run(self) -> None:
        log.info("relay_started", service=self.service)
        while not self._stopping.is_set():
            try:
                async with self.pool.acquire() as conn:  # kept for the relay's rounds
                    while not self._stopping.is_set():
                        # cleared before looking: a commit after this wakes the wait below
                        self._wake.clear()
                        if await self.publish_pending(conn) < self.batch:  # caught up
                            with contextlib.suppress(TimeoutError):
                                await asyncio.wait_for(self._wake.wait(), self.poll_interval)
            except Exception as error:  # broker or database away: log, wait, try again
                log.warning("relay_retrying", service=self.service, error=repr(error))
                await asyncio.sleep(1.0)
        log.info("relay_stopped", service=self.service)

    async def publish_pending(self, conn: asyncpg.Connection | None = None) -> int:
        """Publish the next batch of unpublished events in log order; the number published.
        On the given connection (the run loop keeps one), or on one borrowed for the round.

        Log order (position) across townships keeps the events of one stream in order even
        when the stream moved to another township (a transfer, D3); within a township it is
        the gap-free sequence order.
        """
        if conn is None:
            async with self.pool.acquire() as own:
                return await self.publish_pending(own)
        rows = await conn.fetch(NEXT_BATCH, self.batch)
        if len(rows) < self.batch:  # all that had committed: none left behind this batch
            RELAY_LAG.labels(self.service).set(len(rows))
        else:
            pending = await conn.fetch(PENDING)
            RELAY_LAG.labels(self.service).set(sum(r["head"] - r["published"] for r in pending))
        if not rows:
            return 0
        envelopes = [decode_row(r) for r in rows]
        futures = []
        for envelope in envelopes:  # pipelined on one connection: order is kept
            headers = envelope.headers() | {Header.MSG_ID: envelope.id}
            try:
                future = await self.js.publish_async(
                    self.subjects.of(self.service, envelope),
                    envelope.data_bytes(),
                    headers=headers,
                    stream=self.stream,
                )
            except Exception as error:
                self._failed(envelope, error)
                raise
            futures.append(future)
        acknowledged = 0
        for envelope, future in zip(envelopes, futures, strict=True):
            try:
                await asyncio.wait_for(future, timeout=10)
            except Exception as error:
                self._failed(envelope, error)
                break  # remember what was acknowledged; the rest goes next round
            acknowledged += 1
        last: dict[str, int] = {}  # per township, the last acknowledged sequence
        for envelope in envelopes[:acknowledged]:
            last[envelope.partition] = envelope.sequence
        await conn.execute(REMEMBER_ALL, list(last), list(last.values()))
        RELAY_PUBLISHED.labels(self.service).inc(acknowledged)
        if acknowledged < len(envelopes):
            raise ConnectionError("the broker did not acknowledge every event")
        return acknowledged

    def _failed(self, envelope: EventEnvelope, error: BaseException) -> None:
        """The event the broker did not take: named, never its payload."""
        log.warning(
            "relay_publish_failed",
            service=self.service,
            event_id=envelope.id,
            event_type=envelope.type,
            partition=envelope.partition,
            sequence=envelope.sequence,
            error=repr(error),
        )


async def republish_from(pool: asyncpg.Pool, *, partition: str | None, sequence: int) -> None:
    """Rewind the relay so it publishes again after `sequence` (all partitions if None)."""
    if partition is None:
        await pool.execute("UPDATE relay_positions SET sequence = least(sequence, $1)", sequence)
    else:
        await pool.execute(REMEMBER, partition, sequence)
