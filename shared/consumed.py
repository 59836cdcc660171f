"""The reading side of another service's published events: each consumer declares, with
models of its own, only the fields it reads (`extra="ignore"`, so a field a publisher adds
later, or one it should never have sent, is never read). tests/unit/test_consumed_contracts.py
holds every consumer's models to the publishers' real event classes, and shows each still
reads every published type with a field added.

A policy reacts to typed consumed events, never to raw data: `reaction` makes a subscription's
handler of it, parsing the event with the consumer's model."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

import asyncpg
from pydantic import BaseModel, ConfigDict

from shared.envelope import EventEnvelope
from shared.subscriptions import Handler


class Consumed(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")


def by_type(*models: type[Consumed]) -> dict[str, type[Consumed]]:
    """The models by the event type they read (their class name is the type's)."""
    return {model.__name__: model for model in models}


Read = TypeVar("Read", bound=Consumed)


def reaction(
    model: type[Read],
    react: Callable[[asyncpg.Connection, EventEnvelope, Read], Awaitable[None]],
) -> Handler:
    """The handler that hands `react` each event of `model`'s type (its class name) parsed with
    it, beside its envelope (for its id, time and correlation); other types pass by."""

    async def handle(conn: asyncpg.Connection, envelope: EventEnvelope) -> None:
        if envelope.type == model.__name__:
            await react(conn, envelope, model.model_validate(envelope.data))

    return handle
