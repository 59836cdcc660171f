"""`gongkai bench`, the command; imported only when named, and only where the `bench` extra
is installed (gongkai/bench/__init__.py says what to install when it is not)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated

import typer

from gongkai.bench import NAMED_ONLY, PARTS, run_bench
from gongkai.bench.common import Sizes
from gongkai.operator.options import DatabaseUrl, NatsUrl, console

cli = typer.Typer(add_completion=False)  # commands for gongkai.main, imported when named


@cli.command()
def bench(
    parts: Annotated[
        list[str] | None,
        typer.Argument(
            help="store | messaging | pipeline | http | county | tokens | voting | roster"
            " (default: all of these) | console (only when named)"
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
    console_townships: Annotated[
        int, typer.Option(min=1, help="console: townships of the generated county.")
    ] = 5,
    console_branches: Annotated[int, typer.Option(min=1, help="console: branches a township.")] = 3,
    console_members: Annotated[int, typer.Option(min=2, help="console: members a branch.")] = 6,
    console_years: Annotated[int, typer.Option(min=1, help="console: years of history.")] = 2,
    console_county: Annotated[
        Path | None,
        typer.Option(
            help="console: a data directory `gongkai demo --townships` generated (copied, not"
            " changed) instead of generating one; its sizes must match the options."
        ),
    ] = None,
    console_people: Annotated[
        int, typer.Option(min=10, help="console: signed-in people clicking at once.")
    ] = 50,
    console_clicks: Annotated[int, typer.Option(min=1, help="console: pages each opens.")] = 20,
    console_think: Annotated[
        float, typer.Option(min=0, help="console: seconds between a person's clicks.")
    ] = 1.0,
    rounds: Annotated[int, typer.Option(min=1, help="Timed rounds per side.")] = 3,
    database_url: DatabaseUrl = None,
    nats_url: NatsUrl = None,
) -> None:
    """The mechanism against raw baselines, side by side in one run (rates and ratios)."""

    chosen = parts or list(PARTS)
    if unknown := set(chosen) - set(PARTS + NAMED_ONLY):
        known = ", ".join(PARTS + NAMED_ONLY)
        raise typer.BadParameter(f"unknown part(s) {sorted(unknown)}; of {known}")
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
        console_townships=console_townships,
        console_branches=console_branches,
        console_members=console_members,
        console_years=console_years,
        console_county=console_county,
        console_people=console_people,
        console_clicks=console_clicks,
        console_think=console_think,
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
