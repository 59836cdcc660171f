"""The clock-driven work (N3, N4): reminders before each deadline and overdue notices after
it, each exactly once, and the monthly supervision bulletin. `tick` reads the injectable
clock, so a test can walk a whole year in seconds; the app runs it periodically."""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from functools import partial

import asyncpg

from services.notification.aggregate import DeadlineNotices
from services.notification.bulletins import issue_bulletin
from services.notification.calendar import phase
from services.notification.deadlines import deadlines
from services.notification.events import Deadline, NoticeKind
from services.notification.outbound import schedule_deliveries
from services.notification.responsible import grouped, office, unfinished
from shared.eventstore.base import CommandContext
from shared.runtime import Runtime
from shared.unit_of_work import UnitOfWork

OVERDUE_WINDOW = timedelta(days=14)  # a late start still sends the overdue notices
CONTEXT = CommandContext(actor="service:notification-scheduler", role="integration")


def _text(deadline: Deadline, kind: NoticeKind, missing: str) -> tuple[str, str]:
    if kind is NoticeKind.REMINDER:
        return (
            f"【提醒】{deadline.title}",
            f"{missing}: 请于{deadline.due_on:%Y年%m月%d日}前完成{deadline.title}。",
        )
    return (
        f"【逾期】{deadline.title}",
        f"{missing}: {deadline.title}已于{deadline.due_on:%Y年%m月%d日}截止, "
        "尚未完成, 请尽快办理。",
    )


async def _notify(
    uow: UnitOfWork,
    county_id: str,
    township_id: str,
    deadline: Deadline,
    kind: NoticeKind,
    recipients: list[tuple[str, str]],
) -> None:
    stream = f"deadline-{county_id}-{deadline.deadline_id}-{township_id}"
    notices = await uow.load(DeadlineNotices, stream) or DeadlineNotices(stream, township_id)
    now = uow.store.clock.now()
    for recipient, missing in recipients:
        title, body = _text(deadline, kind, missing)
        notice_id = f"n-{uuid.uuid4().hex[:16]}"
        if notices.issue(
            notice_id=notice_id,
            county_id=county_id,
            township_id=township_id,
            deadline=deadline,
            kind=kind,
            recipient=recipient,
            title=title,
            body=body,
        ):
            content = {
                "notice_id": notice_id,
                "recipient": recipient,
                "title": title,
                "body": body,
                "due_on": deadline.due_on.isoformat(),
            }
            await uow.save(notices)
            await schedule_deliveries(
                uow,
                release_type=kind.value,
                township_id=township_id,
                release_id=notice_id,
                subject=title,
                content=content,
                now=now,
            )


async def _already(
    conn: asyncpg.Connection, township_id: str, deadline: Deadline, kind: NoticeKind
) -> set[str]:
    rows = await conn.fetch(
        "SELECT recipient FROM notices WHERE township_id = $1 AND deadline_id = $2 AND kind = $3",
        township_id,
        deadline.deadline_id,
        kind.value,
    )
    return {r["recipient"] for r in rows}


# each township with the day it was established (its directory copy's first event), local
TOWNSHIPS = (
    "SELECT t.township_id, t.county_id, (SELECT min(h.at) FROM dir_history h"
    " WHERE h.subject_id = t.township_id AND h.change = 'TownshipEstablished') AS established"
    " FROM dir_townships t ORDER BY t.township_id"
)


def _established(runtime: Runtime, row: asyncpg.Record) -> date:
    at = row["established"]
    return at.astimezone(runtime.settings.local_timezone).date() if at else date.min


async def remind(runtime: Runtime, today: date) -> int:
    """Issue the reminders and overdue notices due today; the number issued. A township is
    not chased for a year's calendar before the year it was established, nor for a deadline
    that fell due before it was."""
    issued = 0
    async with runtime.pool.acquire() as conn:
        townships = await conn.fetch(TOWNSHIPS)
        calendars: dict[tuple[str, int], tuple[Deadline, ...]] = {}
        work = []
        for t in townships:
            established = _established(runtime, t)
            for year in (today.year - 1, today.year):
                if year < established.year:
                    continue
                key = (t["county_id"], year)
                if key not in calendars:
                    calendars[key] = await deadlines(conn, t["county_id"], year)
                for deadline in calendars[key]:
                    state = phase(deadline, today)
                    if state is None or today - deadline.due_on > OVERDUE_WINDOW:
                        continue
                    if deadline.due_on < established:
                        continue
                    kind = NoticeKind(state)
                    missing = await unfinished(conn, deadline, t["township_id"], today)
                    the_office = office(t["township_id"])
                    if kind is NoticeKind.OVERDUE and missing and the_office not in dict(missing):
                        missing.append((the_office, f"{len(missing)}个对象未完成"))
                    sent = await _already(conn, t["township_id"], deadline, kind)
                    todo = [(r, m) for r, m in grouped(missing) if r not in sent]
                    if todo:
                        work.append((t["county_id"], t["township_id"], deadline, kind, todo))
    for county_id, township_id, deadline, kind, todo in work:
        await runtime.executor.execute(
            partial(
                _notify,
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
        issued = {
            r["township_id"]
            for r in await conn.fetch(
                "SELECT township_id FROM bulletins WHERE regular AND period = $1", period
            )
        }
        townships = [
            t
            for t in await conn.fetch(TOWNSHIPS)
            if t["township_id"] not in issued and _established(runtime, t) <= last
        ]
    for t in townships:
        await runtime.executor.execute(
            partial(
                issue_bulletin,
                township_id=t["township_id"],
                period=period,
                regular=True,
                title=f"{last.year}年{last.month}月督查通报",
                note="",
            ),
            context=CONTEXT,
        )
    return len(townships)
