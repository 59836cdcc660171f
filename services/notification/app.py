"""The notification service's composition root: `uvicorn services.notification.app:app`
(or `main()`)."""

from __future__ import annotations

from fastapi import FastAPI

from services.notification.api import ROUTERS
from services.notification.events import REGISTRY
from services.notification.policies import subscriptions
from services.notification.projections import READ_MODELS
from services.notification.worker import periodic
from shared.runtime import ServiceDefinition, create_app
from shared.settings import ServiceSettings

DEFINITION = ServiceDefinition(
    name="notification",
    title="Gongkai notification service",
    description="The public board (N1, N2, P7), the releases feed (X2), reminders and overdue "
    "notices (N3, P6), supervision bulletins (N4) and delivery: inbox, e-mail, group robots, "
    "webhooks (N5). It decides nothing about pledges, reviews or scores.",
    registry=REGISTRY,
    read_models=READ_MODELS,
    routers=ROUTERS,
    subscriptions=lambda runtime: subscriptions(runtime.executor),
    migrations=("services.notification.migrations",),
    periodic=periodic,
)


def build(settings: ServiceSettings | None = None) -> FastAPI:
    return create_app(DEFINITION, settings or ServiceSettings(service="notification", port=8104))


def main() -> None:
    import os

    import uvicorn

    settings = ServiceSettings(service="notification")
    if "GONGKAI_PORT" not in os.environ:  # the shared default is the pledge service's
        settings = settings.model_copy(update={"port": 8104})
    uvicorn.run(build(settings), host=settings.host, port=settings.port, log_level="warning")


if __name__ == "__main__":
    main()
