"""`gongkai bench pipeline`: end to end, from a command's commit to another service's read
model, against a raw pipeline built here on the same servers.

Ours: the pledge service's runtime in this process (without HTTP): `enrol_member` through
its CommandExecutor (load, decide, append, project, commit), 8 writers in 8 townships as the
raw side's 8 writers write 8 partitions, the relay woken on commit, JetStream, and the review
service's runtime in a process of its own (as `gongkai up` runs it) writing its directory
copy. Raw: asyncpg INSERT (autocommit) -> `js.publish` (awaiting the ack) -> a pull consumer
in a process of its own -> read-model upsert and checkpoint in one transaction -> ack.

An arrival is when the consumer's transaction has committed (the review runner's
`handle_batch` returns; the raw consumer's transaction exits), reported by the consumer's
process (`consumers.py`). Sustained: `--commands` commands from 8 concurrent writers, rate =
commands / (first command's start to last arrival). Latency: commands started open-loop at
500/s for `--paced-seconds`, commit to arrival per command.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from contextlib import AsyncExitStack
from typing import Any

import asyncpg
from nats.js import JetStreamContext

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
from gongkai.bench.consumers import ConsumerProcess
from gongkai.bench.messaging import wait_for
from gongkai.bench.store import RAW_DDL, RAW_INSERT, Workload
from services.pledge import commands as c
from services.pledge import handlers
from services.pledge.app import DEFINITION as PLEDGE
from shared.auth import Principal, Role
from shared.database import open_pool
from shared.eventstore.base import CommandContext
from shared.messaging import Subjects, connect, ensure_stream
from shared.runtime import Runtime
from shared.settings import ServiceSettings

WRITERS = 8
PACE = 500.0  # events/s for the latency run
RATE_TARGET, P99_TARGET = 0.7, 3.0
RAW_READ_MODEL = """
CREATE TABLE raw_copy (stream_id text PRIMARY KEY, body bytea NOT NULL);
CREATE TABLE raw_checkpoints (partition text PRIMARY KEY, sequence bigint NOT NULL);
"""
COUNTY = "benchcounty"
TOWNSHIPS = ("红沙梁", "东坝", "大坝", "苏武", "薛百", "夹河", "收成", "双茨科")
ADMIN = Principal(subject="bench", role=Role.COUNTY_ADMIN, org=COUNTY)


class Pipeline:
    """One side: a command to run, and when each key arrived in the other read model."""

    def __init__(self) -> None:
        self.arrived: dict[str, float] = {}

    async def command(self, i: int) -> tuple[str, float]:
        """Run command i: its key, and when it committed."""
        raise NotImplementedError

    async def sustained(self, n: int) -> float:
        keys: list[str] = []
        start = time.perf_counter()

        async def writer(w: int) -> None:
            for i in range(w, n, WRITERS):
                keys.append((await self.command(i))[0])

        await asyncio.gather(*(writer(w) for w in range(WRITERS)))
        await self._arrival(keys)
        return n / (max(self.arrived[k] for k in keys) - start)

    async def paced(self, seconds: float) -> list[float]:
        """Latencies (ms) of commands started at PACE per second, open loop."""
        committed: dict[str, float] = {}

        async def one(i: int) -> None:
            key, at = await self.command(i)
            committed[key] = at

        tasks = []
        start = time.perf_counter()
        for i in range(int(seconds * PACE)):
            await asyncio.sleep(max(0.0, start + i / PACE - time.perf_counter()))
            tasks.append(asyncio.create_task(one(i)))
        await asyncio.gather(*tasks)
        await self._arrival(list(committed))
        return [(self.arrived[k] - t) * 1000 for k, t in committed.items()]

    async def _arrival(self, keys: list[str]) -> None:
        async def all_arrived() -> bool:
            return all(k in self.arrived for k in keys)

        await wait_for(all_arrived)


class Raw(Pipeline):
    def __init__(self, pool: asyncpg.Pool, js: JetStreamContext, subjects: Subjects) -> None:
        super().__init__()
        self.pool, self.js, self.subjects = pool, js, subjects
        self.rows: list[tuple[Any, ...]] = []
        self.work = Workload(WRITERS)

    def prepare(self, n: int) -> None:
        """The rows to insert (built before timing), writer w's in partition w."""
        per_writer = self.work.build(n)[1]
        self.rows = [per_writer[i % WRITERS][i // WRITERS] for i in range(n)]

    async def command(self, i: int) -> tuple[str, float]:
        row = self.rows[i]
        await self.pool.execute(RAW_INSERT, *row)
        committed = time.perf_counter()  # then published, as the relay does after a commit
        key = str(row[0])
        await self.js.publish(
            f"{self.subjects.root}.bench.{row[3]}.pledge.{row[5]}",
            row[7],
            headers={"Nats-Msg-Id": key, "ce-streamid": row[1]},
            stream=self.subjects.stream("bench"),
        )
        return key, committed


class Ours(Pipeline):
    def __init__(self, pledge: Runtime, branches: list[str]) -> None:
        super().__init__()
        self.pledge, self.branches = pledge, branches

    async def command(self, i: int) -> tuple[str, float]:
        cmd = c.EnrolMember(
            branch_id=self.branches[i % WRITERS],
            name=f"党员{i}",
            post="党员责任岗",
            duties="联系群众",
        )
        result = await self.pledge.executor.execute(
            lambda uow: handlers.enrol_member(uow, cmd, ADMIN),
            context=CommandContext(actor="bench", role=Role.COUNTY_ADMIN),
        )
        return f"member-{result['id']}", time.perf_counter()


async def _services(bench: Bench, stack: AsyncExitStack) -> Ours:
    admin, nats_url = await bench.admin_dsn(), await bench.nats()
    _, public_key = bench.signing_key()
    root = f"e{uuid.uuid4().hex[:8]}"
    settings: dict[str, dict[str, Any]] = {}
    for service in ("pledge", "review"):
        database = f"gongkai_bench_{service}_{root}"
        bench.forget(database)
        settings[service] = {
            "service": service,
            "database_url": admin,
            "database_name": database,
            "nats_url": nats_url,
            "nats_subject_root": root,
            "jwt_public_key_file": str(public_key),
        }
    pledge = Runtime(PLEDGE, ServiceSettings(**settings["pledge"]))
    await pledge.start()
    stack.push_async_callback(pledge.stop)
    review = ConsumerProcess("review", settings["review"])
    await review.start()
    stack.push_async_callback(review.stop)
    context = CommandContext(actor="bench", role=Role.COUNTY_ADMIN)

    async def run(work: Any) -> Any:
        return await pledge.executor.execute(work, context=context)

    await run(
        lambda uow: handlers.establish_county(
            uow, c.EstablishCounty(county_id=COUNTY, name="县"), ADMIN
        )
    )
    branches = []
    for w in range(WRITERS):  # a township per writer, as the raw side has a partition each
        township = (
            await run(
                lambda uow, w=w: handlers.establish_township(
                    uow, COUNTY, c.EstablishTownship(name=f"{TOWNSHIPS[w]}镇"), ADMIN
                )
            )
        )["id"]
        branch = (
            await run(
                lambda uow, township=township, w=w: handlers.establish_branch(
                    uow,
                    c.EstablishBranch(
                        township_id=township, name=f"{TOWNSHIPS[w]}村党支部", kind="village"
                    ),
                    ADMIN,
                )
            )
        )["id"]
        branches.append(branch)
    ours = Ours(pledge, branches)
    ours.arrived = review.arrived
    return ours


async def measure(bench: Bench, sizes: Sizes) -> list[Figure]:
    n = sizes.commands
    async with AsyncExitStack() as stack:
        with bench.console.status("starting the pledge and review services ..."):
            ours = await _services(bench, stack)
            nc = await connect(await bench.nats(), name="gongkai-bench-raw")
            stack.push_async_callback(nc.close)
            js = nc.jetstream()
            subjects = Subjects(f"r{uuid.uuid4().hex[:8]}")
            await ensure_stream(js, "bench", subjects)
            dsn, role = await bench.database("pipeline", RAW_DDL + RAW_READ_MODEL)
            pool = await open_pool(dsn, role=role, min_size=2, max_size=WRITERS + 4)
            stack.push_async_callback(pool.close)
            raw = Raw(pool, js, subjects)
            consumer = ConsumerProcess(
                "raw",
                {"dsn": dsn, "role": role, "nats_url": await bench.nats(), "root": subjects.root},
            )
            await consumer.start()
            stack.push_async_callback(consumer.stop)
            raw.arrived = consumer.arrived

        async def raw_sustained(warm_up: bool) -> float:
            raw.prepare(n)
            return await raw.sustained(n)

        async def ours_sustained(warm_up: bool) -> float:
            return await ours.sustained(n)

        latencies: dict[str, list[list[float]]] = {"raw": [], "ours": []}

        async def raw_paced(warm_up: bool) -> float:
            raw.prepare(int(sizes.paced_seconds * PACE))
            latencies["raw"].append(await raw.paced(sizes.paced_seconds))
            return 0.0

        async def ours_paced(warm_up: bool) -> float:
            latencies["ours"].append(await ours.paced(sizes.paced_seconds))
            return 0.0

        with bench.console.status(f"{n} commands per side, {WRITERS} writers ..."):
            rates = await alternate({"raw": raw_sustained, "ours": ours_sustained}, bench.rounds)
        with bench.console.status(f"{PACE:.0f} commands/s for {sizes.paced_seconds} s ..."):
            await alternate({"raw": raw_paced, "ours": ours_paced}, bench.rounds)
    base = best("sustained: raw insert -> publish -> pull -> upsert", rates["raw"])
    p = {side: _best_p99(runs[1:]) for side, runs in latencies.items()}  # [0]: warm-up
    raw_p99 = latency(f"p99 at {PACE:.0f}/s: raw pipeline", p["raw"][1], note=p["raw"][2])
    return _report(
        bench,
        [
            base,
            versus(
                "sustained: pledge command -> review read model", rates["ours"], base, RATE_TARGET
            ),
            raw_p99,
            latency(
                f"p99 at {PACE:.0f}/s: ours", p["ours"][1], raw_p99, P99_TARGET, note=p["ours"][2]
            ),
        ],
        n,
    )


def _best_p99(runs: list[list[float]]) -> tuple[int, float, str]:
    """The round with the lowest p99: its index, p99 and a summary of every round."""
    p99s = [percentile(r, 99) for r in runs]
    summary = "; ".join(
        f"p50 {percentile(r, 50):.1f} ms, p99 {p:.1f} ms, max {max(r):.1f} ms"
        for r, p in zip(runs, p99s, strict=True)
    )
    index = min(range(len(runs)), key=p99s.__getitem__)
    return index, p99s[index], summary


def _report(bench: Bench, figures: list[Figure], n: int) -> list[Figure]:
    report(
        bench.console,
        f"pipeline: commit to another read model, best of {bench.rounds} alternating rounds",
        figures,
        f"sustained: {n} commands per side from {WRITERS} writers; latency: {PACE:.0f}"
        " commands/s open loop, commit to the consumer's commit. Every round:",
    )
    return figures
