"""The developer's commands: `gongkai up` (the whole stack on this machine) and `gongkai demo`
(the demo county, or a generated county with years of history). Imported only when named."""

from __future__ import annotations

import asyncio
import re
import signal
import threading
from datetime import UTC, datetime
from importlib import import_module
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from gongkai.develop.demo import COUNTY, DemoLoader
from gongkai.develop.stack import Stack
from gongkai.develop.supervisor import STATUS_FILE, RestartPolicy, Supervisor, alive, read_status
from gongkai.operator.options import CHINA, DatabaseUrl, DataDir, NatsUrl, console, signing_key
from gongkai.operator.services import FRONTS, SERVICES
from shared.auth import LocalSigningKey, Role

cli = typer.Typer(add_completion=False)  # commands for gongkai.main, imported when named


@cli.command()
def up(
    data_dir: DataDir = Path(".gongkai"),
    database_url: DatabaseUrl = None,
    nats_url: NatsUrl = None,
    demo: Annotated[bool, typer.Option(help="Load the demo county on first start.")] = True,
    port_offset: Annotated[
        int, typer.Option(help="Added to every service's default port (8101 for pledge, ...).")
    ] = 0,
    restart_delay: Annotated[
        float,
        typer.Option(
            min=0.01, help="Seconds before a part that died is restarted; doubles, up to 30."
        ),
    ] = 1.0,
    restart_limit: Annotated[
        int,
        typer.Option(min=0, help="Restarts of one part within --restart-window, then given up."),
    ] = 5,
    restart_window: Annotated[float, typer.Option(min=1, help="Seconds.")] = 300.0,
) -> None:
    """Start PostgreSQL, NATS and every service; load the demo county; keep them up.

    A part that dies is restarted (`gongkai status` shows each); Ctrl-C stops all."""
    data_dir.mkdir(parents=True, exist_ok=True)
    stack = Stack(data_dir.resolve(), database_url, nats_url)
    policy = RestartPolicy(restart_delay, max(30.0, restart_delay), restart_limit, restart_window)
    supervisor: Supervisor | None = None
    failed = ""
    stopping = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopping.set())
    try:
        with console.status("starting PostgreSQL and NATS ..."):
            stack.start_servers()
        urls = {}
        stack.name_issuer(SERVICES["identity"][1] + port_offset)
        for service in sorted(SERVICES, key=lambda name: name != "identity"):  # identity first
            with console.status(f"starting the {service} service ..."):
                urls[service] = stack.start_service(service, SERVICES[service][1] + port_offset)
        with console.status("starting the console ..."):
            console_url = stack.start_service("console", FRONTS["console"][1] + port_offset)
        key, _ = signing_key(data_dir)
        sign_ins: list[tuple[str, str, str, str]] = []
        if demo:
            sign_ins = load_demos(urls, key)
        _print_where_to_look(
            stack,
            urls,
            key.issue(
                audience="gongkai",
                subject="demo-admin",
                role=Role.COUNTY_ADMIN,
                org=COUNTY[0],
                name="县创先争优办公室",
            ),
        )
        _print_sign_ins(console_url, urls, sign_ins)
        console.print("[bold]Ctrl-C stops everything.[/bold] `gongkai status` shows each part.")
        supervisor = Supervisor(stack.parts(), policy, stack.data_dir / STATUS_FILE, _say)
        while not stopping.wait(0.25):
            supervisor.tick()
            if supervisor.fatal:
                failed = supervisor.fatal
                break
    except KeyboardInterrupt:
        pass
    finally:
        with console.status("stopping ..."):
            stack.stop()
        if supervisor is not None:
            supervisor.write_status(stopped=True)
        console.print("stopped")
    if failed:
        console.print(f"[red]{failed}: stopped everything[/red]", soft_wrap=True)
        raise typer.Exit(1)


def _say(line: str) -> None:
    """A supervisor's line, whole on one line even in a log file."""
    console.print(escape(line), soft_wrap=True, highlight=False)


@cli.command()
def status(data_dir: DataDir = Path(".gongkai")) -> None:
    """Each part of the stack `gongkai up` runs here: state, pid, uptime, restarts.

    States: running, starting, restarting, given up. Exits 1 when `gongkai up` is not running
    on this data directory, 3 when a part is not running."""
    document = read_status(data_dir.resolve() / STATUS_FILE)
    if (
        document is None
        or not alive(document["pid"])
        or all(p["state"] == "stopped" for p in document["parts"])
    ):
        console.print(f"`gongkai up` is not running on {data_dir}")
        raise typer.Exit(1)
    table = Table(title=f"gongkai up (pid {document['pid']}) on {data_dir}")
    for column in ("part", "state", "pid", "uptime", "restarts", "last exit", "where"):
        table.add_column(column)
    now = datetime.now(UTC)
    for part in document["parts"]:
        running = part["state"] in ("running", "starting")
        uptime = now - datetime.fromisoformat(part["since"]) if running else None
        table.add_row(
            part["name"],
            part["state"],
            str(part["pid"] or "-"),
            str(uptime).split(".")[0] if uptime is not None else "-",
            str(part["restarts"]),
            part["last_exit"] or "-",
            part["url"] or "",
        )
    console.print(table)
    if any(p["state"] != "running" for p in document["parts"]):
        raise typer.Exit(3)


# Each service's part of the demo county: (module, loader, "already loaded?" check).
SERVICE_DEMOS = {
    "review": ("gongkai.develop.demo_review", "load_review_demo", "review_demo_loaded"),
    "evaluation": (
        "gongkai.develop.demo_evaluation",
        "load_evaluation_demo",
        "evaluation_demo_loaded",
    ),
    # last: its bulletins compile what the others recorded
    "notification": (
        "gongkai.develop.demo_notification",
        "load_notification_demo",
        "notification_demo_loaded",
    ),
}


def load_demos(urls: dict[str, str], key: LocalSigningKey) -> list[tuple[str, str, str, str]]:
    """The demo county through the services' own APIs, each part once; the demo people's
    sign-ins (role, name, login name, password) when the identity service runs."""
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
    if "identity" not in urls:
        return []
    from gongkai.develop.demo_identity import demo_sign_ins

    with console.status("giving the demo county's people accounts ..."):
        return demo_sign_ins(urls["identity"], key)


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
    "identity": (
        ("OpenID Connect discovery", "/.well-known/openid-configuration"),
        ("first sign-in (activation)", "/activate"),
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


def _print_sign_ins(
    console_url: str, urls: dict[str, str], sign_ins: list[tuple[str, str, str, str]]
) -> None:
    console.print(f"[bold]The console (每个人的工作台): {console_url}[/bold]  — sign in there")
    if not sign_ins:
        return
    table = Table(title=f"Demo sign-ins at {console_url} (accounts already activated)")
    for column in ("post", "who", "login name", "password"):
        table.add_column(column)
    for row in sign_ins:
        table.add_row(*row)
    console.print(table)
    console.print(
        "County administrators and auditors enrol a one-time code (TOTP) at first sign-in."
    )


@cli.command()
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
    until: Annotated[
        datetime | None,
        typer.Option(
            formats=["%Y-%m-%d"],
            help="With --townships: the history ends on this day (default: today); the "
            "years end there.",
        ),
    ] = None,
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

    from gongkai.develop.history import Scale, commands_expected, generate

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
                    until=until.date() if until else None,
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
