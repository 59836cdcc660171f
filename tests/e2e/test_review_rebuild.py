"""The demo county gets a quarter of reviews through the review API (gongkai/develop/
demo_review.py), and the review service's read models, directory and pledge copies
included, rebuild to exactly the live state (A2), in a side schema and by swapping."""

from __future__ import annotations

import asyncio
from datetime import date

from gongkai.develop.demo import DemoLoader
from gongkai.develop.demo_review import load_review_demo, review_demo_loaded
from services.review.app import DEFINITION
from shared.database import READ_SCHEMA
from shared.projections import table_fingerprints
from tests.e2e.helpers import ok
from tests.e2e.review_helpers import pledge_and_review, synced
from tests.support import Servers, rebuilt_as_live


async def test_the_demo_quarter_loads_and_the_read_models_rebuild_equal(servers: Servers) -> None:
    async with pledge_and_review(servers) as (pledge, review):
        pledge_url, review_url = str(pledge.client.base_url), str(review.client.base_url)
        today = date(2027, 1, 4)
        await asyncio.to_thread(DemoLoader(pledge_url, servers.key, today).load)
        assert not await asyncio.to_thread(review_demo_loaded, review_url)
        counts = await asyncio.to_thread(
            load_review_demo, pledge_url, review_url, servers.key, today
        )
        assert await asyncio.to_thread(review_demo_loaded, review_url)
        assert counts["reviews"] >= 15
        assert counts["corrections"] == 1
        assert counts["journal_entries"] == 16
        assert counts["presentations"] == 14  # the member left unreviewed: not presented yet
        assert counts["visits"] == 3
        await synced(pledge, review)

        townships = [
            t["township_id"]
            for t in ok(await pledge.client.get("/v1/counties/minqin"))["townships"]
        ]
        gaps = []
        for township in townships:
            report = ok(
                await review.client.get(
                    f"/v1/townships/{township}/coverage", params={"quarter": "2027Q1"}
                )
            )
            gaps += report["not_reviewed"]
        # one ordinary member left in each township that has one, and a third branch
        assert len(gaps) == 3
        ledger = ok(await review.client.get("/v1/reviews", params={"limit": 1000}))
        assert ledger["total"] == counts["reviews"]
        assert {r["pledge_status"]["status"] for r in ledger["rows"]} >= {
            "published",
            "under_review",
        }

        pool = review.runtime.pool
        live = await rebuilt_as_live(pool, DEFINITION.read_models)
        assert int(live["dir_members"].split(":")[0]) == 16
        await DEFINITION.read_models.rebuild(pool)
        async with pool.acquire() as conn:
            assert await table_fingerprints(conn, READ_SCHEMA) == live
