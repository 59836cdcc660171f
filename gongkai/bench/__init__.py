"""`gongkai bench [PART ...]`: the mechanism against raw baselines measured side by side in
one run, on the same servers (embedded unless URLs are given), reported as rates and ratios.

Parts: `store` (append and rebuild vs raw asyncpg and the `eventsourcing` library),
`messaging` (relay and consumers vs raw nats-py JetStream), `pipeline` (a command's commit to
another service's read model vs a raw pipeline), `http` (a service process vs a bare FastAPI
endpoint), `county` (a generated county rebuilt at 0.25x, 0.5x and 1x of `--scale`),
`tokens` (a token checked against the identity JWKS vs the local key; argon2id sign-in)
`voting` (people voting from phones on one round: the submit's p99) and `roster` (a
county's roster imported from a workbook vs a raw batched INSERT of the same event rows).
Named only (not in "all"): `console` (50 signed-in people clicking through their console
pages on a generated county with years of history: p50/p95/p99 per page, beside the same
calls made straight to the services).
"""

from __future__ import annotations

import tempfile
from importlib import import_module
from importlib.util import find_spec
from pathlib import Path

from rich.console import Console

# The `bench` extra (pyproject.toml): not in the image, and not needed by any other command.
EXTRA = ("eventsourcing", "psycopg", "psutil", "pyinstrument")
INSTALL = "pip install 'gongkai[bench]'"
if _missing := [name for name in EXTRA if find_spec(name) is None]:
    raise ModuleNotFoundError(
        f"the bench needs the bench extra ({', '.join(_missing)} not installed): {INSTALL}",
        name=_missing[0],
    )

from gongkai.bench.common import Bench, Figure, Sizes  # noqa: E402 - after the check
from shared.logging import configure_logging  # noqa: E402

PARTS = ("store", "messaging", "pipeline", "http", "county", "tokens", "voting", "roster")
# parts run only when named: `console` generates a county and runs the whole stack (minutes)
NAMED_ONLY = ("console",)


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
    if part not in PARTS + NAMED_ONLY:
        raise ValueError(f"unknown part {part}; one of {', '.join(PARTS + NAMED_ONLY)}")
    module = import_module(f"gongkai.bench.{part}")
    figures: list[Figure] = await module.measure(bench, sizes)
    return figures
