"""On a phone, a branch secretary activates her account, signs in through the identity
service's pages, chooses to act as the branch's secretary, and the token the console gets
for her acts on the pledge service."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.async_api import Route

from tests.e2e.helpers import ok
from tests.e2e.identity_helpers import (
    LOGIN,
    PASSWORD,
    REDIRECT,
    authorize_url,
    identity_beside_pledge,
    pkce,
)
from tests.support import Servers
from tests.support.browser import PHONE, Browser, horizontal_overflow


async def test_a_secretary_signs_in_on_a_phone_and_acts_with_her_token(
    browser: Browser, servers: Servers, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    async with identity_beside_pledge(servers, monkeypatch, tmp_path) as world:
        code = await world.activation_code(world.directory.secretary)
        page = await browser.page(PHONE)
        arrived: list[str] = []

        async def console(route: Route) -> None:  # the console's callback, standing in
            arrived.append(route.request.url)
            await route.fulfill(body="<p id=back>返回控制台</p>", content_type="text/html")

        await page.route(f"{REDIRECT}**", console)

        await page.goto(f"{world.base}/activate")
        assert await horizontal_overflow(page) == 0
        await page.get_by_label("手机号或身份证号").fill(LOGIN)
        await page.get_by_label("激活码").fill(code.lower().replace("-", " "))
        await page.get_by_label("新密码").fill(PASSWORD)
        await page.get_by_label("再次输入").fill(PASSWORD)
        await page.get_by_role("button", name="激活并登录").click()
        assert "已登录" in await page.locator("h2").inner_text()

        verifier, challenge = pkce()
        await page.goto(authorize_url(world.base, challenge))
        assert "选择身份" in await page.locator("h2").inner_text()
        assert await horizontal_overflow(page) == 0
        await page.get_by_role("button", name="支部书记").click()
        await page.locator("#back").wait_for()

        code_param = arrived[0].split("code=")[1].split("&")[0]
        tokens = ok(
            await world.identity.client.post(
                "/token",
                data={
                    "grant_type": "authorization_code",
                    "code": code_param,
                    "client_id": "console",
                    "redirect_uri": REDIRECT,
                    "code_verifier": verifier,
                },
            )
        )
        bearer = {"Authorization": f"Bearer {tokens['access_token']}"}
        body = {"year": 2027, "branch_id": world.directory.branch}
        ok(await world.pledge.client.post("/v1/pledges", json=body, headers=bearer), 201)
