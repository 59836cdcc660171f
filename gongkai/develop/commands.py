"""`gongkai`: run the stack, issue local tokens, load demo data, benchmark, rebuild."""

from __future__ import annotations

import asyncio
import re
import signal
import threading
from datetime import datetime
from importlib import import_module
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from services.cli.audit import audit
from services.cli.demo import COUNTY, DemoLoader
from services.cli.options import CHINA, DatabaseUrl, DataDir, NatsUrl, console
from services.cli.stack import SERVICES, Stack, signing_key
from shared.auth import LocalSigningKey, Role

app = typer.Typer(
    help="Gongkai (公开): public pledges, reviews, evaluation and publication.",
    no_args_is_help=True,
    add_completion=False,
)


@app.command()
def up(
    data_dir: DataDir = Path(".gongkai"),
    database_url: DatabaseUrl = None,
    nats_url: NatsUrl = None,
    demo: Annotated[bool, typer.Option(help="Load the demo county on first start.")] = True,
    port_offset: Annotated[
        int, typer.Option(help="Added to every service's default port (8101 for pledge, ...).")
    ] = 0,
) -> None:
    """Start PostgreSQL, NATS and every service; load the demo county; Ctrl-C stops all."""
    data_dir.mkdir(parents=True, exist_ok=True)
    stack = Stack(data_dir.resolve(), database_url, nats_url)
    stopping = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopping.set())
    try:
        with console.status("starting PostgreSQL and NATS ..."):
            stack.start_servers()
        urls = {}
        for service in SERVICES:
            with console.status(f"starting the {service} service ..."):
                urls[service] = stack.start_service(service, SERVICES[service][1] + port_offset)
        key, _ = signing_key(data_dir)
        if demo:
            load_demos(urls, key)
        _print_where_to_look(
            stack,
            urls,
            key.issue(
                issuer="gongkai-local",
                audience="gongkai",
                subject="demo-admin",
                role=Role.COUNTY_ADMIN,
                org=COUNTY[0],
                name="县创先争优办公室",
            ),
        )
        console.print("[bold]Ctrl-C stops everything.[/bold]")
        while not stopping.wait(0.5):
            for name, process in stack.processes.items():
                if process.poll() is not None:
                    console.print(f"[red]{name} exited ({process.returncode}); stopping[/red]")
                    stopping.set()
    except KeyboardInterrupt:
        pass
    finally:
        with console.status("stopping ..."):
            stack.stop()
        console.print("stopped")


# Each service's part of the demo county: (module, loader, "already loaded?" check).
SERVICE_DEMOS = {
    "review": ("services.cli.demo_review", "load_review_demo", "review_demo_loaded"),
    "evaluation": (
        "services.cli.demo_evaluation",
        "load_evaluation_demo",
        "evaluation_demo_loaded",
    ),
}


def load_demos(urls: dict[str, str], key: LocalSigningKey) -> None:
    """The demo county through the services' own APIs, each part once."""
    today = datetime.now(CHINA).date()
    loader = DemoLoader(urls["pledge"], key, today)
    if loader.loaded():
        console.print("demo county already loaded (kept in the data directory)")
    else:
        with console.status("loading the demo county ..."):
            console.print(f"demo county loaded: {loader.load()}")
    for service, (module_name, load, loaded) in SERVICE_DEMOS.items():
        if service not in urls:
            continue
        module = import_module(module_name)
        if getattr(module, loaded)(urls[service]):
            continue
        with console.status(f"loading the {service} demo ..."):
            counts = getattr(module, load)(urls["pledge"], urls[service], key, today)
        console.print(f"{service} demo loaded: {counts}")


START_HERE = {  # a few pages worth opening first, per service
    "pledge": (
        ("the county", f"/v1/counties/{COUNTY[0]}"),
        ("the pledge ledger", "/v1/ledger"),
        ("the ledger as a workbook", "/v1/ledger.xlsx"),
    ),
    "review": (("the review ledger", "/v1/reviews"), ("as a workbook", "/v1/reviews.xlsx")),
    "evaluation": (
        (
            "the evaluation calendar",
            f"/v1/counties/{COUNTY[0]}/evaluation-calendars/{datetime.now(CHINA).year}",
        ),
    ),
    "notification": (
        ("the public board", f"/counties/{COUNTY[0]}"),
        ("the releases feed", "/v1/releases"),
    ),
}


