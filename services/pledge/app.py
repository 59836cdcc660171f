"""The pledge service's composition root: `DEFINITION`, served by `main()`
(`gongkai serve pledge`, or `python -m services.pledge.app`)."""

from __future__ import annotations

from services.pledge.api import ROUTERS
from services.pledge.events import REGISTRY
from services.pledge.policies import subscriptions
from services.pledge.projections import READ_MODELS
from shared.runtime import ServiceDefinition, serve

DEFINITION = ServiceDefinition(
    name="pledge",
    title="Gongkai pledge service",
    description="The directory (D1–D3) and public pledges (P1–P11): draft, review, publish, "
    "fulfil, close.",
    registry=REGISTRY,
    read_models=READ_MODELS,
    routers=ROUTERS,
    subscriptions=lambda runtime: subscriptions(runtime.executor),
    default_port=8101,
    branches_table="branches",  # the directory's own table (the others keep a copy)
    townships_table="townships",
    counties_table="counties",
)


def main() -> None:
    serve(DEFINITION)


if __name__ == "__main__":
    main()
