"""Domain events: frozen pydantic models, past tense, registered per service.

A registry maps the stored `type` to the model and upcasts old schema versions on read;
the stored bytes never change. The same registry generates the published JSON schemas.
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

    @classmethod
    def event_type(cls) -> str:
        return cls.__name__


ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$"  # ids are also NATS subject tokens


def _without_nul(value: Any) -> Any:
    if isinstance(value, str) and "\x00" in value:
        raise ValueError("text must not contain NUL characters")
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


class Command(PlainText):
    """Base for commands and request bodies: imperative, frozen, no unknown fields."""

    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)


Upcaster = Callable[[dict[str, Any]], dict[str, Any]]


class EventRegistry:
    def __init__(self, service: str, events: Iterable[type[DomainEvent]]) -> None:
        self.service = service
        self.types: dict[str, type[DomainEvent]] = {e.event_type(): e for e in events}
        # (type, from_version) -> function giving the data at from_version + 1
        self.upcasters: dict[tuple[str, int], Upcaster] = {}

    def upcaster(self, event_type: str, from_version: int) -> Callable[[Upcaster], Upcaster]:
        def register(fn: Upcaster) -> Upcaster:
            self.upcasters[(event_type, from_version)] = fn
            return fn

        return register

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