def _without_passwords(urls: str) -> str:
    """A terminal's scrollback is no place for a server's password."""
    return re.sub(r"://([^:/@,]+):[^@,]*@", r"://\1:***@", urls)


def _print_where_to_look(stack: Stack, urls: dict[str, str], token: str) -> None:
    table = Table(title="Gongkai is running", show_header=True)
    table.add_column("what")
    table.add_column("where")
    for service, url in urls.items():
        table.add_row(f"{service} API", f"{url}/docs  (metrics: {url}/metrics)")
        for what, path in START_HERE.get(service, ()):
            table.add_row(f"  {what}", f"{url}{path}")
    table.add_row("PostgreSQL", _without_passwords(str(stack.database_url)))
    table.add_row("NATS", _without_passwords(str(stack.nats_url)))
    table.add_row("logs", str(stack.data_dir / "logs"))
    console.print(table)
    console.print("A county administrator's token (8 hours):")
    console.print(token, soft_wrap=True)
    console.print(f'  curl -H "Authorization: Bearer $TOKEN" {urls["pledge"]}/v1/pledges')


@app.command()
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
    """Print a token signed with the local key (embedded default only)."""
    key, _ = signing_key(data_dir)
    print(
        key.issue(
            issuer="gongkai-local",
            audience="gongkai",
            subject=subject or f"{role}:{org}",
            role=role,
            org=org,
            name=name,
            ttl_seconds=hours * 3600,
        )
    )


@app.command()
def demo(
    port_offset: Annotated[int, typer.Option(help="As given to `gongkai up`.")] = 0,
    data_dir: DataDir = Path(".gongkai"),
    townships: Annotated[
        int | None,
        typer.Option(
            min=1,
            max=50,
            help="Generate a county of this many townships (with years of "
            "history) into the data directory instead; the stack must not be running.",
        ),
    ] = None,
    branches_per_township: Annotated[int, typer.Option(min=1, max=100)] = 3,
    members_per_branch: Annotated[int, typer.Option(min=2, max=100)] = 4,
    years: Annotated[int, typer.Option(min=1, max=10)] = 1,
    database_url: DatabaseUrl = None,
    nats_url: NatsUrl = None,
) -> None:
    """Load the small demo county into a running stack (each part once), or, with
    --townships, generate a larger county with years of history."""
    key, public_key = signing_key(data_dir)
    if townships is None:
        load_demos(
            {
                name: f"http://127.0.0.1:{port + port_offset}"
                for name, (_, port) in SERVICES.items()
            },
            key,
        )
        return
    from rich.progress import Progress

    from services.cli.history import Scale, commands_expected, generate

    scale = Scale(townships, branches_per_township, members_per_branch, years)
    stack = Stack(data_dir.resolve(), database_url, nats_url)
    # Ctrl-C, and a kill as Ctrl-C, even when started in the background (where a shell
    # leaves SIGINT ignored)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, _as_ctrl_c)
    try:
        stack.start_servers()
        with Progress(console=console) as progress:
            task = progress.add_task("commands", total=commands_expected(scale))
            events = asyncio.run(
                generate(
                    scale,
                    database_url=str(stack.database_url),
                    nats_url=str(stack.nats_url),
                    key=key,
                    keys_dir=public_key.parent,
                    progress=lambda: progress.advance(task),
                )
            )
            # the walk stops at today, short of the whole years the bar counted
            sent = next(t.completed for t in progress.tasks if t.id == task)
            progress.update(task, total=sent)
    finally:
        stack.stop()
    logs = ", ".join(f"{service} {count}" for service, count in events.items())
    console.print(f"events in the logs: {logs}; `gongkai up --data-dir {data_dir}` serves them")


def _as_ctrl_c(*_: object) -> None:
    """A `kill` stops the generation as Ctrl-C does: the walk is cancelled, the services in
    this process shut down, then the embedded servers."""
    signal.raise_signal(signal.SIGINT)


