"""`gongkai audit`: the auditors' verbs (A3, A4, A6)."""

from __future__ import annotations

import asyncio
from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer

from gongkai.operator.options import DataDir, console
from gongkai.operator.services import SERVICES

audit = typer.Typer(
    help="For auditors: export, verify, replay, prove; erase personal data.", no_args_is_help=True
)


@audit.command("export")
def audit_export(
    service: Annotated[str, typer.Argument(help=" | ".join(SERVICES))],
    out: Annotated[Path, typer.Option(help="The bundle folder to write.")],
    database_url: Annotated[str, typer.Option(envvar="GONGKAI_DATABASE_URL")],
    partition: Annotated[str | None, typer.Option(help="Only this township.")] = None,
    first: Annotated[
        str | None, typer.Option("--from", help="Range start: a log position or a time.")
    ] = None,
    last: Annotated[
        str | None, typer.Option("--to", help="Range end (inclusive): a position or a time.")
    ] = None,
    public_key: Annotated[
        Path | None,
        typer.Option(
            help="The service's checkpoint public key (PEM); by default from the data directory."
        ),
    ] = None,
    data_dir: DataDir = Path(".gongkai"),
    with_files: Annotated[
        bool,
        typer.Option(
            "--with-files",
            help="Carry the evidence files the events record (files/, named by SHA-256;"
            " read from the service's file store, GONGKAI_FILES_S3_* when set).",
        ),
    ] = False,
) -> None:
    """Write a service's log (or one township's, or a range) as a portable, verifiable bundle."""
    from rich.progress import Progress

    from gongkai.operator.operations import export_log

    pem = public_key.read_bytes() if public_key else checkpoint_public_key(data_dir, service)
    with Progress(console=console) as progress:
        task = progress.add_task(f"exporting {service}", total=None)

        def advance(done: int, total: int) -> None:
            progress.update(task, completed=done, total=total)

        manifest = asyncio.run(
            export_log(
                service,
                database_url,
                out,
                pem,
                partition,
                advance,
                _point(first),
                _point(last),
                with_files=with_files,
            )
        )
    console.print(manifest)


@audit.command("verify")
def audit_verify(
    bundle: Annotated[Path, typer.Argument(help="A bundle folder.")],
    require_signed: Annotated[
        bool,
        typer.Option(
            "--require-signed",
            help="The auditor's mode: fail (exit 3) on any township with events after its"
            " last signed checkpoint, or with no checkpoint at all.",
        ),
    ] = False,
) -> None:
    """Check a bundle offline: hash links, checkpoint roots and signatures, extensions; say
    per township how many events only hash links vouch for (docs/auditing.md)."""
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
        f"{report.checkpoints} checkpoints, public key id {report.key_id}"
    )
    if report.files is not None:
        console.print(f"{report.files} evidence files checked against their recorded SHA-256")
    if report.last_checkpoint is not None:
        number, issued_at = report.last_checkpoint
        console.print(f"last checkpoint: {number}, issued at {issued_at}")
    if not report.ok:
        if report.first_bad_event is not None:
            console.print(f"[red]first bad event: {report.first_bad_event}[/red]")
        if report.first_bad_checkpoint is not None:
            console.print(f"[red]first bad checkpoint: {report.first_bad_checkpoint}[/red]")
        for problem in report.problems:
            console.print(f"  {problem}")
        raise typer.Exit(1)
    for partition, held in sorted(report.coverage.items()):
        if not held.signed:
            console.print(
                f"  {partition}: {held.events} events, [yellow]UNSIGNED[/yellow]:"
                " no checkpoint covers them (hash links only)"
            )
        else:
            console.print(
                f"  {partition}: {held.events} events, {held.events - held.after} signed,"
                f" {held.after} after the last checkpoint"
                + (" (hash links only)" if held.after else "")
            )
    if not report.verified:
        unsigned = ", ".join(report.unsigned) or "this bundle"
        console.print(
            f"[yellow]UNSIGNED: no signed checkpoint covers {unsigned}. The hash links hold,"
            " but a chain rewritten after a change would hold them too.[/yellow]"
        )
    elif report.after:
        console.print(
            "[green]verified up to the last checkpoint: every link, root and signature"
            " holds[/green]"
        )
        console.print(
            f"[yellow]{report.after} events after the last checkpoint: hash links only,"
            " not signed[/yellow]"
        )
    else:
        console.print(
            "[green]verified: every link, root and signature holds, and every event is"
            " signed[/green]"
        )
    if require_signed and not report.signed:
        console.print("[red]--require-signed: not every event is under a signed checkpoint[/red]")
        raise typer.Exit(3)


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
    from gongkai.operator.operations import replay_read_models

    point = _point(until)
    position = point if isinstance(point, int) else None
    moment = point if isinstance(point, datetime) else None
    counts = asyncio.run(replay_read_models(service, database_url, out, moment, position))
    console.print(counts)


