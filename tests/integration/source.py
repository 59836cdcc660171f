"""A source service as the subscription tests play it: an in-memory log whose events are
published to a JetStream stream on the real NATS server, as the relay publishes them."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from nats.aio.client import Client as NATS
from nats.js import JetStreamContext
from nats.js.api import Header

from shared.envelope import EventEnvelope
from shared.events import DomainEvent
from shared.eventstore import AppendRequest, CommandContext, InMemoryEventStore
from shared.messaging import Subjects, connect, ensure_stream
from tests.support import Servers


class Noted(DomainEvent):
    aggregate_type = "note"
    text: str


@dataclass
class Source:
    subjects: Subjects
    store: InMemoryEventStore
    nc: NATS
    js: JetStreamContext

    @classmethod
    async def on(cls, servers: Servers) -> Source:
        """A stream of its own (a fresh subject root) on the session's NATS server."""
        subjects = Subjects(f"s{uuid.uuid4().hex[:8]}")
        nc = await connect(servers.nats.url, name="source")
        js = nc.jetstream()
        await ensure_stream(js, "source", subjects)
        return cls(subjects, InMemoryEventStore(source="/gongkai/source"), nc, js)

    async def note(
        self, text: str, *, stream: str | None = None, partition: str = "t-a", version: int = 0
    ) -> EventEnvelope:
        """Append one `Noted` to the log (a new stream unless one is named)."""
        request = AppendRequest(
            stream or f"note-{uuid.uuid4().hex}",
            partition,
            version,
            [Noted(text=text)],
            CommandContext("a", "r"),
        )
        [envelope] = await self.store.append(request)
        return envelope

    async def publish(self, envelope: EventEnvelope, *, msg_id: str | None = None) -> None:
        """Publish as the relay does (message id = event id, unless a test forges another)."""
        await self.js.publish(
            self.subjects.of("source", envelope),
            envelope.data_bytes(),
            headers=envelope.headers() | {Header.MSG_ID: msg_id or envelope.id},
        )
