"""A2: read models rebuild to the same state, also while commands keep arriving."""

from __future__ import annotations

import asyncio
from datetime import date

import pytest

from gongkai.develop.demo import DemoLoader
from services.pledge.app import DEFINITION
from shared import projections
from tests.e2e.conftest import RunningService
from tests.e2e.helpers import ok
from tests.support import Servers, rebuilt_as_live


async def test_rebuild_equals_live_and_swaps_without_losing_concurrent_writes(
    servers: Servers, pledge_service: RunningService, monkeypatch: pytest.MonkeyPatch
) -> None:
    c, runtime = pledge_service.client, pledge_service.runtime
    monkeypatch.setattr(projections, "REPLAY_CHUNK", 7)  # many committed chunks per replay
    loader = DemoLoader(str(c.base_url), servers.key, date(2027, 1, 4))
    await asyncio.to_thread(loader.load)

    live = await rebuilt_as_live(runtime.pool, DEFINITION.read_models)
    assert int(live["items"].split(":")[0]) > 20  # the demo county has content

    # the swap rebuild while members keep reporting progress
    rows = ok(await c.get("/v1/ledger?limit=10"))["rows"]

    async def keep_writing() -> int:
        written = 0
        for row in rows:
            pledger = await runtime.pool.fetchrow(
                "SELECT branch_id, member_id, secretary_id FROM pledges JOIN branches"
                " USING (branch_id) WHERE pledge_id = $1",
                row["pledge_id"],
            )
            headers = (
                servers.auth("member", pledger["branch_id"], pledger["member_id"])
                if pledger["member_id"]
                else servers.auth("branch_secretary", pledger["branch_id"], pledger["secretary_id"])
            )
            ok(
                await c.post(
                    f"/v1/pledges/{row['pledge_id']}/items/{row['item_id']}/progress",
                    json={"summary": "继续推进", "percent": 60},
                    headers=headers,
                ),
                201,
            )
            written += 1
        return written

    written, _ = await asyncio.gather(keep_writing(), DEFINITION.read_models.rebuild(runtime.pool))
    assert written == len(rows)
    await rebuilt_as_live(runtime.pool, DEFINITION.read_models)
    activity = await runtime.pool.fetchval(
        "SELECT count(*) FROM item_activity WHERE kind = 'progress' AND summary = '继续推进'"
    )
    assert activity == len(rows)
