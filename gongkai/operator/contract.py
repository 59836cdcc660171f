"""The registries that make up the published contract (docs/asyncapi.json)."""

from __future__ import annotations

from gongkai.operator.services import SERVICES, load_service
from shared.events import EventRegistry


def published_registries() -> dict[str, EventRegistry]:
    return {name: load_service(name).DEFINITION.registry for name in SERVICES}
