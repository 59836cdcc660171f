"""What the command line's verbs share: the console and the common options."""

from __future__ import annotations

from datetime import timedelta, timezone
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

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
