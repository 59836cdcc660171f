"""Finding a person, and the auditor's read-only channels, in a real browser against the real
identity, pledge and notification services: the county administrator, on a 360 px phone, finds
a person by part of her name and another by the phone number he signs in with (the number in
no address the browser keeps); the county's auditor, at a desktop, reads the delivery channels
and the deliveries with no form to change them. The rest (paging, refusals, other posts) is
in tests/unit/test_console_people.py."""

from __future__ import annotations

from functools import partial
from pathlib import Path

import pytest

from services.notification.app import DEFINITION as NOTIFICATION
from tests.e2e.console_helpers import (
    console_serving,
    console_settings,
    person,
    sign_in,
    world_for_console,
)
from tests.e2e.helpers import eventually, ok
from tests.e2e.identity_helpers import SignedByIdentity, SignInWorld
from tests.support import Servers
from tests.support.browser import DESKTOP, PHONE, Browser, horizontal_overflow

ADMIN_LOGIN, AUDITOR_LOGIN = "110101199003070011", "110101199104080022"
CLERK_LOGIN = "13800007777"
# a county post's first sign-in: the administrator issues the code, a second factor enrolled
county_post = partial(sign_in, by="county_admin", second_factor=True)


async def a_delivery(world: SignInWorld) -> None:
    """A county robot for bulletins (its address a secret no page shows), and a bulletin the
    township's office issues for it to carry."""
    robot = {
        "county_id": world.directory.county,
        "kind": "wecom",
        "name": "全县工作群",
        "target": "http://127.0.0.1:9/cgi-bin/webhook/send?key=robot-secret-key",
        "release_types": ["bulletin"],
    }
    signer = SignedByIdentity(world.identity.runtime.components["provider"])
    admin = signer.auth("county_admin", world.directory.county)
    notification = world.services["notification"].client
    ok(await notification.post("/v1/channels", json=robot, headers=admin), 201)
    office = signer.auth("township_office", world.directory.township)
    path = f"/v1/townships/{world.directory.township}/bulletins"
    ok(await notification.post(path, json={"title": "三月份督查通报"}, headers=office), 201)

    async def scheduled() -> bool:
        listed = await notification.get(
            "/v1/deliveries", params={"county_id": world.directory.county}, headers=admin
        )
        return bool(ok(listed)["deliveries"])

    await eventually(scheduled)


async def test_the_administrator_finds_people_and_the_auditor_reads_channels(
    browser: Browser, servers: Servers, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    async with world_for_console(servers, monkeypatch, tmp_path, beside=(NOTIFICATION,)) as (
        world,
        console_url,
    ):
        d = world.directory
        admin_id = await person(world, "王管理", {"role": "county_admin", "org": d.county})
        auditor_id = await person(world, "刘审计", {"role": "auditor", "org": d.county})
        clerk_id = await person(world, "赵文静", {"role": "township_office", "org": d.township})
        await world.activation_code(clerk_id, CLERK_LOGIN)
        await a_delivery(world)
        async with console_serving(console_settings(world, console_url, tmp_path)):
            # --- the administrator on her phone finds 李秀英 by part of her name -------------
            admin = await browser.page(PHONE)
            await county_post(admin, world, admin_id, ADMIN_LOGIN, console_url)
            await admin.get_by_role("link", name="账号与职务").click()
            await admin.get_by_label("按姓名查找").fill("秀英")
            await admin.get_by_role("button", name="查找").first.click()
            listed = await admin.locator("#people").inner_text()
            assert "李秀英" in listed
            assert "张建国" not in listed
            assert await horizontal_overflow(admin) == 0
            await admin.get_by_role("link", name="李秀英").click()
            assert await admin.locator("main h2").first.inner_text() == "李秀英"

            # --- and the clerk by her login name: her page, the number in no address ----------
            await admin.get_by_role("link", name="账号与职务").click()
            asked: list[str] = []
            admin.on("request", lambda request: asked.append(request.url))
            await admin.get_by_label("按登录名查找").fill(CLERK_LOGIN)
            await admin.get_by_role("button", name="查找").nth(1).click()
            assert await admin.locator("main h2").first.inner_text() == "赵文静"
            assert admin.url.endswith(f"/accounts/{clerk_id}")
            assert asked  # the way there: the number in no address asked
            assert not [url for url in asked if CLERK_LOGIN in url]

            # --- the auditor at a desktop: the channels and deliveries, read only -------------
            auditor = await browser.page(DESKTOP)
            await county_post(auditor, world, auditor_id, AUDITOR_LOGIN, console_url)
            await auditor.get_by_role("link", name="推送渠道").click()
            main = auditor.locator("main")
            assert "全县工作群" in await main.inner_text()
            assert "robot-secret-key" not in await auditor.content()
            assert await main.locator("form").count() == 0
            assert await main.get_by_role("button").count() == 0
            await main.get_by_role("link", name="推送记录").click()
            assert "全部推送记录" in await main.inner_text()
            assert "三月份督查通报" in await main.locator("#deliveries").inner_text()
            assert await main.get_by_role("button", name="重新推送").count() == 0
