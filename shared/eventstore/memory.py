"""An in-memory event store with the same contract, for fast domain and handler tests."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any

from shared.clock import Clock, SystemClock
from shared.envelope import GENESIS_HASH, EventEnvelope, chain_hash
from shared.errors import ConcurrencyConflict
from shared.eventstore.base import AppendRequest, draft_event


class InMemoryEventStore:
    def __init__(self, source: str, clock: Clock | None = None) -> None:
        self.source = source
        self.clock = clock or SystemClock()
        self.log: list[EventEnvelope] = []
        self._heads: dict[str, tuple[int, str]] = {}

    async def append(self, request: AppendRequest, *, conn: Any = None) -> list[EventEnvelope]:
        current = sum(1 for e in self.log if e.streamid == request.stream_id)
        if current != request.expected_version:
            raise ConcurrencyConflict(
                f"记录已被他人修改（{request.stream_id} 现为第 {current} 版，"
                f"不是第 {request.expected_version} 版）：请刷新页面后再试。",
                stream_id=request.stream_id,
                expected_version=request.expected_version,
            )
        stored = []
        now = self.clock.now()
        for index, event in enumerate(request.events):
            draft = draft_event(
                source=self.source, request=request, index=index, event=event, now=now
            )
            seq, prev = self._heads.get(request.partition, (0, GENESIS_HASH))
            seq += 1
            digest = chain_hash(prev, seq, draft.body)
            envelope = draft.seal(seq, prev, digest)
            self._heads[request.partition] = (seq, digest)
            self.log.append(envelope)
            stored.append(envelope)
        return stored

    async def read_stream(
        self, stream_id: str, *, conn: Any = None, after_version: int = 0
    ) -> list[EventEnvelope]:
        return [e for e in self.log if e.streamid == stream_id and e.streamversion > after_version]

    async def read_all(
        self,
        *,
        after_position: int = 0,
        until_position: int | None = None,
        until_time: datetime | None = None,
        batch: int = 1000,
    ) -> AsyncIterator[tuple[int, EventEnvelope]]:
        for position, envelope in enumerate(self.log, start=1):
            if position <= after_position:
                continue
            if until_position is not None and position > until_position:
                return
            if until_time is not None and envelope.time > until_time:
                return
            yield position, envelope