@audit.command("prove")
def audit_prove(
    url: Annotated[str, typer.Option(help="The service, e.g. http://127.0.0.1:8101")],
    public_key: Annotated[Path, typer.Option(help="The service's checkpoint public key (PEM).")],
    event_id: Annotated[str | None, typer.Option(help="Prove this event is included ...")] = None,
    checkpoint: Annotated[int | None, typer.Option(help="... under this checkpoint.")] = None,
    bundle: Annotated[
        Path | None,
        typer.Option(
            help="A bundle you exported: the event's hash is recomputed from its content there,"
            " and the server's checkpoints must match the ones it holds."
        ),
    ] = None,
    event_hash: Annotated[
        str | None, typer.Option(help="Or the event's hash as you received it (e.g. over NATS).")
    ] = None,
    old: Annotated[int | None, typer.Option(help="Prove checkpoint NEW extends OLD.")] = None,
    new: Annotated[int | None, typer.Option()] = None,
) -> None:
    """Fetch an inclusion or consistency proof and check it locally against the public key
    and what you hold (an inclusion proof needs the event's hash from --bundle or
    --event-hash: the server's own word for it proves nothing)."""
    from gongkai.operator import proofs

    key = proofs.public_key(public_key.read_bytes())
    fetch = proofs.over_http(url)
    try:
        held = proofs.held(bundle, event_id, event_hash)
        if event_id is not None and checkpoint is not None:
            console.print(proofs.check_inclusion(fetch, key, event_id, checkpoint, held))
        elif old is not None and new is not None:
            console.print(proofs.check_consistency(fetch, key, old, new, held))
        else:
            raise typer.BadParameter("give --event-id and --checkpoint, or --old and --new")
    except ValueError as failure:
        console.print(f"[red]not proven: {failure}[/red]")
        raise typer.Exit(1) from None
    console.print("[green]proven[/green]")


@audit.command("erase")
def audit_erase(
    person_id: Annotated[str, typer.Argument(help="The rater id of a member of the public.")],
    url: Annotated[
        str, typer.Option(help="The evaluation service.", envvar="GONGKAI_EVALUATION_URL")
    ] = "http://127.0.0.1:8103",
    token: Annotated[
        str | None,
        typer.Option(
            envvar="GONGKAI_TOKEN",
            help="An auditor's or the county administrator's token; by default an auditor's"
            " of --county, signed with the local key (embedded default only).",
        ),
    ] = None,
    county: Annotated[
        str | None,
        typer.Option(
            envvar="GONGKAI_COUNTY",
            help="The county the default token's auditor post is held at (an auditor acts"
            " only in their own county).",
        ),
    ] = None,
    data_dir: DataDir = Path(".gongkai"),
) -> None:
    """Erase a member of the public's personal data (A7): the service destroys their key;
    every read model then shows them erased; the log is unchanged and still verifies."""
    import uuid

    import httpx

    from gongkai.operator.options import signing_key

    if token is None:
        if county is None:
            raise typer.BadParameter("give --token, or --county for the default token")
        key, _ = signing_key(data_dir)
        token = key.issue(
            issuer="gongkai-local",
            audience="gongkai",
            subject="auditor:cli",
            role="auditor",
            org=county,
        )
    response = httpx.post(
        f"{url}/v1/people/{person_id}/erasure",
        headers={"Authorization": f"Bearer {token}", "Idempotency-Key": str(uuid.uuid4())},
        timeout=30,
    )
    if response.status_code != 201:
        problem = response.json() if response.content else {}
        console.print(f"[red]{response.status_code}: {problem.get('detail', response.text)}[/red]")
        raise typer.Exit(1)
    console.print(f"[green]erased: {person_id}[/green]")


def _point(value: str | None) -> int | datetime | None:
    """A place in a log: a position (a number) or a time (ISO 8601)."""
    if value is None:
        return None
    if value.isdigit():
        return int(value)
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(f"{value!r} is neither a log position nor a time") from None


def checkpoint_public_key(data_dir: Path, service: str) -> bytes:
    from shared.auth import LocalSigningKey

    path = data_dir / "keys" / f"checkpoint-{service}.pem"
    if not path.exists():
        raise typer.BadParameter(f"no {path}; give --public-key")
    return LocalSigningKey(path.read_bytes()).public_pem
