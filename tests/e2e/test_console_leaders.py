"""The township's responsible leaders and the county's yearly evaluation settings in a real
browser (issues 18 and 20.5), against the real identity, pledge, review and evaluation
services: on her phone the office clerk assigns a member of the township committee to a
branch (the branch forgotten first: asked beside its field, nothing assigned); at his desktop
the leader finds the branch under 联系支部 and its review page; the clerk ends the
assignment; the county administrator sets the year's satisfaction-check terms (a threshold
above 1 refused beside it) and evaluation calendar and reads them back."""

from __future__ import annotations

from pathlib import Path

import pytest

from services.console.pages.pledges import this_year
from services.evaluation.app import DEFINITION as EVALUATION
from services.review.app import DEFINITION as REVIEW
from tests.e2e.console_helpers import (
    activate,
    console_serving,
    console_settings,
    office_clerk,
    person,
    sign_in,
    township_head,
    world_for_console,
)
from tests.e2e.helpers import eventually, ok
from tests.e2e.review_helpers import seats_copied
from tests.support import Servers
from tests.support.browser import DESKTOP, PHONE, Browser, horizontal_overflow

ADMIN_LOGIN = "110101199003070011"


async def test_the_office_assigns_a_leader_and_the_county_sets_its_year(
    browser: Browser, servers: Servers, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    async with world_for_console(servers, monkeypatch, tmp_path, beside=(REVIEW, EVALUATION)) as (
        world,
        console_url,
    ):
        d = world.directory
        leader = await person(world, "刘建国", {"role": "township_committee", "org": d.township})
        clerk = await office_clerk(world)
        await township_head(world)  # on the committee too
        review = world.services["review"].client
        admin_id = await person(world, "王管理", {"role": "county_admin", "org": d.county})
        admin_code = await world.activation_code(admin_id, ADMIN_LOGIN, "county_admin")

        async def branch_copied() -> bool:
            return (await review.get(f"/v1/directory/branches/{d.branch}")).status_code == 200

        await eventually(branch_copied)
        await seats_copied(world.services["review"], d.township, leader)
        async with console_serving(console_settings(world, console_url, tmp_path)):
            # --- the clerk on her phone assigns 刘建国 to the branch ---------------------------
            office = await browser.page(PHONE)
            await sign_in(office, world, clerk, "13800005555", console_url)
            await office.get_by_role("link", name="联系领导").click()
            assert "未安排（由党委书记点评）" in await office.locator("#leaders").inner_text()
            choice = office.get_by_label("联系领导（本镇党委成员）")
            assert "王振华（党委书记）" in await choice.inner_text()  # the head is on it too
            await choice.select_option(label="刘建国")
            await office.get_by_role("button", name="安排").click()  # the branch forgotten
            assert await office.get_by_role("alert").count() == 1
            branch = office.get_by_label("支部", exact=True)
            assert await branch.get_attribute("aria-invalid") == "true"
            assert await office.locator("#err-assign-branch_id").inner_text() == "请选择支部"
            assert (
                ok(await review.get("/v1/branch-leaders", params={"leader_id": leader}))["total"]
                == 0
            )
            await branch.select_option(label="红沙梁村党支部")
            await office.get_by_role("button", name="安排").click()
            assert "刘建国" in await office.locator("#leaders").inner_text()
            assert await horizontal_overflow(office) == 0

            # --- the leader at his desktop: his branch, and its reviews -----------------------
            desk = await browser.page(DESKTOP)
            await sign_in(desk, world, leader, "13800007777", console_url)
            await desk.get_by_role("link", name="联系支部").click()
            assert "我联系的支部（1）" in await desk.locator("#mine").inner_text()
            await desk.locator("#mine").get_by_role("link", name="红沙梁村党支部").click()
            assert "/reviews/branches/" in desk.url
            assert await desk.get_by_role("link", name="点评", exact=True).count() >= 1

            # --- the clerk ends the assignment ------------------------------------------------
            await office.get_by_role("button", name="取消刘建国联系红沙梁村党支部").click()
            assert "未安排" in await office.locator("#leaders").inner_text()
            await desk.reload()
            await desk.get_by_role("link", name="联系支部").click()
            assert "我联系的支部（0）" in await desk.locator("#mine").inner_text()

            # --- the county administrator sets the year's checks and calendar ----------------
            admin = await browser.page(DESKTOP)
            await activate(admin, world, ADMIN_LOGIN, admin_code, second_factor=True)
            await admin.goto(f"{console_url}/signin")
            await admin.get_by_role("link", name="乡镇与日历").click()
            terms = admin.locator("#evaluation-terms")
            assert "满意和基本满意占 80%" in await terms.inner_text()  # the default
            threshold = admin.get_by_label("通过门槛（0到1之间的小数，如 0.8 即 80%）")
            await threshold.fill("1.5")
            await admin.get_by_role("button", name="保存测评规则").click()
            assert await threshold.get_attribute("aria-invalid") == "true"
            assert await admin.locator("#err-terms-threshold").count() == 1
            await threshold.fill("0.9")
            await admin.get_by_label("测评期限（天）").fill("21")
            await admin.get_by_role("button", name="保存测评规则").click()
            assert "满意和基本满意占 90%" in await terms.inner_text()
            assert "21 天" in await terms.inner_text()
            year = this_year()
            await admin.get_by_label("第一轮评议截止日期").fill(f"{year}-07-08")
            await admin.get_by_role("button", name="保存评议日历").click()
            assert f"{year}年7月8日" in await terms.inner_text()
