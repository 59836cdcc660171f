"""The event store: one contract, a PostgreSQL adapter and an in-memory one for fast tests."""

from shared.eventstore.base import AppendRequest, CommandContext, EventStore, draft_event
from shared.eventstore.memory import InMemoryEventStore
from shared.eventstore.postgres import PostgresEventStore

__all__ = [
    "AppendRequest",
    "CommandContext",
    "EventStore",
    "InMemoryEventStore",
    "PostgresEventStore",
    "draft_event",
]
