"""The township office's day and the branch secretary's paper journals in a real browser
(issue 18), against the real identity, pledge and review services: at the office desktop a
clerk establishes a branch, enrols a member (a name left empty is refused beside the field,
and nothing is appended) and appoints her the branch's secretary, then follows up a ledger
item with a scanned letter and confirms the problem solved; on a 360 px phone the branch
secretary enters a member's paper journal on the member's behalf."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from services.review.app import DEFINITION as REVIEW
from tests.e2e.console_helpers import (
    console_serving,
    console_settings,
    office_clerk,
    sign_in,
    world_for_console,
)
from tests.e2e.console_stories import confirm, enter_a_paper_journal, follow_up
from tests.e2e.helpers import ok
from tests.e2e.review_helpers import publish_branch_pledge, synced
from tests.support import Servers
from tests.support.browser import DESKTOP, PHONE, Browser, horizontal_overflow


async def test_the_office_keeps_the_roll_and_the_ledger_the_secretary_a_paper_journal(
    browser: Browser, servers: Servers, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    async with world_for_console(servers, monkeypatch, tmp_path, beside=(REVIEW,)) as (
        world,
        console_url,
    ):
        d, pledge, review = world.directory, world.pledge, world.services["review"]
        clerk = await office_clerk(world)
        # a published pledge whose first item its branch reports done
        pledge_id = await publish_branch_pledge(pledge, d)
        item_id = ok(await pledge.client.get(f"/v1/pledges/{pledge_id}"))["items"][0]["item_id"]
        done = {"summary": "支渠改造完成, 已通水"}
        path = f"/v1/pledges/{pledge_id}/items/{item_id}/done"
        ok(await pledge.client.post(path, json=done, headers=d.branch_secretary))
        async with console_serving(console_settings(world, console_url, tmp_path)):
            # --- the office, at its desktop: a new branch, its member, her appointment ------
            office = await browser.page(DESKTOP)
            await sign_in(office, world, clerk, "13800005555", console_url)
            await office.get_by_role("link", name="支部与党员").click()
            assert "李秀英" in await office.locator("#members").inner_text()
            await office.get_by_label("党组织名称").fill("东风村党支部")
            await office.get_by_label("类型").select_option(label="村党组织")
            await office.get_by_label("所在村（村党组织填写）").fill("东风村")
            await office.get_by_role("button", name="成立").click()

            enrol = office.locator("form", has=office.get_by_role("button", name="入册"))
            await enrol.get_by_label("所在党组织").select_option(label="东风村党支部")
            await enrol.get_by_label("设岗定责：岗位").fill("支部书记")
            await enrol.get_by_label("岗位职责").fill("主持支部全面工作")
            await enrol.get_by_label("支部班子成员").check()
            await enrol.get_by_role("button", name="入册").click()  # the name left empty
            assert "填写的内容有误" in await office.get_by_role("alert").inner_text()
            name = office.locator("#member-name")
            assert await name.get_attribute("aria-invalid") == "true"
            assert (
                await office.locator("#err-member-name").inner_text()
                == "请填写或选择此项。"  # left empty: asked for
            )
            assert await office.locator("#member-duties").input_value() == "主持支部全面工作"
            roll = {"township_id": d.township}
            members = ok(await pledge.client.get("/v1/members", params=roll, headers=d.office))
            assert members["total"] == 2  # nothing appended

            await name.fill("王桂兰")
            await office.get_by_role("button", name="入册").click()
            assert "王桂兰" in await office.locator("#members").inner_text()
            await office.get_by_role("link", name="东风村党支部").first.click()
            await office.get_by_label("支部书记", exact=True).select_option(label="王桂兰")
            await office.get_by_role("button", name="任命").click()
            assert await office.locator("#secretary").inner_text() == "王桂兰"
            await office.set_viewport_size({"width": 360, "height": 740})  # the roll on a phone
            await office.goto(f"{console_url}/directory")
            assert await horizontal_overflow(office) == 0
            await office.set_viewport_size(DESKTOP["viewport"])

            # --- the ledger: a follow-up with a scanned letter, the problem confirmed solved -
            await follow_up(
                office,
                f"{console_url}/township?year=2027",
                "改造支渠3公里",
                tmp_path / "letter.png",
                "到现场查看, 支渠已通水",
            )
            await confirm(office, "问题已解决", "群众反映灌溉用水问题已解决")
            assert "✔ 问题已解决" in await office.locator("#confirmed").inner_text()
            seen = ok(await pledge.client.get(f"/v1/pledges/{pledge_id}"))
            assert seen["items"][0]["problem_solved"]

            # --- the secretary, on her phone: a member's paper journal entered for her ------
            await synced(pledge, review)
            secretary = await browser.page(PHONE)
            await sign_in(secretary, world, d.secretary, "13800004444", console_url)
            await secretary.get_by_role("button", name="支部书记").click()
            await secretary.get_by_role("link", name="党员纪实").click()
            assert await horizontal_overflow(secretary) == 0
            today = datetime.now(UTC).astimezone(timezone(timedelta(hours=8))).date()
            await enter_a_paper_journal(
                secretary, "李秀英", str(today), "入户宣传滴灌补贴政策", "走访农户5户, 登记需求3户"
            )
            journal = ok(
                await review.client.get(
                    f"/v1/members/{d.member}/journal", headers=d.branch_secretary
                )
            )
            assert [e["entered_by"] for e in journal["entries"]] == [d.secretary]
            await secretary.goto(f"{console_url}/directory")  # the office's page, not hers
            assert "创先办使用" in await secretary.locator("main").inner_text()
