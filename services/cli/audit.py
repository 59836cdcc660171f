"""`gongkai audit`: the auditors' verbs (A3, A4, A6)."""

from __future__ import annotations

import asyncio
from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer

from services.cli.options import DataDir, console
from services.cli.stack import SERVICES

audit = typer.Typer(help="For auditors: export a log, verify it offline.", no_args_is_help=True)


@audit.command("export")
def audit_export(
    service: Annotated[str, typer.Argument(help=" | ".join(SERVICES))],
    out: Annotated[Path, typer.Option(help="The bundle folder to write.")],
    database_url: Annotated[str, typer.Option(envvar="GONGKAI_DATABASE_URL")],
    partition: Annotated[str | None, typer.Option(help="Only this township.")] = None,
    public_key: Annotated[
        Path | None,
        typer.Option(
            help="The service's checkpoint public key (PEM); by default from the data directory."
        ),
    ] = None,
    data_dir: DataDir = Path(".gongkai"),
) -> None:
    """Write a service's log (or one township's) as a portable, verifiable bundle."""
    from rich.progress import Progress

    from services.cli.operations import export_log

    pem = public_key.read_bytes() if public_key else checkpoint_public_key(data_dir, service)
    with Progress(console=console) as progress:
        task = progress.add_task(f"exporting {service}", total=None)

        def advance(done: int, total: int) -> None:
            progress.update(task, completed=done, total=total)

        manifest = asyncio.run(export_log(service, database_url, out, pem, partition, advance))
    console.print(manifest)


@audit.command("verify")
def audit_verify(bundle: Annotated[Path, typer.Argument(help="A bundle folder.")]) -> None:
    """Check a bundle offline: hash links, checkpoint roots and signatures, extensions."""
    from shared.audit.verify import verify_bundle

    missing = [
        n
        for n in ("events.jsonl", "checkpoints.jsonl", "public_key.pem", "manifest.json")
        if not (bundle / n).exists()
    ]
    if missing:
        console.print(f"[red]{bundle} is not a bundle: missing {', '.join(missing)}[/red]")
        raise typer.Exit(2)
    report = verify_bundle(bundle)
    console.print(
        f"{report.events} events in {report.partitions} partitions, "
        f"{report.checkpoints} checkpoints"
    )
    if report.ok:
        console.print("[green]verified: every link, root and signature holds[/green]")
        return
    console.print(f"[red]first bad event: {report.first_bad_event}[/red]")
    for problem in report.problems:
        console.print(f"  {problem}")
    raise typer.Exit(1)


@audit.command("replay")
def audit_replay(
    service: Annotated[str, typer.Argument(help=" | ".join(SERVICES))],
    database_url: Annotated[str, typer.Option(envvar="GONGKAI_DATABASE_URL")],
    out: Annotated[Path, typer.Option(help="Folder for one JSON Lines file per table.")],
    until: Annotated[
        str, typer.Option(help="A time (2027-03-31T16:00Z) or a log position (a number).")
    ],
) -> None:
    """Rebuild a service's read models as they stood then (A3) and dump them."""
    from services.cli.operations import replay_read_models

    position = int(until) if until.isdigit() else None
    moment = None if position is not None else datetime.fromisoformat(until)
    counts = asyncio.run(replay_read_models(service, database_url, out, moment, position))
    console.print(counts)


@audit.command("prove")
def audit_prove(
    url: Annotated[str, typer.Option(help="The service, e.g. http://127.0.0.1:8101")],
    public_key: Annotated[Path, typer.Option(help="The service's checkpoint public key (PEM).")],
    event_id: Annotated[str | None, typer.Option(help="Prove this event is included ...")] = None,
    checkpoint: Annotated[int | None, typer.Option(help="... under this checkpoint.")] = None,
    old: Annotated[int | None, typer.Option(help="Prove checkpoint NEW extends OLD.")] = None,
    new: Annotated[int | None, typer.Option()] = None,
) -> None:
    """Fetch an inclusion or consistency proof and check it locally against the public key."""
    from services.cli import proofs

    key = proofs.public_key(public_key.read_bytes())
    try:
        if event_id is not None and checkpoint is not None:
            console.print(proofs.check_inclusion(url, key, event_id, checkpoint))
        elif old is not None and new is not None:
            console.print(proofs.check_consistency(url, key, old, new))
        else:
            raise typer.BadParameter("give --event-id and --checkpoint, or --old and --new")
    except ValueError as failure:
        console.print(f"[red]not proven: {failure}[/red]")
        raise typer.Exit(1) from None
    console.print("[green]proven[/green]")


def checkpoint_public_key(data_dir: Path, service: str) -> bytes:
    from shared.auth import LocalSigningKey

    path = data_dir / "keys" / f"checkpoint-{service}.pem"
    if not path.exists():
        raise typer.BadParameter(f"no {path}; give --public-key")
    return LocalSigningKey(path.read_bytes()).public_pem
