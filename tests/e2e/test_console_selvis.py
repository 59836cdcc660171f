"""Who sees which selection, and which township objected (issues 18 and 20), in a real
browser against the real identity, pledge and evaluation services: the county's selection on
its notice (the township's winner put up and decided over the API), a branch secretary on
her phone finds it among her county's selections and objects (no reason: refused beside the
field, nothing appended; then with one); the county administrator at a desktop reads the
objection with the name of the township that filed it, and opens the township's own
selection behind the candidate, read only."""

from __future__ import annotations

from pathlib import Path

import pytest

from services.evaluation.app import DEFINITION as EVALUATION
from tests.e2e.console_helpers import (
    console_serving,
    console_settings,
    person,
    sign_in,
    township_copied,
    world_for_console,
)
from tests.e2e.console_stories import stage_of
from tests.e2e.helpers import event_count, ok
from tests.e2e.test_console_selectlevels import at
from tests.support import Servers
from tests.support.browser import DESKTOP, PHONE, Browser, horizontal_overflow
from tests.unit.test_console_objleaders import county_selection_on_notice

REASON = "该同志节水项目的账目尚未向群众公开"


async def test_a_secretary_objects_on_her_phone_and_the_county_sees_which_township(
    browser: Browser, servers: Servers, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    async with world_for_console(servers, monkeypatch, tmp_path, beside=(EVALUATION,)) as (
        world,
        console_url,
    ):
        d = world.directory
        evaluation = world.services["evaluation"]
        admin_id = await person(world, "王管理", {"role": "county_admin", "org": d.county})
        await township_copied(world, d.member)
        async with console_serving(console_settings(world, console_url, tmp_path)):
            secretary = await browser.page(PHONE)
            await sign_in(secretary, world, d.secretary, "13800004444", console_url)
            await secretary.get_by_role("button", name="支部书记").click()
            county = await browser.page(DESKTOP)
            await sign_in(
                county,
                world,
                admin_id,
                "13800006666",
                console_url,
                by="county_admin",
                second_factor=True,
            )
            # the services' clock to the selection's days (signed in first: see selectlevels)
            clock = world.identity.clock
            clock.set(at("2027-06-20"))
            cid = await county_selection_on_notice(evaluation.client, d, clock)

            # --- the secretary, on her phone, objects to the county's selection -------------
            await secretary.get_by_role("link", name="评选推荐").click()
            listed = secretary.locator("#county-selections")
            assert "公示期内对公示对象有异议的" in await listed.inner_text()
            await listed.get_by_role("link", name="优秀共产党员").click()
            assert secretary.url.endswith(f"/selections/{cid}")
            assert (await stage_of(secretary)).startswith("公示中")
            # nothing to do but object (the finalist found by name: the picker's 查找)
            buttons = await secretary.locator("main").get_by_role("button").all_inner_texts()
            assert sorted(buttons) == ["提交异议", "查找"]
            before = await event_count(evaluation)
            await secretary.get_by_role("button", name="提交异议").click()  # no reason
            assert await secretary.locator("#summary").get_attribute("aria-invalid") == "true"
            assert await secretary.locator("#err-summary").count() == 1
            assert await event_count(evaluation) == before  # nothing appended
            await secretary.get_by_label("异议理由（必填）").fill(REASON)
            await secretary.get_by_role("button", name="提交异议").click()
            mine = await secretary.locator("#objections").inner_text()
            assert f"{REASON} （红沙梁镇提出）" in mine
            assert await horizontal_overflow(secretary) == 0

            # --- the administrator reads which township objected, and the township's record -
            await county.get_by_role("link", name="评选表彰").click()
            await county.get_by_role("link", name="优秀共产党员").first.click()
            assert county.url.endswith(f"/selections/{cid}")
            objections = await county.locator("#objections").inner_text()
            assert f"{REASON} （红沙梁镇提出）" in objections
            assert "来访" not in objections
            await county.get_by_label("答复").fill("经核实账目已于公示期内公开，异议不成立")
            await county.get_by_label("异议不成立", exact=True).check()
            await county.get_by_role("button", name="提交答复").click()
            answered = await county.locator("#objections").inner_text()
            assert "答复：经核实账目已于公示期内公开，异议不成立（异议不成立）" in answered
            await county.get_by_role("link", name="评选表彰").click()
            towns = county.locator("#township-selections")
            assert "各乡镇评选（1）" in await towns.inner_text()
            await towns.get_by_role("link", name="优秀共产党员").click()
            assert await stage_of(county) == "已表彰"
            assert "此处只读" in await county.locator("#read-only").inner_text()
            record = await county.locator("#candidates").inner_text()
            assert "推荐理由：推广滴灌，带动十户节水增收" in record
            assert await county.locator("main").get_by_role("button").count() == 0
            [filed] = ok(await evaluation.client.get(f"/v1/selections/{cid}"))["objections"]
            assert (filed["township_id"], filed["upheld"]) == (d.township, False)
