"""The review service's composition root: `uvicorn services.review.app:app` (or `main()`)."""

from __future__ import annotations

from fastapi import FastAPI

from services.review.api import ROUTERS
from services.review.events import REGISTRY
from services.review.policies import subscriptions
from services.review.projections import READ_MODELS
from shared.runtime import ServiceDefinition, create_app
from shared.settings import ServiceSettings

DEFINITION = ServiceDefinition(
    name="review",
    title="Gongkai review service",
    description="Leadership reviews (R1–R5) with tiered authority and quarterly coverage, "
    "work journals and monthly presentations (R6), guidance visits (R7).",
    registry=REGISTRY,
    read_models=READ_MODELS,
    routers=ROUTERS,
    subscriptions=lambda runtime: subscriptions(),
)


class ReviewSettings(ServiceSettings):
    """The review service's defaults; the `GONGKAI_` environment still overrides them."""

    service: str = "review"
    port: int = 8102


def build(settings: ServiceSettings | None = None) -> FastAPI:
    return create_app(DEFINITION, settings or ReviewSettings())


def main() -> None:
    import uvicorn

    settings = ReviewSettings()
    uvicorn.run(build(settings), host=settings.host, port=settings.port, log_level="warning")


if __name__ == "__main__":
    main()
