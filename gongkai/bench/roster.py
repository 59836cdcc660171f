"""`gongkai bench roster`: a county's roster imported from a workbook (issue 19.3) against a
raw batched INSERT of the same event rows, in the same run on the same PostgreSQL.

Each round imports a new county (20 townships; `--roster-members` members, 50 a branch, a
secretary each) through the pledge service's own handlers: the upload (the .xlsx read,
every row checked, the preview planned), then the confirm (each change decided by its
aggregate, the events appended through the store's bulk path with every invariant:
per-township sequence, hash chain, read models, and the relay's head rows). The raw side
inserts the very rows the import appended (same bodies and hashes) into a table with the
same indexes, by `executemany` in one transaction. Figures: the confirm's rate against the
raw rate (target 0.5), and the whole import's time (target under 60 s).
"""

from __future__ import annotations

import io
import os
import time
from typing import Any

from openpyxl import Workbook

from gongkai.bench.common import Bench, Figure, Sizes, alternate, best, report, versus
from gongkai.bench.store import RAW_DDL, RAW_INSERT
from services.pledge import commands as c
from services.pledge import handlers as h
from services.pledge.events import REGISTRY
from services.pledge.projections import READ_MODELS
from shared.auth import Principal, Role
from shared.eventstore.base import CommandContext
from shared.eventstore.postgres import PostgresEventStore
from shared.unit_of_work import CommandExecutor, UnitOfWork, Work

TOWNSHIPS, PER_BRANCH = 20, 50
RATE_TARGET, SECONDS_TARGET = 0.5, 60.0
EVENT_ROWS = (
    "SELECT id, stream_id, stream_version, partition, sequence, type, time, body, prev_hash,"
    " hash FROM events WHERE position > $1 ORDER BY position"
)


def roster_workbook(townships: list[str], branches: int, members: int) -> bytes:
    """The county's roster as an office would fill the template: branches spread over the
    townships, members spread over the branches, the first member of each its secretary."""
    book = Workbook(write_only=True)
    sheet = book.create_sheet("支部")
    sheet.append(["支部编号", "乡镇", "支部名称", "类型", "所在村", "支部书记"])
    names = [f"第{b + 1}村党支部" for b in range(branches)]
    for b, name in enumerate(names):
        sheet.append(
            ["", townships[b % len(townships)], name, "村党支部", f"第{b + 1}村", f"书记{b}"]
        )
    people = book.create_sheet("党员")
    people.append(["党员编号", "姓名", "所在支部", "岗位", "职责", "班子成员"])
    for m in range(members):
        b = m % branches
        first = m < branches
        people.append(
            [
                "",
                f"书记{b}" if first else f"党员{m}",
                names[b],
                "支部书记" if first else "党员",
                "主持支部全面工作" if first else "参加组织生活，带头节水增收",
                "是" if first else "否",
            ]
        )
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


