"""`gongkai bench http`: commands per second of one pledge service process (uvicorn, as
`python -m services.pledge.app` runs it) against a bare FastAPI endpoint doing the raw INSERT
(`bare_app`), both on loopback, both driven by the same bounded load generator in this
process: `--concurrency` requests in flight, `--requests` per round, alternating rounds.

The command is `POST /v1/members` (enrol a member: a token checked, the branch loaded, one
event appended and projected, committed), each worker enrolling into a township of its own;
the bare endpoint validates the same bodies and inserts one row. Rate, p50 and p99 per side.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

from gongkai.bench.common import (
    Bench,
    Figure,
    Sizes,
    alternate,
    best,
    latency,
    percentile,
    report,
    versus,
)
from gongkai.bench.store import RAW_DDL
from shared.embedded import free_port

RATE_TARGET, P99_LIMIT = 0.6, 50.0
COUNTY = "benchcounty"


@contextmanager
def process(module: str, env: dict[str, str], port: int, log: Path) -> Iterator[str]:
    """`python -m module` listening on `port`, until the block ends."""
    url = f"http://127.0.0.1:{port}"
    with log.open("ab") as out:
        child = subprocess.Popen(  # noqa: S603 - our own module
            [sys.executable, "-m", module], env=os.environ | env, stdout=out, stderr=out
        )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{url}/openapi.json", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                if child.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(log.read_text(errors="replace")) from None
                time.sleep(0.1)
        yield url
    finally:
        child.terminate()
        child.wait(timeout=30)


async def load(
    url: str, headers: dict[str, str], bodies: list[dict[str, Any]], n: int, concurrency: int
) -> tuple[float, list[float]]:
    """`n` POST /v1/members, `concurrency` at a time (worker w sending `bodies[w]`, cycling);
    the rate and each latency (ms)."""
    latencies: list[float] = []
    remaining = iter(range(n))
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(
        base_url=url, headers=headers, limits=limits, timeout=30
    ) as client:

        async def worker(body: dict[str, Any]) -> None:
            for _ in remaining:
                start = time.perf_counter()
                response = await client.post("/v1/members", json=body)
                latencies.append((time.perf_counter() - start) * 1000)
                if response.status_code != 201:
                    raise RuntimeError(f"{response.status_code} {response.text}")

        start = time.perf_counter()
        await asyncio.gather(*(worker(bodies[w % len(bodies)]) for w in range(concurrency)))
        return n / (time.perf_counter() - start), latencies


def _directory(url: str, auth: dict[str, str], townships: int) -> list[str]:
    """A county and `townships` townships with a branch each in the pledge service: one per
    worker, as the raw side's writers write partitions of their own (a township's appends
    are serialised by its gap-free sequence); the branch ids."""

    def post(path: str, body: dict[str, Any]) -> str:
        response = httpx.post(f"{url}{path}", json=body, headers=auth, timeout=30)
        response.raise_for_status()
        return str(response.json()["id"])

    post("/v1/counties", {"county_id": COUNTY, "name": "民勤县"})
    branches = []
    for n in range(townships):
        township = post(f"/v1/counties/{COUNTY}/townships", {"name": f"第{n + 1}镇"})
        branches.append(
            post(
                "/v1/branches",
                {"township_id": township, "name": f"第{n + 1}村党支部", "kind": "village"},
            )
        )
    return branches


async def measure(bench: Bench, sizes: Sizes) -> list[Figure]:
    n, concurrency = sizes.requests, sizes.concurrency
    admin, nats_url = await bench.admin_dsn(), await bench.nats()
    key, public_key = bench.signing_key()
    token = key.issue(
        issuer="gongkai-local",
        audience="gongkai",
        subject="bench",
        role="county_admin",
        org=COUNTY,
    )
    auth = {"Authorization": f"Bearer {token}"}
    bare_dsn, _ = await bench.database("bare", RAW_DDL)
    database = f"gongkai_bench_pledge_{free_port()}"
    bench.forget(database)
    pledge_env = {
        "GONGKAI_SERVICE": "pledge",
        "GONGKAI_DATABASE_URL": admin,
        "GONGKAI_DATABASE_NAME": database,
        "GONGKAI_NATS_URL": nats_url,
        "GONGKAI_NATS_SUBJECT_ROOT": f"h{free_port()}",
        "GONGKAI_JWT_PUBLIC_KEY_FILE": str(public_key),
    }
    bare_port, pledge_port = free_port(), free_port()
    pledge_env["GONGKAI_PORT"] = str(pledge_port)
    bare_env = {"BENCH_DSN": bare_dsn, "BENCH_PORT": str(bare_port)}
    latencies: dict[str, list[list[float]]] = {"bare": [], "pledge": []}
    with (
        bench.console.status("starting the pledge service and the bare endpoint ..."),
        process("gongkai.bench.bare_app", bare_env, bare_port, bench.tmp / "bare.log") as bare,
        process("services.pledge.app", pledge_env, pledge_port, bench.tmp / "pledge.log") as ours,
    ):
        branches = await asyncio.to_thread(_directory, ours, auth, concurrency)
        bodies = [
            {"branch_id": branch, "name": "王建国", "post": "党员责任岗", "duties": "联系群众"}
            for branch in branches
        ]

        def side(url: str, name: str) -> Any:
            async def one(warm_up: bool) -> float:
                rate, measured = await load(url, auth, bodies, n, concurrency)
                latencies[name].append(measured)
                return rate

            return one

        with bench.console.status(f"{n} requests per side per round, {concurrency} in flight"):
            rates = await alternate(
                {"bare": side(bare, "bare"), "pledge": side(ours, "pledge")}, bench.rounds
            )
    # latencies of the round with the best rate, per side (round 0 was the warm-up)
    chosen = {s: latencies[s][1 + rates[s].index(max(rates[s]))] for s in latencies}
    base = best("bare FastAPI + raw INSERT", rates["bare"], "requests/s")
    figures = [
        base,
        versus(
            "pledge service: POST /v1/members",
            rates["pledge"],
            base,
            RATE_TARGET,
            unit="requests/s",
        ),
    ]
    for name, label in (("bare", "bare endpoint"), ("pledge", "pledge service")):
        figures.append(latency(f"p50: {label}", percentile(chosen[name], 50)))
        p99 = latency(f"p99: {label}", percentile(chosen[name], 99))
        if name == "pledge":
            p99.target = P99_LIMIT  # an absolute limit, not a ratio
        figures.append(p99)
    report(
        bench.console,
        f"http: one service process, best of {bench.rounds} alternating rounds",
        figures,
        f"{n} requests per side per round, {concurrency} in flight (httpx on loopback, in the"
        " bench process); latencies of each side's best round. Every round:",
    )
    return figures
