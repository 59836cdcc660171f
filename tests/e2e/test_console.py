"""The console in a real browser (issue 18), against the real identity and pledge services:
a member drafts and proposes her pledge on a phone (a wrong field is answered beside it, in
Chinese, and appends nothing), the township head reviews it item by item on a desktop, the
branch secretary, who holds two posts, chooses which hat to wear and publishes it; each sees
only the pages of their post."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from openpyxl import load_workbook

from services.evaluation.app import DEFINITION as EVALUATION
from tests.e2e.console_helpers import (
    HEAD,
    console_serving,
    console_settings,
    office_clerk,
    sign_in,
    township_copied,
    township_head,
    world_for_console,
)
from tests.e2e.console_stories import (
    draft_on_a_phone,
    publish_as_secretary,
    report_progress,
    review_the_pledge_of,
    status_of,
)
from tests.e2e.helpers import ok
from tests.support import Servers
from tests.support.browser import DESKTOP, PHONE, Browser


async def test_a_pledge_from_draft_to_publication_in_the_console(
    browser: Browser, servers: Servers, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    async with world_for_console(servers, monkeypatch, tmp_path) as (world, console_url):
        d = world.directory
        await township_head(world)
        async with console_serving(console_settings(world, console_url, tmp_path)):
            # --- the member, on her phone ---------------------------------------------------
            member = await browser.page(PHONE)
            await sign_in(member, world, d.member, "13800002222")
            await member.goto(console_url)
            await member.get_by_role("link", name="登录").click()
            pledge_url = await draft_on_a_phone(member)

            await member.goto(f"{console_url}/review")  # not her post's page
            assert "乡镇党委和创先办使用" in await member.locator("main").inner_text()

            # --- the township head, at the office desktop -----------------------------------
            head = await browser.page(DESKTOP)
            await sign_in(head, world, HEAD, "13800003333", console_url)
            await review_the_pledge_of(head, "李秀英", "通过", "注意带动困难户")
            assert await status_of(head) == "已审定"
            assert "注意带动困难户" in await head.locator("main").inner_text()

            # --- the secretary holds two posts: she chooses to act as the secretary ---------
            secretary = await browser.page(PHONE)
            await sign_in(secretary, world, d.secretary, "13800004444", console_url)
            assert "选择身份" in await secretary.locator("h2").inner_text()
            await secretary.get_by_role("button", name="支部书记").click()
            await publish_as_secretary(secretary, pledge_url)
            await secretary.goto(f"{console_url}/pledge")  # a member's page, not this hat's
            assert "请切换到党员身份" in await secretary.locator("main").inner_text()

            # the member sees her pledge published and reports progress with a phone photo
            await report_progress(
                member, pledge_url, tmp_path / "progress.jpg", "已完成滴灌带铺设120亩", 40
            )
            pledge_id = pledge_url.rsplit("/", 1)[1]
            seen = ok(await world.pledge.client.get(f"/v1/pledges/{pledge_id}"))
            [reported] = [a for a in seen["activity"] if a["kind"] == "progress"]
            assert [f["media_type"] for f in reported["detail"]["files"]] == ["image/jpeg"]
            await member.get_by_role("button", name="退出").click()
            assert "您已安全退出" in await member.locator("main").inner_text()
            # signed out of the identity service too: the next person at this phone or a
            # shared office PC is asked for a password, not let in as her
            await member.goto(f"{console_url}/pledge")
            assert await member.locator("h2").inner_text() == "登录"
            assert await member.get_by_label("密码").count() == 1


async def test_the_office_prints_a_rounds_invitations_from_the_console(
    browser: Browser, servers: Servers, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """E1 with issue 17: a clerk of the township office, an account the county administrator
    granted, opens the rounds page at the office desktop and prints the invitation slips."""
    async with world_for_console(servers, monkeypatch, tmp_path, beside=(EVALUATION,)) as (
        world,
        console_url,
    ):
        d, evaluation = world.directory, world.services["evaluation"].client
        clerk = await office_clerk(world)
        await township_copied(world, d.branch)
        today = datetime.now(UTC).astimezone(timezone(timedelta(hours=8))).date()
        opening = {"title": "群众评议", "year": today.year, "half": 2 if today.month > 6 else 1}
        opening |= {"township_id": d.township, "opens_on": str(today)}
        round_id = ok(await evaluation.post("/v1/rounds", json=opening, headers=d.office), 201)[
            "id"
        ]
        public = [{"kind": "public", "name": f"群众代表{n}"} for n in range(3)]
        ok(
            await evaluation.post(
                f"/v1/rounds/{round_id}/raters", json={"raters": public}, headers=d.office
            ),
            201,
        )
        async with console_serving(console_settings(world, console_url, tmp_path)):
            page = await browser.page(DESKTOP)
            await sign_in(page, world, clerk, "13800005555", console_url)
            await page.get_by_role("link", name="评议").click()
            assert "评议人 3 人，已发邀请码 0 人" in await page.locator("main").inner_text()
            await page.get_by_role("button", name="打印邀请码").click()  # in the same tab
            text = await page.locator("body").inner_text()
            assert len(re.findall(r"[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}", text)) == 3
            await page.locator("#back a").click()  # back to the rounds
            assert "已发邀请码 3 人" in await page.locator("main").inner_text()

            # the roster, as the office keeps it in Excel: template, a bad row, then a good one
            await page.get_by_role("link", name="名册导入").click()
            async with page.expect_download() as downloading:
                await page.get_by_role("link", name="下载名册模板").click()
            template = tmp_path / "roster.xlsx"
            await (await downloading.value).save_as(template)
            book = load_workbook(template)
            book["党员"].append(["", "赵敏", "没有这个支部", "党员", "宣传", "否"])
            book.save(tmp_path / "bad.xlsx")
            await page.get_by_label("名册文件（.xlsx，或 CSV）").set_input_files(
                str(tmp_path / "bad.xlsx")
            )
            await page.get_by_role("button", name="上传并预览").click()
            assert await page.locator("#state").inner_text() == "文件有错误，未导入"
            assert "没有这个支部" in await page.locator("#errors").inner_text()
            book["党员"].cell(row=book["党员"].max_row, column=3).value = "红沙梁村党支部"
            book.save(tmp_path / "good.xlsx")
            await page.get_by_role("link", name="返回名册导入").click()
            await page.get_by_label("名册文件（.xlsx，或 CSV）").set_input_files(
                str(tmp_path / "good.xlsx")
            )
            await page.get_by_role("button", name="上传并预览").click()
            assert await page.locator("#state").inner_text() == "预览：尚未导入"
            assert "赵敏" in await page.locator("#changes").inner_text()
            await page.get_by_role("button", name="确认导入").click()
            assert await page.locator("#state").inner_text() == "已导入"
            branch = ok(await world.pledge.client.get(f"/v1/branches/{d.branch}"))
            assert "赵敏" in {m["name"] for m in branch["members"]}
