"""The event store: one contract, a PostgreSQL adapter and an in-memory one for fast tests."""

from shared.eventstore.base import AppendRequest, CommandContext, EventStore, new_envelope
from shared.eventstore.memory import InMemoryEventStore
from shared.eventstore.postgres import PostgresEventStore

__all__ = [
    "AppendRequest",
    "CommandContext",
    "EventStore",
    "InMemoryEventStore",
    "PostgresEventStore",
    "new_envelope",
]
