"""The registries that make up the published contract (docs/asyncapi.json)."""

from __future__ import annotations

from importlib import import_module

from services.cli.stack import SERVICES
from shared.events import EventRegistry


def published_registries() -> dict[str, EventRegistry]:
    registries = {
        name: import_module(module).DEFINITION.registry for name, (module, _) in SERVICES.items()
    }
    # Until the evaluation service exists, its verdict contract is the one the pledge
    # service consumes (services/pledge/contracts.py).
    if "evaluation" not in registries:
        registries["evaluation"] = import_module("services.pledge.contracts").CONSUMED
    return registries
