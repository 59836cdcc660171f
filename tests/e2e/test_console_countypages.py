"""The county administrator's day in a real browser (issue 18 with issue 16), against the
real identity, pledge and notification services: at the office desktop she registers a new
clerk, grants the township-office post and issues the clerk's activation code (shown once);
the clerk activates on her phone, signs in, sees the office's menu and issues a bulletin
(the page fits a 360 px screen); the administrator revokes the post and the clerk's next page
is refused at once."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import pytest

from services.notification.app import DEFINITION as NOTIFICATION
from tests.e2e.console_helpers import (
    activate,
    console_serving,
    console_settings,
    person,
    world_for_console,
)
from tests.e2e.identity_helpers import PASSWORD
from tests.support import Servers
from tests.support.browser import DESKTOP, PHONE, Browser, horizontal_overflow

ADMIN_LOGIN = "110101199003070011"
CLERK_LOGIN = "13800006666"


async def test_the_county_administrator_gives_and_takes_a_clerks_post(
    browser: Browser, servers: Servers, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    async with world_for_console(servers, monkeypatch, tmp_path, beside=(NOTIFICATION,)) as (
        world,
        console_url,
    ):
        d = world.directory
        # the county's first administrator, set up by whoever installs the system
        admin_id = await person(world, "王管理", {"role": "county_admin", "org": d.county})
        admin_code = await world.activation_code(admin_id, ADMIN_LOGIN, "county_admin")
        async with console_serving(console_settings(world, console_url, tmp_path)):
            # --- the administrator at the office desktop: her second factor, then the console
            admin = await browser.page(DESKTOP)
            await activate(admin, world, ADMIN_LOGIN, admin_code, second_factor=True)
            await admin.goto(f"{console_url}/signin")
            await admin.get_by_role("link", name="账号与职务").click()
            await admin.get_by_label("姓名", exact=True).fill("赵文静")
            await admin.get_by_role("button", name="登记").click()
            assert await admin.locator("main h2").first.inner_text() == "赵文静"
            await admin.get_by_label("职务").select_option(label="镇创先办")
            await admin.get_by_label("所在单位").select_option(label="红沙梁镇")
            await admin.get_by_role("button", name="授予").click()
            assert "镇创先办 · 红沙梁镇" in await admin.locator("#posts").inner_text()
            await admin.get_by_label("登录名（手机号或身份证号）").fill(CLERK_LOGIN)
            await admin.get_by_role("button", name="生成激活码").click()
            code = await admin.locator("#code").inner_text()
            assert re.fullmatch(r"[2-9A-Z]{4}-[2-9A-Z]{4}-[2-9A-Z]{4}", code)
            person_url = admin.url.removesuffix("/activation")
            await admin.goto(person_url)  # the code is not shown again
            assert code not in await admin.locator("main").inner_text()

            # --- the clerk, on her phone: activates, signs in, the office's pages -------------
            clerk = await browser.page(PHONE)
            await activate(clerk, world, CLERK_LOGIN, code)  # signed in at the identity service
            await clerk.goto(f"{console_url}/signin")
            menu = await clerk.get_by_role("navigation", name="主菜单").inner_text()
            assert "督查通报" in menu
            assert "账号与职务" not in menu
            await clerk.get_by_role("link", name="督查通报").click()
            await clerk.get_by_label("通报标题").fill("三月份督查通报")
            await clerk.get_by_role("button", name="发布通报").click()
            assert "三月份督查通报" in await clerk.locator("main").inner_text()
            assert "红沙梁村党支部" in await clerk.locator("main").inner_text()
            assert await horizontal_overflow(clerk) == 0

            # --- the administrator revokes the post: the clerk's next page is refused ---------
            # (the services' injected clock stood still since the start; tokens carry the real
            # moment they were issued, and a post ended before a token's issue ends nothing)
            world.identity.clock.set(datetime.now(UTC))
            await admin.get_by_role("button", name="撤销镇创先办职务").click()
            assert await admin.locator("#posts").inner_text() == "目前没有职务。"
            await clerk.get_by_role("link", name="推送渠道").click()
            # her token is refused and her sign-in ended: asked to sign in again, she has no post
            assert await clerk.locator("h2").inner_text() == "登录"
            await clerk.get_by_label("手机号或身份证号").fill(CLERK_LOGIN)
            await clerk.get_by_label("密码").fill(PASSWORD)
            await clerk.get_by_role("button", name="登录").click()
            assert "没有可用的职务" in await clerk.locator("main").inner_text()
            await clerk.goto(f"{console_url}/bulletins")
            assert "三月份督查通报" not in await clerk.locator("body").inner_text()
