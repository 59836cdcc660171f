"""`gongkai bench county`: a county's year generated into the pledge service's log, then every
pledge read model rebuilt from it: time, events/s and peak memory, at 1/4, 1/2 and all of
`--scale` (1 = the issue's county: 20 townships, 600 branches, 30,000 members, a year, about
2 million events), to show rebuild time growing with the log and memory staying flat.

Generation goes through the pledge service's own domain code (the directory aggregates and
`Pledge`: draft, propose, review, publish, fortnightly progress, done, solved, verified) and
`PostgresEventStore.append` (hash chain, per-township sequences), one transaction per branch,
a writer per township, without HTTP or live projection: 2 million commands through HTTP would
take hours here, and the rebuild builds the read models anyway. The log grows in place
(1/4, then the next 1/4, then the last 1/2); each rebuild runs in a fresh child process
(`python -m gongkai.bench.county DSN ROLE`) whose peak RSS is its own; the PostgreSQL
backend's RSS is sampled meanwhile (it counts shared buffers it touched, up to
`shared_buffers`).
"""

from __future__ import annotations

import asyncio
import json
import resource
import subprocess
import sys
import time
from datetime import date
from typing import Any

import asyncpg

from gongkai.bench.common import Bench, Figure, Sizes, report
from gongkai.develop.demo import CRITERIA, ITEMS
from services.pledge.aggregates import Branch, County, Member, Pledge, Pledger, Township
from services.pledge.commands import ProposedItem
from services.pledge.events import BranchKind, PledgerKind
from services.pledge.projections import READ_MODELS
from shared.aggregate import Aggregate
from shared.database import open_pool
from shared.eventstore.base import AppendRequest, CommandContext
from shared.eventstore.postgres import PostgresEventStore

TOWNSHIPS, BRANCHES = 20, 600  # and 50 members per branch (Sizes)
PROGRESS_REPORTS = 26  # per item: fortnightly
FRACTIONS = (0.25, 0.5, 1.0)
CONTEXT = CommandContext(actor="bench", role="county_admin")
COUNTY_ID = "benchcounty"
WRITERS = 4  # townships generated at once


class Generator:
    def __init__(self, store: PostgresEventStore, townships: int, members: int) -> None:
        self.store, self.members = store, members
        self.year = date.today().year
        self.county = County.establish(COUNTY_ID, "民勤县")
        self.townships = [
            Township.establish(f"t-{t:04d}", COUNTY_ID, f"镇{t}") for t in range(townships)
        ]
        self.categories = tuple(c for items in ITEMS.values() for _, c, _ in items)

    async def directory(self) -> int:
        async with self.store.pool.acquire() as conn, conn.transaction():
            return await self._save(conn, [self.county, *self.townships])

    async def branches(self, first: int, last: int) -> int:
        """Branches [first, last) with their members and year; the events appended."""
        mine: dict[int, list[int]] = {}
        for b in range(first, last):
            mine.setdefault(b % len(self.townships), []).append(b)
        lanes = list(mine.values())
        counts = await asyncio.gather(
            *(self._lanes(lanes[w::WRITERS]) for w in range(min(WRITERS, len(lanes))))
        )
        return sum(counts)

    async def _lanes(self, lanes: list[list[int]]) -> int:
        return sum([await self._branch(b) for lane in lanes for b in lane])

    async def _branch(self, b: int) -> int:
        township = self.townships[b % len(self.townships)]
        kind = (BranchKind.VILLAGE, BranchKind.AGENCY, BranchKind.SCHOOL)[b % 3]
        branch = Branch.establish(f"b-{b:05d}", township, f"支部{b}", kind, None)
        members = [
            Member.enrol(f"m-{b:05d}-{m:03d}", branch, f"党员{m}", "党员责任岗", "联系群众", m < 2)
            for m in range(self.members)
        ]
        pledges = [self._year(branch, None)] + [self._year(branch, m) for m in members]
        async with self.store.pool.acquire() as conn, conn.transaction():
            return await self._save(conn, [branch, *members, *pledges])

    def _year(self, branch: Branch, member: Member | None) -> Pledge:
        pledger = Pledger(
            PledgerKind.MEMBER if member else PledgerKind.BRANCH,
            branch.branch_id,
            branch.kind.value,
            member.member_id if member else None,
            member.name if member else branch.name,
            branch.township_id,
            COUNTY_ID,
        )
        pledge = Pledge.draft(self.year, pledger)
        chosen = ITEMS[branch.kind.value][:2]
        drafts = [
            ProposedItem(
                title=title,
                description=f"{title}: 措施到人",
                category=category,
                target=target,
                due_date=date(self.year, 11, 30),
            )
            for title, category, target in chosen
        ]
        items = pledge.propose(
            "年度工作目标责任书", drafts, self.categories, date(self.year, 1, 10)
        )
        for item in items:
            pledge.review_item(
                item,
                shows_advanced_standard=CRITERIA["shows_advanced_standard"],
                matches_wishes=CRITERIA["matches_wishes"],
                feasible=CRITERIA["feasible"],
                approve=True,
                guidance=None,
            )
        pledge.publish()
        for fortnight in range(PROGRESS_REPORTS):
            for item in items:
                pledge.report_progress(item, "按计划推进", min(95, 4 * (fortnight + 1)), ())
        for item in items:
            pledge.report_done(item, "已完成")
            pledge.confirm_problem_solved(item, "问题已解决")
            pledge.verify_implementation(item, "核查到位")
        return pledge

    async def _save(self, conn: asyncpg.Connection, aggregates: list[Aggregate]) -> int:
        appended = 0
        for aggregate in aggregates:
            request = AppendRequest(
                aggregate.stream_id, aggregate.partition, 0, tuple(aggregate.pending), CONTEXT
            )
            appended += len(await self.store.append(request, conn=conn))
        return appended


