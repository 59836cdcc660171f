"""`gongkai bench`, the command; imported only when named, and only where the `bench` extra
is installed (gongkai/bench/__init__.py says what to install when it is not)."""

from __future__ import annotations

import asyncio
from typing import Annotated

import typer

from gongkai.bench import PARTS, run_bench
from gongkai.bench.common import Sizes
from gongkai.operator.options import DatabaseUrl, NatsUrl, console

cli = typer.Typer(add_completion=False)  # commands for gongkai.main, imported when named


@cli.command()
def bench(
    parts: Annotated[
        list[str] | None,
        typer.Argument(
            help="store | messaging | pipeline | http | county | tokens | voting | roster"
            " (default: all)"
        ),
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
    tokens: Annotated[int, typer.Option(help="tokens: distinct tokens per side per round.")] = 2000,
    signins: Annotated[int, typer.Option(help="tokens: argon2id hashes and verifies.")] = 20,
    voters: Annotated[int, typer.Option(min=1, help="voting: people voting on one round.")] = 500,
    voting_seconds: Annotated[
        float, typer.Option(help="voting: the seconds over which they arrive.")
    ] = 60.0,
    roster_members: Annotated[
        int, typer.Option(min=2, help="roster: members of the county imported (50 a branch).")
    ] = 30000,
    rounds: Annotated[int, typer.Option(min=1, help="Timed rounds per side.")] = 3,
    database_url: DatabaseUrl = None,
    nats_url: NatsUrl = None,
) -> None:
    """The mechanism against raw baselines, side by side in one run (rates and ratios)."""

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
        tokens=tokens,
        signins=signins,
        voters=voters,
        voting_seconds=voting_seconds,
        roster_members=roster_members,
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