@app.command()
def serve(service: Annotated[str, typer.Argument(help=" | ".join(SERVICES))]) -> None:
    """Run one service in the foreground, configured by GONGKAI_* (containers use this)."""
    if service not in SERVICES:
        raise typer.BadParameter(f"unknown service {service}; one of {sorted(SERVICES)}")
    module = __import__(SERVICES[service][0], fromlist=["main"])
    module.main()


@app.command()
def rebuild(
    service: Annotated[str, typer.Argument(help=" | ".join(SERVICES))],
    database_url: Annotated[str, typer.Option(envvar="GONGKAI_DATABASE_URL")],
) -> None:
    """Rebuild a service's read models from its log, without downtime (new schema, swap)."""
    from services.cli.operations import rebuild_read_models

    count = asyncio.run(rebuild_read_models(service, database_url))
    console.print(f"{service}: read models rebuilt from {count} events")


@app.command()
def republish(
    service: Annotated[str, typer.Argument(help=" | ".join(SERVICES))],
    database_url: Annotated[str, typer.Option(envvar="GONGKAI_DATABASE_URL")],
    after: Annotated[int, typer.Option(help="Publish again every event after this sequence.")] = 0,
    partition: Annotated[str | None, typer.Option(help="Only this township.")] = None,
) -> None:
    """Refill a lost JetStream stream from the log (PostgreSQL is the source of truth)."""
    from services.cli.operations import rewind_relay

    asyncio.run(rewind_relay(service, database_url, partition, after))
    console.print("relay rewound; the running service republishes (the broker drops repeats)")


@app.command()
def asyncapi(
    output: Annotated[Path, typer.Option()] = Path("docs/asyncapi.json"),
) -> None:
    """Write the AsyncAPI document (subjects, envelope, JSON schema of every event)."""
    from services.cli.contract import published_registries
    from shared.asyncapi import write_document

    write_document(output, published_registries())
    console.print(f"wrote {output}")


@app.command()
def bench(
    parts: Annotated[
        list[str] | None,
        typer.Argument(help="store | messaging | pipeline | http | county (default: all)"),
    ] = None,
    events: Annotated[int, typer.Option(help="store: events per side per round.")] = 10000,
    writers: Annotated[str, typer.Option(help="store: writer counts, comma-separated.")] = "1,8",
    messages: Annotated[int, typer.Option(help="messaging: messages per side per round.")] = 10000,
    commands: Annotated[int, typer.Option(help="pipeline: commands per side.")] = 2000,
    paced_seconds: Annotated[
        float, typer.Option(help="pipeline: length of the 500 events/s run.")
    ] = 6.0,
    requests: Annotated[int, typer.Option(help="http: requests per side per round.")] = 3000,
    concurrency: Annotated[int, typer.Option(help="http: requests in flight.")] = 8,
    scale: Annotated[
        float,
        typer.Option(
            help="county: the largest county as a fraction of 20 townships, 600 branches,"
            " 30,000 members and a year (about 2 million events); also built at 1/4 and 1/2."
        ),
    ] = 0.05,
    rounds: Annotated[int, typer.Option(min=1, help="Timed rounds per side.")] = 3,
    database_url: DatabaseUrl = None,
    nats_url: NatsUrl = None,
) -> None:
    """The mechanism against raw baselines, side by side in one run (rates and ratios)."""
    from services.cli.bench import PARTS, run_bench
    from services.cli.bench.common import Sizes

    chosen = parts or list(PARTS)
    if unknown := set(chosen) - set(PARTS):
        raise typer.BadParameter(f"unknown part(s) {sorted(unknown)}; of {', '.join(PARTS)}")
    sizes = Sizes(
        events=events,
        writers=tuple(int(w) for w in writers.split(",")),
        messages=messages,
        commands=commands,
        paced_seconds=paced_seconds,
        requests=requests,
        concurrency=concurrency,
        scale=scale,
    )
    asyncio.run(
        run_bench(
            chosen,
            sizes,
            rounds=rounds,
            database_url=database_url,
            nats_url=nats_url,
            console=console,
        )
    )


app.add_typer(audit, name="audit")


if __name__ == "__main__":
    app()