async def measure(bench: Bench, sizes: Sizes) -> list[Figure]:
    dsn, role = await bench.database("county")
    pool = await open_pool(dsn, role=role, min_size=WRITERS, max_size=WRITERS + 2)
    branches = max(4, round(BRANCHES * sizes.scale))
    townships = max(1, min(TOWNSHIPS, round(TOWNSHIPS * sizes.scale)))
    store = PostgresEventStore(pool, source="/gongkai/pledge")
    generator = Generator(store, townships, sizes.members_per_branch)
    figures: list[Figure] = []
    done, events = 0, 0
    try:
        events += await generator.directory()
        for fraction in FRACTIONS:
            upto = max(1, round(branches * fraction))
            with bench.console.status(f"generating branches {done}..{upto} ..."):
                start = time.perf_counter()
                events += await generator.branches(done, upto)
                generated = time.perf_counter() - start
            done = upto
            with bench.console.status(f"rebuilding {events} events in a child process ..."):
                result = await asyncio.to_thread(_rebuild_in_child, dsn, role)
            label = f"{fraction:g} x {sizes.scale:g} county ({done} branches, {events:,} events)"
            figures += _figures(label, result, generated)
    finally:
        await pool.close()
    report(
        bench.console,
        "county: the pledge service's read models rebuilt from the log",
        figures,
        f"{townships} townships, {sizes.members_per_branch} members per branch, a pledge per member"
        f" and per branch with 2 items and {PROGRESS_REPORTS} progress reports each;"
        " generation rate shown for comparison (events appended per second).",
    )
    return figures


def _figures(label: str, result: dict[str, Any], generated: float) -> list[Figure]:
    return [
        Figure(f"rebuild time: {label}", result["seconds"], "s"),
        Figure(f"rebuild rate: {label}", result["events"] / result["seconds"]),
        Figure(f"rebuild peak RSS (process): {label}", result["peak_rss_mb"], "MB"),
        Figure(f"PostgreSQL backend peak RSS: {label}", result["pg_peak_rss_mb"], "MB"),
        Figure(f"generation: {label}", generated, "s"),
    ]


def _rebuild_in_child(dsn: str, role: str) -> dict[str, Any]:
    done = subprocess.run(  # noqa: S603 - our own module
        [sys.executable, "-m", "gongkai.bench.county", dsn, role],
        capture_output=True,
        check=True,
        text=True,
    )
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


async def _rebuild(dsn: str, role: str) -> dict[str, Any]:
    import psutil

    pool = await open_pool(dsn, role=role, min_size=1, max_size=2)
    peak = [0]
    database = await pool.fetchval("SELECT current_database()")
    postmaster = psutil.Process(await pool.fetchval("SELECT pg_backend_pid()")).parent()

    def backends() -> list[psutil.Process]:
        """This database's backends now: the rebuild opens its reading one as it goes."""
        found = []
        for child in postmaster.children():
            try:
                if database in " ".join(child.cmdline()):
                    found.append(child)
            except psutil.Error:
                continue
        return found

    async def sample() -> None:
        while True:
            for backend in backends():
                try:
                    peak[0] = max(peak[0], backend.memory_info().rss)
                except psutil.Error:
                    continue
            await asyncio.sleep(0.1)

    sampler = asyncio.create_task(sample())
    start = time.perf_counter()
    events = await READ_MODELS.rebuild(pool)
    seconds = time.perf_counter() - start
    sampler.cancel()
    await pool.close()
    return {
        "events": events,
        "seconds": seconds,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "pg_peak_rss_mb": peak[0] / 2**20,
    }


if __name__ == "__main__":
    from shared.logging import configure_logging

    configure_logging(json=False, level="WARNING")
    print(json.dumps(asyncio.run(_rebuild(sys.argv[1], sys.argv[2]))))
