"""The evaluation pages a reviewer found hard on a phone, in Chromium against the real pledge
and evaluation services: the office's paper-ballot grid of three branches on a 360 px phone
is one card a ballot, every select under its branch's name and inside the screen, its
sign-in sheet naming the member rater; the desktop keeps the grid. The invitation sheet opens
in the same tab at the phone's width with a way back (not printed), and closing the round
asks first."""

from __future__ import annotations

import time
from pathlib import Path

from services.console.session import SESSION_COOKIE, Sealer, Session, load_key
from services.console.settings import ConsoleSettings
from shared.embedded import free_port
from tests.e2e.console_helpers import NOWHERE, console_serving
from tests.e2e.evaluation_helpers import directory_copied, pledge_and_evaluation, township_round
from tests.e2e.helpers import Directory, eventually, ok
from tests.support import Servers
from tests.support.browser import DESKTOP, PHONE, Browser, horizontal_overflow


async def test_the_paper_grid_and_the_invitation_sheet_on_a_phone(
    browser: Browser, servers: Servers, tmp_path: Path
) -> None:
    async with pledge_and_evaluation(servers) as (pledge, evaluation, _):
        d = await Directory(pledge.client, servers).build()
        p, e = pledge.client, evaluation.client
        for name in ("东湖村党支部", "红沙梁镇机关党支部"):
            branch = {"township_id": d.township, "name": name, "kind": "village", "village": name}
            ok(await p.post("/v1/branches", json=branch, headers=d.office), 201)
        await directory_copied(evaluation, d)

        async def three_branches() -> bool:
            copy = ok(await e.get(f"/v1/directory/townships/{d.township}"))
            return len(copy["branches"]) == 3

        await eventually(three_branches, timeout=20)
        path = await township_round(evaluation, d)
        round_id = path.rsplit("/", 1)[-1]
        raters = [{"kind": "public", "name": "王淑珍"}]
        raters += [{"kind": "township_member", "member_id": d.member}]
        ok(await e.post(f"{path}/raters", json={"raters": raters}, headers=d.office), 201)

        port = free_port()
        settings = ConsoleSettings(
            port=port,
            public_url=f"http://127.0.0.1:{port}",
            identity_url=NOWHERE,
            pledge_url=str(p.base_url),
            review_url=NOWHERE,
            evaluation_url=str(e.base_url),
            notification_url=NOWHERE,
            session_key_file=tmp_path / "console.key",
        )
        async with console_serving(settings) as console_url:
            session = Session(
                access_token=servers.token("township_office", d.township, "o-1"),
                refresh_token=None,
                expires_at=time.time() + 600,
                id_token=None,
                person="o-1",
                name="赵",
                role="township_office",
                org=d.township,
            )
            sealed = Sealer(load_key(settings.session_key_file)).seal_session(session)
            cookie = {"name": SESSION_COOKIE, "value": sealed, "url": console_url}
            phone = await browser.page(PHONE)
            await phone.context.add_cookies([cookie])

            # --- the grid on a phone: a card a ballot, each select under its branch's name ---
            await phone.goto(f"{console_url}/rounds/{round_id}/paper")
            assert await horizontal_overflow(phone) == 0
            assert await phone.locator("#grid thead").is_hidden()
            for name in ("红沙梁村党支部", "东湖村党支部", "红沙梁镇机关党支部"):
                cell = phone.get_by_label(f"第1张 {name}")
                box = await cell.bounding_box()
                assert box is not None
                assert box["x"] >= 0
                assert box["x"] + box["width"] <= 360, name  # no column off the screen
                label = await cell.evaluate(
                    "s => getComputedStyle(s.closest('td'), '::before').content"
                )
                assert name in label
            signed = await phone.locator("#signed").inner_text()
            assert "李秀英（乡镇党员）" in signed
            assert d.member not in signed
            for name in ("红沙梁村党支部", "东湖村党支部", "红沙梁镇机关党支部"):
                await phone.get_by_label(f"第1张 {name}").select_option(label="满意")
            await phone.get_by_label("李秀英（乡镇党员）").check()
            await phone.get_by_role("button", name="录入这一叠选票").click()
            assert phone.url == f"{console_url}/rounds/{round_id}"
            assert ok(await e.get(f"{path}/turnout"))["voted"] == 1

            # --- the desktop keeps the grid ------------------------------------------------
            desk = await browser.page(DESKTOP)
            await desk.context.add_cookies([cookie])
            await desk.goto(f"{console_url}/rounds/{round_id}/paper")
            assert await desk.locator("#grid thead").is_visible()
            first = await desk.get_by_label("第1张 红沙梁村党支部").bounding_box()
            second = await desk.get_by_label("第1张 东湖村党支部").bounding_box()
            assert first is not None
            assert second is not None
            assert abs(first["y"] - second["y"]) < 2  # side by side, one row a ballot

            # --- the invitation sheet in the same tab, at the phone's width, a way back -----
            pages = len(phone.context.pages)
            await phone.get_by_role("button", name="打印邀请码").click()
            assert len(phone.context.pages) == pages  # no new tab to lose
            assert "评议邀请码" in await phone.locator(".slip").first.inner_text()
            assert await phone.evaluate("document.documentElement.clientWidth") == 360
            assert await horizontal_overflow(phone) == 0
            await phone.emulate_media(media="print")
            assert await phone.locator("#back").is_hidden()
            await phone.emulate_media(media="screen")
            await phone.locator("#back a").click()
            assert phone.url == f"{console_url}/rounds/{round_id}"

            # --- closing asks first ---------------------------------------------------------
            await phone.get_by_role("link", name="结束评议并公布结果").click()
            assert ok(await e.get(path))["status"] == "open"
            assert "无法撤销" in await phone.locator("main").inner_text()
            assert await horizontal_overflow(phone) == 0
            await phone.get_by_role("button", name="确认结束并公布结果").click()
            assert phone.url == f"{console_url}/rounds/{round_id}/results"
            assert ok(await e.get(path))["status"] == "closed"
