"""A2 for the evaluation service: after the demo county's evaluation (loaded over HTTP, with
the directory copied from the pledge service over NATS), the read models rebuilt from the log
and the inbox equal the live ones."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime

import pytest

from gongkai.develop.demo import DemoLoader
from gongkai.develop.demo_evaluation import evaluation_demo_loaded, load_evaluation_demo
from services.evaluation.app import DEFINITION
from shared.database import READ_SCHEMA
from shared.projections import table_fingerprints
from tests.e2e.evaluation_helpers import caught_up, pledge_and_evaluation
from tests.e2e.helpers import ok
from tests.support import Servers, rebuilt_as_live


@pytest.mark.parametrize("today", [date(2027, 3, 1), date(2027, 11, 26)], ids=str)
async def test_the_demo_evaluation_rebuilds_to_the_same_read_models(
    servers: Servers, today: date
) -> None:
    start = datetime(today.year, today.month, today.day, 2, 0, tzinfo=UTC)
    async with pledge_and_evaluation(servers, start) as (pledge, evaluation, _):
        loader = DemoLoader(str(pledge.client.base_url), servers.key, today)
        await asyncio.to_thread(loader.load)
        evaluation_url = str(evaluation.client.base_url)
        assert not await asyncio.to_thread(evaluation_demo_loaded, evaluation_url)
        counts = await asyncio.to_thread(
            load_evaluation_demo,
            str(pledge.client.base_url),
            str(evaluation.client.base_url),
            servers.key,
            today,
        )
        assert await asyncio.to_thread(evaluation_demo_loaded, evaluation_url)
        assert counts["rounds"] == 6
        assert counts["ratings"] == 3 + 6
        e = evaluation.client
        rounds = await evaluation.runtime.pool.fetch(
            "SELECT round_id, status FROM rounds ORDER BY round_id"
        )
        closed = [r["round_id"] for r in rounds if r["status"] == "closed"]
        assert len(closed) == 3
        assert ok(await e.get(f"/v1/rounds/{closed[0]}/results"))["published"]
        open_round = next(r["round_id"] for r in rounds if r["status"] == "open")
        assert ok(await e.get(f"/v1/rounds/{open_round}/turnout"))["voted"] == 5

        runtime = evaluation.runtime
        await caught_up(pledge, evaluation)
        live = await rebuilt_as_live(runtime.pool, DEFINITION.read_models)
        assert int(live["round_tally"].split(":")[0]) > 10
        assert int(live["dir_members"].split(":")[0]) > 10
        await DEFINITION.read_models.rebuild(runtime.pool)  # the swap
        async with runtime.pool.acquire() as conn:
            assert await table_fingerprints(conn, READ_SCHEMA) == live
