"""What every event store does, whatever keeps the bytes."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

from shared.clock import Clock
from shared.envelope import EventEnvelope, canonical_json, json_time
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


ENVELOPE_FIELDS = frozenset(EventEnvelope.model_fields)


@dataclass(frozen=True)
class DraftEvent:
    """An event before the store gives it its sequence and hashes."""

    attrs: dict[str, Any]  # JSON-ready envelope attributes, without sequence and hashes
    time: datetime
    body: bytes  # canonical JSON of `attrs`: the bytes the hash covers

    @property
    def streamversion(self) -> int:
        version: int = self.attrs["streamversion"]
        return version

    def seal(self, sequence: int, prevhash: str, hash_: str) -> EventEnvelope:
        # built from values the store produced itself: no second validation (this is on
        # every append's path; pydantic's model_construct costs five times as much)
        envelope = EventEnvelope.__new__(EventEnvelope)
        values = {**self.attrs, "sequence": sequence, "prevhash": prevhash, "hash": hash_}
        object.__setattr__(envelope, "__dict__", values)
        object.__setattr__(envelope, "__pydantic_fields_set__", set(ENVELOPE_FIELDS))
        object.__setattr__(envelope, "__pydantic_extra__", None)
        object.__setattr__(envelope, "__pydantic_private__", None)
        return envelope


def draft_event(
    *, source: str, request: AppendRequest, index: int, event: DomainEvent, now: datetime
) -> DraftEvent:
    """Serialise the event once: the envelope's attributes and its canonical body."""
    now = now.astimezone(UTC)
    attrs: dict[str, Any] = {
        "specversion": "1.0",
        "id": str(uuid.uuid4()),
        "source": source,
        "type": event.event_type(),
        "subject": request.stream_id,
        "time": json_time(now),
        "datacontenttype": "application/json",
        "streamid": request.stream_id,
        "streamversion": request.expected_version + index + 1,
        "partition": request.partition,
        "schemaversion": event.schema_version,
        "actor": request.context.actor,
        "actorrole": request.context.role,
        "causationid": request.context.causation_id,
        "correlationid": request.context.correlation_id,
        "data": event.model_dump(mode="json"),
    }
    return DraftEvent({**attrs, "time": now}, now, canonical_json(attrs))


class EventStore(Protocol):
    """What a unit of work needs of a store: PostgreSQL in the services, memory in tests."""

    source: str
    clock: Clock

    async def append(self, request: AppendRequest, *, conn: Any = None) -> list[EventEnvelope]:
        """Append atomically if the stream is at `expected_version`, else ConcurrencyConflict."""
        ...

    async def read_stream(
        self, stream_id: str, *, conn: Any = None, after_version: int = 0
    ) -> list[EventEnvelope]: ...

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