class County:
    """A new county per round (the same file twice would append nothing)."""

    def __init__(self, executor: CommandExecutor, members: int) -> None:
        self.executor = executor
        self.members = members
        self.branches = max(2, members // PER_BRANCH)
        self.count = 0

    async def make(self) -> tuple[Principal, str, bytes]:
        self.count += 1
        county_id = f"bench_{self.count}"
        admin = Principal(subject=f"admin-{county_id}", role=Role.COUNTY_ADMIN, org=county_id)
        context = CommandContext(actor=admin.subject, role=str(admin.role))
        cmd = c.EstablishCounty(county_id=county_id, name=f"测试县{self.count}")
        await self.executor.execute(
            lambda uow: h.establish_county(uow, cmd, admin), context=context
        )
        towns = [f"第{t + 1}镇" for t in range(min(TOWNSHIPS, self.branches))]
        for name in towns:
            await self.executor.execute(self._township(county_id, name, admin), context=context)
        return admin, county_id, roster_workbook(towns, self.branches, self.members)

    @staticmethod
    def _township(county_id: str, name: str, admin: Principal) -> Work:
        town = c.EstablishTownship(name=name)

        async def work(uow: UnitOfWork) -> Any:
            return await h.establish_township(uow, county_id, town, admin)

        return work


async def measure(bench: Bench, sizes: Sizes) -> list[Figure]:
    pool = await bench.pool("roster", RAW_DDL, size=4)
    await READ_MODELS.ensure(pool)
    store = PostgresEventStore(pool, source="/gongkai/pledge")
    executor = CommandExecutor(
        pool, store, REGISTRY, READ_MODELS.apply, project_many=READ_MODELS.apply_many
    )
    county = County(executor, sizes.roster_members)
    rows: list[tuple[Any, ...]] = []  # the last import's event rows, for the raw side
    whole: list[float] = []
    uploads: list[float] = []

    async def imported(warm_up: bool) -> float:
        admin, county_id, data = await county.make()
        context = CommandContext(actor=admin.subject, role=str(admin.role))
        mark = await pool.fetchval("SELECT coalesce(max(position), 0) FROM events")
        start = time.perf_counter()
        preview = await executor.execute(
            lambda uow: h.upload_roster(uow, "county", county_id, data, "roster.xlsx", admin),
            context=context,
        )
        assert preview["state"] == "ready", preview["errors"][:3]
        checked = time.perf_counter()
        done = await executor.execute(
            lambda uow: h.confirm_roster(uow, preview["import_id"], admin), context=context
        )
        finished = time.perf_counter()
        rows[:] = [tuple(r) for r in await pool.fetch(EVENT_ROWS, mark)]
        assert len(rows) == done["appended"]
        if not warm_up:
            whole.append(finished - start)
            uploads.append(checked - start)
        return float(done["appended"]) / (finished - checked)

    async def raw(warm_up: bool) -> float:
        async with pool.acquire() as conn:
            await conn.execute("DELETE FROM raw_events")  # the runtime role may not TRUNCATE
            start = time.perf_counter()
            async with conn.transaction():
                await conn.executemany(RAW_INSERT, rows)
            return len(rows) / (time.perf_counter() - start)

    # the bulk path itself, timed inside the confirm: each change decided by its aggregate,
    # the events appended (sequence, chain, heads) and projected into the read models
    execute, bulk = h.execute_roster, []

    async def timed_execute(*args: Any, **kwargs: Any) -> int:
        start = time.perf_counter()
        appended = await execute(*args, **kwargs)
        bulk.append(appended / (time.perf_counter() - start))
        return appended

    h.execute_roster = timed_execute
    try:
        rates = await alternate({"import": imported, "raw": raw}, bench.rounds)
    finally:
        h.execute_roster = execute
        await pool.close()
    base = best(
        "raw batched INSERT of the same event rows (executemany, one transaction)", rates["raw"]
    )
    load = os.getloadavg()
    figures = [
        base,
        versus(
            "bulk path: aggregates decide, events appended (sequence, chain), read models",
            bulk[1:],
            base,
            RATE_TARGET,
        ),
        versus(
            "the whole confirm (the file read and checked again, planned, the bulk path)",
            rates["import"],
            base,
        ),
        Figure(
            "whole import (upload, check, preview, confirm)",
            min(whole),
            "s",
            whole,
            target=SECONDS_TARGET,
            higher=False,
        ),
        Figure("of which upload, check and preview", min(uploads), "s", uploads),
        Figure("load average (1 min) at the end", load[0], "", note="a shared machine"),
    ]
    report(
        bench.console,
        "roster: a county roster imported from a workbook vs raw batched INSERT",
        figures,
        f"{county.branches} branches over {min(TOWNSHIPS, county.branches)} townships,"
        f" {sizes.roster_members:,} members ({len(rows):,} events); load average"
        f" {load[0]:.1f} {load[1]:.1f} {load[2]:.1f} on {os.cpu_count()} cores.",
    )
    return figures
