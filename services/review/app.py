"""The review service's composition root: `DEFINITION`, served by `main()`
(`gongkai serve review`, or `python -m services.review.app`)."""

from __future__ import annotations

from services.review.api import ROUTERS
from services.review.events import REGISTRY
from services.review.policies import subscriptions
from services.review.projections import READ_MODELS
from shared.runtime import ServiceDefinition, serve

DEFINITION = ServiceDefinition(
    name="review",
    title="Gongkai review service",
    description="Leadership reviews (R1–R5) with tiered authority and quarterly coverage, "
    "work journals and monthly presentations (R6), guidance visits (R7).",
    registry=REGISTRY,
    read_models=READ_MODELS,
    routers=ROUTERS,
    subscriptions=lambda runtime: subscriptions(),
    default_port=8102,
)


def main() -> None:
    serve(DEFINITION)


if __name__ == "__main__":
    main()
