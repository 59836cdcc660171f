"""What every event store does, whatever keeps the bytes."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from shared.envelope import EventEnvelope
from shared.events import DomainEvent


@dataclass(frozen=True)
class CommandContext:
    """Who asked, under which role, and why (A5)."""

    actor: str
    role: str
    correlation_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    causation_id: str | None = None


@dataclass(frozen=True)
class AppendRequest:
    stream_id: str
    partition: str
    expected_version: int  # 0 for a new stream
    events: Sequence[DomainEvent]
    context: CommandContext


def new_envelope(
    *, source: str, request: AppendRequest, index: int, event: DomainEvent, now: datetime
) -> EventEnvelope:
    """The envelope before the store gives it a sequence and hashes."""
    return EventEnvelope(
        id=str(uuid.uuid4()),
        source=source,
        type=event.event_type(),
        subject=request.stream_id,
        time=now,
        streamid=request.stream_id,
        streamversion=request.expected_version + index + 1,
        partition=request.partition,
        sequence=0,
        schemaversion=event.schema_version,
        actor=request.context.actor,
        actorrole=request.context.role,
        causationid=request.context.causation_id,
        correlationid=request.context.correlation_id,
        prevhash="",
        hash="",
        data=event.model_dump(mode="json"),
    )


class EventStore(Protocol):
    source: str

    async def append(self, request: AppendRequest, *, conn: Any = None) -> list[EventEnvelope]:
        """Append atomically if the stream is at `expected_version`, else ConcurrencyConflict."""
        ...

    async def read_stream(self, stream_id: str, *, conn: Any = None) -> list[EventEnvelope]: ...

    def read_all(
        self,
        *,
        after_position: int = 0,
        until_position: int | None = None,
        until_time: datetime | None = None,
        batch: int = 1000,
    ) -> AsyncIterator[tuple[int, EventEnvelope]]:
        """Every event in log order (position), for rebuilds and exports."""
        ...
