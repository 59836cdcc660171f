"""Domain events: frozen pydantic models, past tense, registered per service.

A registry maps the stored `type` to the model and upcasts old schema versions on read;
the stored bytes never change. Each upcaster names the model of the version it reads (a
frozen copy of the event as that version wrote it), so a log holding old versions has a
schema for each of them: the same registry generates the published JSON schemas of every
version (shared/asyncapi.py).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, ValidatorFunctionWrapHandler, field_validator

from shared.envelope import EventEnvelope


class DomainEvent(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    aggregate_type: ClassVar[str]
    schema_version: ClassVar[int] = 1
    old_version_of: ClassVar[str | None] = None  # the type a frozen old version was written as

    @classmethod
    def event_type(cls) -> str:
        return cls.old_version_of or cls.__name__


ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$"  # ids are also NATS subject tokens


def _without_nul(value: Any) -> Any:
    if isinstance(value, str) and "\x00" in value:
        raise ValueError("文字中不能含有空字符（NUL）：请删去后再提交")
    if isinstance(value, dict):
        for key, item in value.items():
            _without_nul(key)
            _without_nul(item)
    elif isinstance(value, list | tuple):
        for item in value:
            _without_nul(item)
    return value


class PlainText(BaseModel):
    """Refuses NUL characters anywhere in the input (PostgreSQL text cannot hold them). Checked
    once a field is otherwise valid, so a refusal names the innermost field: a nested model
    checks its own fields, and a field's own type may refuse a NUL first (shared.text)."""

    @field_validator("*", mode="wrap")
    @classmethod
    def _text_without_nul(cls, value: Any, handler: ValidatorFunctionWrapHandler) -> Any:
        return _without_nul(handler(value))


class Part(PlainText):
    """A part of a command (an item of a proposal, a grade of a scale): as strict as a command
    (frozen, no unknown fields, whitespace stripped), but no order of its own."""

    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)


class Command(Part):
    """Base for commands and request bodies: imperative, frozen, no unknown fields."""


Upcaster = Callable[[dict[str, Any]], dict[str, Any]]


class EventRegistry:
    def __init__(self, service: str, events: Iterable[type[DomainEvent]]) -> None:
        self.service = service
        self.types: dict[str, type[DomainEvent]] = {e.event_type(): e for e in events}
        # (type, from_version) -> function giving the data at from_version + 1
        self.upcasters: dict[tuple[str, int], Upcaster] = {}
        # (type, from_version) -> the model of the data that upcaster reads
        self.old_versions: dict[tuple[str, int], type[DomainEvent]] = {}

    def upcaster(
        self, event_type: str, from_version: int, *, reads: type[DomainEvent]
    ) -> Callable[[Upcaster], Upcaster]:
        """Registers fn(data at from_version) -> data at from_version + 1; `reads` is the model
        of the data at from_version, kept for the published contract (never used to decide)."""
        if (reads.event_type(), reads.schema_version) != (event_type, from_version):
            raise ValueError(
                f"the upcaster of {event_type} from version {from_version} reads "
                f"{reads.__name__}, version {reads.schema_version} of {reads.event_type()}"
            )

        def register(fn: Upcaster) -> Upcaster:
            self.upcasters[(event_type, from_version)] = fn
            self.old_versions[(event_type, from_version)] = reads
            return fn

        return register

    def versions(self, event_type: str) -> list[type[DomainEvent]]:
        """The model of every schema version of the type that a log may hold, oldest first."""
        current = self.types[event_type]
        try:
            old = [self.old_versions[(event_type, v)] for v in range(1, current.schema_version)]
        except KeyError as missing:
            raise LookupError(
                f"{event_type}: no upcaster from version {missing.args[0][1]}"
            ) from None
        return [*old, current]

    def decode(self, event_type: str, schema_version: int, data: dict[str, Any]) -> DomainEvent:
        model = self.types[event_type]
        while schema_version < model.schema_version:
            data = self.upcasters[(event_type, schema_version)](data)
            schema_version += 1
        return model.model_validate(data)

    def upcast(self, envelope: EventEnvelope) -> EventEnvelope:
        """The envelope with its data at this registry's current schema version (invariant 6);
        events of other services, or already current, come back as they are."""
        model = self.types.get(envelope.type)
        if model is None or envelope.schemaversion >= model.schema_version:
            return envelope
        data, version = envelope.data, envelope.schemaversion
        while version < model.schema_version:
            data = self.upcasters[(envelope.type, version)](data)
            version += 1
        return envelope.model_copy(update={"data": data, "schemaversion": version})

    def __contains__(self, event_type: str) -> bool:
        return event_type in self.types
