"""The demo's township selection as its office reads it (issue 20 item 1, second review): the
demo loaded as `gongkai up` loads the pledge and evaluation parts on 2026-12-08, its
selection's first stage scored over the demo's window (2025-12-09 to 2026-12-08). Each
nominee's 评星定级 is the branch's rating of the last month that has ended (the rating of the
month still running would end after the window, and count for nothing), and the page lists
the formula's parts only, each with its weight; the stage still recomputes to its record."""

from __future__ import annotations

import asyncio
import re
from datetime import date
from pathlib import Path

from gongkai.develop.demo import COUNTY, DemoLoader
from gongkai.develop.demo_evaluation import load_evaluation_demo
from services.console.settings import ConsoleSettings
from tests.e2e.evaluation_helpers import pledge_and_evaluation
from tests.e2e.helpers import ok
from tests.support import Servers
from tests.unit.test_console_countypages import shown
from tests.unit.test_console_objleaders import at
from tests.unit.test_console_officepages import signed_in_as

TODAY = date(2026, 12, 8)


async def test_the_demos_selection_shows_its_ratings_and_the_formulas_parts_only(
    servers: Servers, tmp_path: Path
) -> None:
    async with pledge_and_evaluation(servers, at(str(TODAY))) as (pledge, evaluation, _):
        pledge_url, evaluation_url = str(pledge.client.base_url), str(evaluation.client.base_url)
        await asyncio.to_thread(DemoLoader(pledge_url, servers.key, TODAY).load)
        await asyncio.to_thread(
            load_evaluation_demo, pledge_url, evaluation_url, servers.key, TODAY
        )
        county = ok(await pledge.client.get(f"/v1/counties/{COUNTY[0]}"))
        township = county["townships"][0]["township_id"]
        e = evaluation.client
        [listed] = ok(await e.get("/v1/selections", params={"township_id": township}))["rows"]
        sid = listed["selection_id"]
        selection = ok(await e.get(f"/v1/selections/{sid}"))
        window = {"starts_on": "2025-12-09", "ends_on": "2026-12-08"}
        assert selection["formula"]["window"] == window
        [stage] = selection["stages"]
        assert len(stage["candidates"]) == len(selection["candidates"]) >= 2
        for candidate in stage["candidates"]:
            ratings = next(i for i in candidate["inputs"] if i["source"] == "ratings")
            [rating_id] = ratings["evidence"]
            assert rating_id.endswith("-2026-11"), rating_id  # November's, ended in the window
            assert ratings["value"] is not None
        recomputed = ok(await e.get(f"/v1/selections/{sid}/stages/1/recomputation"))
        assert recomputed["matches"] is True

        settings = ConsoleSettings(
            session_key_file=tmp_path / "console.key",
            identity_url="http://127.0.0.1:9",
            pledge_url=pledge_url,
            evaluation_url=evaluation_url,
            notification_url="http://127.0.0.1:9",
        )
        office, _ = signed_in_as(settings, servers, "township_office", township, "p-o", "文员")
        html = shown(await office.get(f"/selections/{sid}"))
        parts = re.findall(r'<div class="muted parts">([^<]*)</div>', html)
        assert len(parts) == len(stage["candidates"])
        for shown_parts in parts:
            named = re.findall(r"(\w+)：([\d.]+|无数据)（占(\d+)%）", shown_parts)
            assert [(n, w) for n, _, w in named] == [
                ("评星定级", "40"),
                ("群众评议", "40"),
                ("领导点评", "20"),
            ]
            assert dict((n, v) for n, v, _ in named)["评星定级"] != "无数据"
        assert "承诺践诺" not in html
