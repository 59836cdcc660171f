"""The reading side of another service's published events: each consumer declares, with
models of its own, only the fields it reads (`extra="ignore"`, so a field a publisher adds
later, or one it should never have sent, is never read). tests/unit/test_consumed_contracts.py
holds every consumer's models to the publishers' real event classes."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class Consumed(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")


def by_type(*models: type[Consumed]) -> dict[str, type[Consumed]]:
    """The models by the event type they read (their class name is the type's)."""
    return {model.__name__: model for model in models}
