"""The evaluation service's composition root: `DEFINITION`, served by `main()`
(`gongkai serve evaluation`, or `python -m services.evaluation.app`)."""

from __future__ import annotations

from services.evaluation.api import ROUTERS
from services.evaluation.events import REGISTRY
from services.evaluation.policies import periodic, subscriptions
from services.evaluation.projections import READ_MODELS
from shared.runtime import ServiceDefinition, serve

DEFINITION = ServiceDefinition(
    name="evaluation",
    title="Gongkai evaluation service",
    description="Mass evaluation rounds (E1–E5, E7), satisfaction checks of pledge items (E8) "
    "and periodic ratings (E6).",
    registry=REGISTRY,
    read_models=READ_MODELS,
    routers=ROUTERS,
    subscriptions=lambda runtime: subscriptions(runtime.executor),
    periodic=periodic,
    default_port=8103,
    migrations=("services.evaluation.migrations",),
)


def main() -> None:
    serve(DEFINITION)


if __name__ == "__main__":
    main()
