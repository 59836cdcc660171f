"""The notification service's composition root: `DEFINITION`, served by `main()`
(`gongkai serve notification`, or `python -m services.notification.app`)."""

from __future__ import annotations

from services.notification.api import ROUTERS
from services.notification.delivery.worker import periodic
from services.notification.events import REGISTRY
from services.notification.policies import subscriptions
from services.notification.projections import READ_MODELS
from shared.runtime import ServiceDefinition, serve

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
    default_port=8104,
)


def main() -> None:
    serve(DEFINITION)


if __name__ == "__main__":
    main()
