"""What every event store does, whatever keeps the bytes."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

from pydantic_core import PydanticSerializationError, to_json

from shared.clock import Clock
from shared.envelope import EventEnvelope, NotPlain, canonical_sorted, json_time, plain_sorted
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

    def seal(
        self, sequence: int, prevhash: str, hash_: str, *, last_use: bool = False
    ) -> EventEnvelope:
        """The envelope, built from values the store produced itself: no second validation
        (this is on every append's path; pydantic's model_construct costs five times as
        much). With `last_use`, the draft's own attributes become the envelope's (no copy:
        the draft is not used again)."""
        envelope = EventEnvelope.__new__(EventEnvelope)
        if last_use:
            values = self.attrs
            values["sequence"], values["prevhash"], values["hash"] = sequence, prevhash, hash_
        else:
            values = {**self.attrs, "sequence": sequence, "prevhash": prevhash, "hash": hash_}
        object.__setattr__(envelope, "__dict__", values)
        object.__setattr__(envelope, "__pydantic_fields_set__", set(ENVELOPE_FIELDS))
        object.__setattr__(envelope, "__pydantic_extra__", None)
        object.__setattr__(envelope, "__pydantic_private__", None)
        return envelope


def new_event_id() -> str:
    """A random (version 4) UUID as text, as `str(uuid.uuid4())` writes it, at a third of
    the cost (on every append's path)."""
    raw = bytearray(os.urandom(16))
    raw[6] = raw[6] & 0x0F | 0x40  # version 4
    raw[8] = raw[8] & 0x3F | 0x80  # RFC 4122 variant
    x = raw.hex()
    return f"{x[:8]}-{x[8:12]}-{x[12:16]}-{x[16:20]}-{x[20:]}"


def _event_ids() -> Iterator[str]:
    """Event ids as `new_event_id` makes them, as many as asked for, their randomness drawn
    IDS_DRAWN at a time (a batch of the bulk path makes thousands)."""
    while True:
        raw = bytearray(os.urandom(16 * IDS_DRAWN))
        raw[6::16] = bytes(b & 0x0F | 0x40 for b in raw[6::16])  # version 4
        raw[8::16] = bytes(b & 0x3F | 0x80 for b in raw[8::16])  # RFC 4122 variant
        x = raw.hex()
        for at in range(0, len(x), 32):
            yield (
                f"{x[at : at + 8]}-{x[at + 8 : at + 12]}-{x[at + 12 : at + 16]}"
                f"-{x[at + 16 : at + 20]}-{x[at + 20 : at + 32]}"
            )


def draft_event(
    *, source: str, request: AppendRequest, index: int, event: DomainEvent, now: datetime
) -> DraftEvent:
    """Serialise the event once: the envelope's attributes and its canonical body."""
    now = now.astimezone(UTC)
    context, data, event_id = request.context, event.model_dump(mode="json"), new_event_id()
    version, type_ = request.expected_version + index + 1, event.event_type()
    body = canonical_sorted(  # the attributes in sorted order, as the body writes them
        {
            "actor": context.actor,
            "actorrole": context.role,
            "causationid": context.causation_id,
            "correlationid": context.correlation_id,
            "data": data,
            "datacontenttype": "application/json",
            "id": event_id,
            "partition": request.partition,
            "schemaversion": event.schema_version,
            "source": source,
            "specversion": "1.0",
            "streamid": request.stream_id,
            "streamversion": version,
            "subject": request.stream_id,
            "time": json_time(now),
            "type": type_,
        }
    )
    attrs = _attributes(event_id, source, type_, request, now, version, event, data)
    return DraftEvent(attrs, now, body)


def _attributes(
    event_id: str,
    source: str,
    type_: str,
    request: AppendRequest,
    now: datetime,
    version: int,
    event: DomainEvent,
    data: Any,
) -> dict[str, Any]:
    """An event's envelope attributes, in the envelope's order."""
    context = request.context
    return {
        "specversion": "1.0",
        "id": event_id,
        "source": source,
        "type": type_,
        "subject": request.stream_id,
        "time": now,
        "datacontenttype": "application/json",
        "streamid": request.stream_id,
        "streamversion": version,
        "partition": request.partition,
        "schemaversion": event.schema_version,
        "actor": context.actor,
        "actorrole": context.role,
        "causationid": context.causation_id,
        "correlationid": context.correlation_id,
        "data": data,
    }


_TEXT = (str, type(None))
IDS_DRAWN = 256  # event ids a batch draws randomness for at a time


def _text(value: Any) -> bytes:
    """A string (or null) as the body writes it; else NotPlain (the standard path)."""
    if type(value) not in _TEXT:
        raise NotPlain
    return to_json(value)


def _integer(value: Any) -> bytes:
    if type(value) is not int:  # (a bool would be `true`)
        raise NotPlain
    return b"%d" % value


class BatchDrafts:
    """`draft_event` for the many events of one batch (the bulk path): the same attributes
    and the same body bytes, at half the cost. The body is written from its parts in the
    canonical order (keys sorted), each as `canonical_json` writes it: the parts every event
    of the batch shares (the request's context, the source, the time) once, each
    partition's and type's once, and for each event only its data, id, stream and version.
    An event with anything else than plain JSON (see `canonical_json`) is drafted by
    `draft_event` itself, whose bytes these are (tests/unit/test_canonical_json.py)."""

    def __init__(self, source: str, now: datetime) -> None:
        self.source = source
        self.now = now.astimezone(UTC)
        self._context: CommandContext | None = None
        self._head = b""
        self._known: dict[str, bytes] = {}  # partitions' and types' JSON strings
        try:
            self._tail = b',"source":' + _text(source) + b',"specversion":"1.0","streamid":'
        except (NotPlain, PydanticSerializationError):
            self._tail = b""  # every event by draft_event
        self._time = b',"time":' + to_json(json_time(self.now)) + b',"type":'
        self._ids = _event_ids()

    def draft(self, request: AppendRequest, index: int, event: DomainEvent) -> DraftEvent:
        if not self._tail:
            return self._standard(request, index, event)
        context, data, event_id = request.context, event.model_dump(mode="json"), next(self._ids)
        version, type_, stream = request.expected_version + index + 1, event.event_type(), None
        try:
            if context is not self._context:
                self._head = b"".join(
                    (
                        b'{"actor":',
                        _text(context.actor),
                        b',"actorrole":',
                        _text(context.role),
                        b',"causationid":',
                        _text(context.causation_id),
                        b',"correlationid":',
                        _text(context.correlation_id),
                        b',"data":',
                    )
                )
                self._context = context
            stream = _text(request.stream_id)
            body = b"".join(
                (
                    self._head,
                    to_json(plain_sorted(data)),
                    b',"datacontenttype":"application/json","id":"',
                    event_id.encode(),
                    b'","partition":',
                    self._json(request.partition),
                    b',"schemaversion":',
                    _integer(event.schema_version),
                    self._tail,
                    stream,
                    b',"streamversion":',
                    _integer(version),
                    b',"subject":',
                    stream,
                    self._time,
                    self._json(type_),
                    b"}",
                )
            )
        except (NotPlain, PydanticSerializationError):
            self._context = None
            return self._standard(request, index, event)
        attrs = _attributes(event_id, self.source, type_, request, self.now, version, event, data)
        return DraftEvent(attrs, self.now, body)

    def _json(self, text: str) -> bytes:
        known = self._known.get(text)
        if known is None:
            known = self._known[text] = _text(text)
        return known

    def _standard(self, request: AppendRequest, index: int, event: DomainEvent) -> DraftEvent:
        return draft_event(
            source=self.source, request=request, index=index, event=event, now=self.now
        )


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
