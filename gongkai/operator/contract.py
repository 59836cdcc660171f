"""The registries that make up the published contract (docs/asyncapi.json)."""

from __future__ import annotations

from importlib import import_module

from services.cli.stack import SERVICES
from shared.events import EventRegistry


def published_registries() -> dict[str, EventRegistry]:
    return {
        name: import_module(module).DEFINITION.registry for name, (module, _) in SERVICES.items()
    }
