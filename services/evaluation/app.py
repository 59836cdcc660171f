"""The evaluation service's composition root: `uvicorn services.evaluation.app:app`."""

from __future__ import annotations

from fastapi import FastAPI

from services.evaluation.api import ROUTERS
from services.evaluation.events import REGISTRY
from services.evaluation.policies import subscriptions
from services.evaluation.projections import READ_MODELS
from shared.runtime import ServiceDefinition, create_app
from shared.settings import ServiceSettings

DEFINITION = ServiceDefinition(
    name="evaluation",
    title="Gongkai evaluation service",
    description="Mass evaluation rounds (E1–E5, E7), satisfaction checks of pledge items (E8) "
    "and periodic ratings (E6).",
    registry=REGISTRY,
    read_models=READ_MODELS,
    routers=ROUTERS,
    subscriptions=lambda runtime: subscriptions(runtime.executor),
)


def build(settings: ServiceSettings | None = None) -> FastAPI:
    return create_app(DEFINITION, settings or ServiceSettings(service="evaluation", port=8103))


def main() -> None:
    import uvicorn

    settings = ServiceSettings(service="evaluation")
    uvicorn.run(build(settings), host=settings.host, port=settings.port, log_level="warning")


if __name__ == "__main__":
    main()
