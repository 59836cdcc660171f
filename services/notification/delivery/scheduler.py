"""The clock-driven work (N3, N4): reminders before each deadline and overdue notices after
it, each exactly once, and the monthly supervision bulletin. `tick` reads the injectable
clock, so a test can walk a whole year in seconds; the app runs it periodically."""

from __future__ import annotations

from datetime import date, timedelta
from functools import partial

import asyncpg

from services.notification import queries
from services.notification.aggregates import grouped, office, phase
from services.notification.events import Deadline, NoticeKind
from services.notification.handlers import issue_bulletin, issue_notices
from shared import zh
from shared.eventstore.base import CommandContext
from shared.runtime import Runtime

OVERDUE_WINDOW = timedelta(days=14)  # a late start still sends the overdue notices
CONTEXT = CommandContext(actor="service:notification-scheduler", role="integration")


def _established(runtime: Runtime, row: asyncpg.Record) -> date:
    at = row["established"]
    return at.astimezone(runtime.settings.local_timezone).date() if at else date.min


async def remind(runtime: Runtime, today: date) -> int:
    """Issue the reminders and overdue notices due today; the number issued. A township is
    not chased for a year's calendar before the year it was established, nor for a deadline
    that fell due before it was."""
    issued = 0
    async with runtime.pool.acquire() as conn:
        townships = await queries.townships(conn)
        calendars: dict[tuple[str, int], tuple[Deadline, ...]] = {}
        work = []
        for t in townships:
            established = _established(runtime, t)
            for year in (today.year - 1, today.year):
                if year < established.year:
                    continue
                key = (t["county_id"], year)
                if key not in calendars:
                    calendars[key] = await queries.deadlines(conn, t["county_id"], year)
                for deadline in calendars[key]:
                    state = phase(deadline, today)
                    if state is None or today - deadline.due_on > OVERDUE_WINDOW:
                        continue
                    if deadline.due_on < established:
                        continue
                    kind = NoticeKind(state)
                    missing = await queries.unfinished(conn, deadline, t["township_id"], today)
                    the_office = office(t["township_id"])
                    if kind is NoticeKind.OVERDUE and missing and the_office not in dict(missing):
                        missing.append((the_office, f"{len(missing)}个对象未完成"))
                    sent = await queries.notices_sent(conn, t["township_id"], deadline, kind.value)
                    todo = [(r, m) for r, m in grouped(missing) if r not in sent]
                    if todo:
                        work.append((t["county_id"], t["township_id"], deadline, kind, todo))
    for county_id, township_id, deadline, kind, todo in work:
        await runtime.executor.execute(
            partial(
                issue_notices,
                county_id=county_id,
                township_id=township_id,
                deadline=deadline,
                kind=kind,
                recipients=todo,
            ),
            context=CONTEXT,
        )
        issued += len(todo)
    return issued


async def tick(runtime: Runtime) -> int:
    """One pass of the clock-driven work; the number of notices and bulletins issued."""
    today = runtime.clock.now().astimezone(runtime.settings.local_timezone).date()
    issued = await remind(runtime, today)
    issued += await monthly_bulletins(runtime, today)
    return issued


async def monthly_bulletins(runtime: Runtime, today: date) -> int:
    """N4: last month's regular bulletin for every township that existed then, once."""
    last = today.replace(day=1) - timedelta(days=1)
    period = f"{last:%Y-%m}"
    async with runtime.pool.acquire() as conn:
        issued = await queries.regular_bulletins(conn, period)
        townships = [
            t
            for t in await queries.townships(conn)
            if t["township_id"] not in issued and _established(runtime, t) <= last
        ]
    for t in townships:
        await runtime.executor.execute(
            partial(
                issue_bulletin,
                township_id=t["township_id"],
                period=period,
                regular=True,
                title=f"{zh.period(period)}督查通报",
                note="",
            ),
            context=CONTEXT,
        )
    return len(townships)
