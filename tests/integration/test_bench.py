"""Every part of `gongkai bench` runs at a tiny size and reports its figures (no timing is
asserted: the machine running the tests is not a benchmark machine)."""

from __future__ import annotations

import math

from rich.console import Console

from gongkai.bench import PARTS, run_bench
from gongkai.bench.common import Sizes
from tests.support import Servers

TINY = Sizes(
    events=60,
    writers=(1, 2),
    messages=60,
    commands=20,
    paced_seconds=0.1,
    requests=20,
    concurrency=2,
    scale=0.002,
    members_per_branch=2,
    tokens=20,
    signins=2,
    voters=5,
    voting_seconds=0.1,
    roster_members=120,
)


async def test_every_part_reports_figures(servers: Servers) -> None:
    console = Console(record=True, width=160)
    results = await run_bench(
        list(PARTS),
        TINY,
        rounds=1,
        database_url=servers.postgres.dsn,
        nats_url=servers.nats.url,
        console=console,
    )
    assert set(results) == set(PARTS)
    for part, figures in results.items():
        assert figures, part
        assert all(math.isfinite(f.value) and f.value >= 0 for f in figures), part
    assert "met?" in console.export_text()
