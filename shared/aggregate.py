"""Aggregates decide, events record. Plain Python, no I/O.

An aggregate is rebuilt by applying its stream's events. A command method checks the rules
and calls `_record`, which applies the new event and keeps it as pending until the unit of
work appends it with the version the aggregate was loaded at (optimistic concurrency).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Self

from shared.events import DomainEvent


class Aggregate:
    def __init__(self, stream_id: str, partition: str) -> None:
        self.stream_id = stream_id
        self.partition = partition
        self.version = 0  # events applied from the log
        self.pending: list[DomainEvent] = []
        self.blank()

    def apply(self, event: DomainEvent) -> None:
        raise NotImplementedError

    def _record(self, event: DomainEvent) -> None:
        self.apply(event)
        self.pending.append(event)

    @classmethod
    def replay(cls, stream_id: str, partition: str, events: Iterable[DomainEvent]) -> Self:
        aggregate = cls(stream_id, partition)
        for event in events:
            aggregate.apply(event)
            aggregate.version += 1
        return aggregate

    def blank(self) -> None:
        """Set the empty state before the first event (subclasses override)."""
