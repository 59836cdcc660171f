"""The operator's commands, shipped in the image: `serve` (the containers' entrypoint),
`token`, `rebuild`, `republish` and `asyncapi`. Each imports what it works with when it runs:
`serve pledge` loads the pledge service's app module and nothing of the other services."""

from __future__ import annotations

import asyncio
from pathlib import Path
from types import ModuleType
from typing import Annotated

import typer

from gongkai.operator.options import DataDir, console, signing_key
from gongkai.operator.services import FRONTS, SERVICES, load_front, load_service
from shared.auth import Role


def serve(
    service: Annotated[str, typer.Argument(help=" | ".join([*SERVICES, *FRONTS]))],
) -> None:
    """Run one service, or the console, in the foreground, configured by GONGKAI_* (the
    console by GONGKAI_CONSOLE_*); containers use this."""
    if service not in SERVICES and service not in FRONTS:
        known = sorted([*SERVICES, *FRONTS])
        raise typer.BadParameter(f"unknown service {service}; one of {known}")
    run_service(load_service(service) if service in SERVICES else load_front(service))


def run_service(module: ModuleType) -> None:
    module.main()


def token(
    role: Annotated[Role, typer.Option(help="The role the token carries.")],
    org: Annotated[
        str | None, typer.Option(help="The place: county, township or branch id.")
    ] = None,
    subject: Annotated[str | None, typer.Option(help="Who (e.g. a member id).")] = None,
    name: Annotated[str | None, typer.Option(help="Display name.")] = None,
    hours: Annotated[int, typer.Option(min=1, max=24 * 30)] = 8,
    data_dir: DataDir = Path(".gongkai"),
) -> None:
    """Print a token signed with the local key (embedded default only), for the issuer of
    the stack on the data directory (the identity service's URL)."""
    key, _ = signing_key(data_dir)
    print(
        key.issue(
            audience="gongkai",
            subject=subject or f"{role}:{org}",
            role=role,
            org=org,
            name=name,
            ttl_seconds=hours * 3600,
        )
    )


def rebuild(
    service: Annotated[str, typer.Argument(help=" | ".join(SERVICES))],
    database_url: Annotated[str, typer.Option(envvar="GONGKAI_DATABASE_URL")],
) -> None:
    """Rebuild a service's read models from its log, without downtime (new schema, swap)."""
    from gongkai.operator.operations import rebuild_read_models

    count = asyncio.run(rebuild_read_models(service, database_url))
    console.print(f"{service}: read models rebuilt from {count} events")


def republish(
    service: Annotated[str, typer.Argument(help=" | ".join(SERVICES))],
    database_url: Annotated[str, typer.Option(envvar="GONGKAI_DATABASE_URL")],
    after: Annotated[int, typer.Option(help="Publish again every event after this sequence.")] = 0,
    partition: Annotated[str | None, typer.Option(help="Only this township.")] = None,
) -> None:
    """Refill a lost JetStream stream from the log (PostgreSQL is the source of truth)."""
    from gongkai.operator.operations import rewind_relay

    asyncio.run(rewind_relay(service, database_url, partition, after))
    console.print("relay rewound; the running service republishes (the broker drops repeats)")


def asyncapi(
    output: Annotated[Path, typer.Option()] = Path("docs/asyncapi.json"),
) -> None:
    """Write the AsyncAPI document (subjects, envelope, JSON schema of every event)."""
    from gongkai.operator.contract import published_registries
    from shared.asyncapi import write_document

    write_document(output, published_registries())
    console.print(f"wrote {output}")
