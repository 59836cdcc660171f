"""The services the command line knows, by name: each one's app module and default port.

A table of names, not of imported modules: `gongkai serve pledge` imports the pledge
service's app module and nothing of the other services (tests/unit/test_service_imports.py
checks both, and that each port here is the one its service's definition declares)."""

from __future__ import annotations

from importlib import import_module
from types import ModuleType

# service name -> (module with DEFINITION and main(), the service's default port)
SERVICES: dict[str, tuple[str, int]] = {
    "pledge": ("services.pledge.app", 8101),
    "review": ("services.review.app", 8102),
    "evaluation": ("services.evaluation.app", 8103),
    "notification": ("services.notification.app", 8104),
    "identity": ("services.identity.app", 8105),
}


# fronts: no log, no database, no events; they call the services over HTTP
# (docs/services/console.md)
FRONTS: dict[str, tuple[str, int]] = {
    "console": ("services.console.app", 8100),
}


def load_service(service: str) -> ModuleType:
    """The service's app module (its DEFINITION and main()), imported now, by name."""
    return import_module(SERVICES[service][0])


def load_front(front: str) -> ModuleType:
    """A front's app module (its main()), imported now, by name."""
    return import_module(FRONTS[front][0])
