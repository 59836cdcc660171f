"""A person chosen from a long list in a real browser (issue 18), against the real identity
and pledge services: in a branch of 60 members and more, the township clerk on a 360 px phone
types part of a name, the select shows only those found, she picks 马秀珍 and appoints her the
branch's secretary; at a desktop with JavaScript off, "查找" reloads the page with those found
and she appoints another. The pages' own search: tests/unit/test_console_picker.py."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.async_api import expect

from tests.e2e.console_helpers import (
    console_serving,
    console_settings,
    office_clerk,
    sign_in,
    world_for_console,
)
from tests.support import Servers
from tests.support.browser import DESKTOP, PHONE, Browser, horizontal_overflow
from tests.unit.test_console_picker import FOUND, enrol_many


async def test_the_clerk_finds_the_new_secretary_among_many_by_typing(
    browser: Browser, servers: Servers, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    async with world_for_console(servers, monkeypatch, tmp_path) as (world, console_url):
        d = world.directory
        await enrol_many(world.pledge.client, d, d.branch)
        clerk = await office_clerk(world)
        async with console_serving(console_settings(world, console_url, tmp_path)):
            # --- on her phone, typing: the select holds those found ------------------------
            phone = await browser.page(PHONE)
            await sign_in(phone, world, clerk, "13800005555", console_url)
            await phone.goto(f"{console_url}/directory/branches/{d.branch}")
            chosen = phone.get_by_label("支部书记", exact=True)
            assert await chosen.locator("option").count() > 20  # 20 found and the secretary
            assert "只列出前 20 位" in await phone.locator(".pick-note").inner_text()
            await phone.get_by_label("按姓名查找").press_sequentially("秀珍", delay=50)
            await expect(chosen.locator("option")).to_have_count(2)
            assert await chosen.locator("option").all_inner_texts() == ["请选择", FOUND]
            await phone.get_by_label("按姓名查找").fill("欧阳")
            await phone.get_by_role("button", name="查找").click()
            await phone.get_by_text("未找到姓名含“欧阳”的人员").wait_for()
            assert await chosen.locator("option").count() == 1
            await phone.get_by_label("按姓名查找").fill("秀珍")
            await expect(chosen.locator("option")).to_have_count(2)
            await chosen.select_option(label=FOUND)
            assert await horizontal_overflow(phone) == 0
            await phone.get_by_role("button", name="任命").click()
            assert await phone.locator("#secretary").inner_text() == FOUND

            # --- at a desktop without JavaScript: 查找 reloads the page with those found ---
            signed = await phone.context.storage_state()
            desk = await browser.page(DESKTOP, java_script_enabled=False, storage_state=signed)
            await desk.goto(f"{console_url}/directory/branches/{d.branch}")
            await desk.get_by_label("按姓名查找").fill("赵")
            await desk.get_by_role("button", name="查找").click()
            assert "find_secretary-member_id=" in desk.url
            assert await desk.get_by_label("支部书记", exact=True).locator(
                "option"
            ).all_inner_texts() == ["请选择", "赵华", "赵强", "赵明", "赵芳", FOUND]
            await desk.get_by_label("支部书记", exact=True).select_option(label="赵芳")
            await desk.get_by_role("button", name="任命").click()
            assert await desk.locator("#secretary").inner_text() == "赵芳"
