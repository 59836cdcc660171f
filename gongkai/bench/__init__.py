"""`gongkai bench [PART ...]`: the mechanism against raw baselines measured side by side in
one run, on the same servers (embedded unless URLs are given), reported as rates and ratios.

Parts: `store` (append and rebuild vs raw asyncpg and the `eventsourcing` library),
`messaging` (relay and consumers vs raw nats-py JetStream), `pipeline` (a command's commit to
another service's read model vs a raw pipeline), `http` (a service process vs a bare FastAPI
endpoint) and `county` (a generated county rebuilt at 0.25x, 0.5x and 1x of `--scale`).
"""

from __future__ import annotations

import tempfile
from importlib import import_module
from pathlib import Path

from rich.console import Console

from services.cli.bench.common import Bench, Figure, Sizes
from shared.logging import configure_logging

PARTS = ("store", "messaging", "pipeline", "http", "county")


async def run_bench(
    parts: list[str],
    sizes: Sizes,
    *,
    rounds: int,
    database_url: str | None,
    nats_url: str | None,
    console: Console,
) -> dict[str, list[Figure]]:
    configure_logging(json=False, level="WARNING")  # no log line per rebuild in the report
    results: dict[str, list[Figure]] = {}
    with tempfile.TemporaryDirectory(prefix="gongkai-bench-") as tmp:
        bench = Bench(Path(tmp), console, rounds, database_url, nats_url)
        try:
            for part in parts:
                results[part] = await _run(part, bench, sizes)
        finally:
            await bench.close()
    return results


async def _run(part: str, bench: Bench, sizes: Sizes) -> list[Figure]:
    if part not in PARTS:
        raise ValueError(f"unknown part {part}; one of {', '.join(PARTS)}")
    module = import_module(f"services.cli.bench.{part}")
    figures: list[Figure] = await module.measure(bench, sizes)
    return figures
