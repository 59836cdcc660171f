"""What the command line's verbs share: the console, the common options and the local key."""

from __future__ import annotations

from datetime import timedelta, timezone
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from shared.auth import LocalSigningKey

console = Console()

DataDir = Annotated[
    Path, typer.Option(help="Where embedded data, keys and logs live.", envvar="GONGKAI_DATA_DIR")
]
DatabaseUrl = Annotated[
    str | None,
    typer.Option(
        help="An external PostgreSQL server (owner role) instead of the embedded one.",
        envvar="GONGKAI_DATABASE_URL",
    ),
]
NatsUrl = Annotated[
    str | None,
    typer.Option(
        help="An external NATS server with JetStream instead of the embedded one.",
        envvar="GONGKAI_NATS_URL",
    ),
]
CHINA = timezone(timedelta(hours=8))


def signing_key(data_dir: Path) -> tuple[LocalSigningKey, Path]:
    """The local key pair for the embedded default (created on first use)."""
    key = LocalSigningKey.load_or_create(data_dir / "keys" / "signing.pem")
    public = data_dir / "keys" / "signing.pub.pem"
    public.write_bytes(key.public_pem)
    return key, public
