"""Two county roster imports confirmed at the same time over the same townships, their files
listing them in opposite orders (so each batch of one touches first the township the other
touches last): against real PostgreSQL, both end, one committed and the other committed too
or answered `stale` (planned again on what the first wrote), nothing half-written. Each
import's batches locked the townships in its file's order, and two such deadlocked."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

import pytest

from gongkai.bench.roster import County, roster_workbook
from services.pledge import handlers as h
from services.pledge.projections import READ_MODELS
from shared.eventstore.base import CommandContext
from shared.unit_of_work import CommandExecutor
from tests.integration.test_rosterspeed_bulk import assert_log_as_one_by_one, executor
from tests.support import rebuilt_as_live

__all__ = ["executor"]  # the fixture, shared with the bulk path's tests


async def test_two_imports_over_the_same_townships_in_opposite_orders_both_end(
    executor: CommandExecutor, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(h, "FLUSH_EVERY", 1)  # a batch per change: one township at a time
    monkeypatch.setattr(h, "PROGRESS_EVERY", 1)
    pool = executor.pool
    admin, _, _ = await County(executor, 8).make()  # two townships, no branches yet
    context = CommandContext(actor=admin.subject, role=str(admin.role))
    towns = [r["name"] for r in await pool.fetch("SELECT name FROM townships ORDER BY name")]
    assert len(towns) == 2
    previews = []
    for order in (towns, towns[::-1]):
        data = roster_workbook(order, 2, 8)
        preview = await executor.execute(
            lambda uow, data=data: h.upload_roster(  # type: ignore[misc]
                uow, "county", str(admin.org), data, "名册.xlsx", admin
            ),
            context=context,
        )
        assert preview["state"] == "ready", preview["errors"]
        previews.append(preview["import_id"])
    before = await pool.fetchval("SELECT count(*) FROM events")

    # each import, once its first batch holds its first township, waits (a while) for the
    # other to hold its own: then each needs the other's next
    arrived, both = [0], asyncio.Event()

    async def met(done: int) -> None:
        if done == 1:
            arrived[0] += 1
            if arrived[0] == 2:
                both.set()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(both.wait(), 1.5)

    async def confirm(import_id: str) -> Any:
        return await executor.execute(
            lambda uow: h.confirm_roster(uow, import_id, admin, met), context=context
        )

    answers = await asyncio.wait_for(
        asyncio.gather(*(confirm(i) for i in previews), return_exceptions=True), 30
    )
    assert not [a for a in answers if isinstance(a, BaseException)], answers
    states = sorted("stale" if a.get("stale") else a["state"] for a in answers)
    assert states in (["committed", "committed"], ["committed", "stale"]), answers
    appended = sum(a["appended"] for a in answers if a["state"] == "committed")
    assert appended > 0
    assert await pool.fetchval("SELECT count(*) FROM events") == before + appended
    await assert_log_as_one_by_one(pool)
    await rebuilt_as_live(pool, READ_MODELS)
