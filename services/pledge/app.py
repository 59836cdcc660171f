"""The pledge service's composition root: `uvicorn services.pledge.app:app` (or `main()`)."""

from __future__ import annotations

from fastapi import FastAPI

from services.pledge.api import ROUTERS
from services.pledge.events import REGISTRY
from services.pledge.policies import subscriptions
from services.pledge.projections import READ_MODELS
from shared.runtime import ServiceDefinition, create_app
from shared.settings import ServiceSettings

DEFINITION = ServiceDefinition(
    name="pledge",
    title="Gongkai pledge service",
    description="The directory (D1–D3) and public pledges (P1–P11): draft, review, publish, "
    "fulfil, close.",
    registry=REGISTRY,
    read_models=READ_MODELS,
    routers=ROUTERS,
    subscriptions=lambda runtime: subscriptions(runtime.executor),
)


def build(settings: ServiceSettings | None = None) -> FastAPI:
    return create_app(DEFINITION, settings or ServiceSettings(service="pledge", port=8101))


def main() -> None:
    import uvicorn

    settings = ServiceSettings(service="pledge")
    uvicorn.run(build(settings), host=settings.host, port=settings.port, log_level="warning")


if __name__ == "__main__":
    main()
