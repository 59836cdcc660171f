"""The township's leaders and the selection in a real browser (issues 18 and 20), against the
real identity, pledge, review and evaluation services: the township head reviews a branch
with every dimension (one left out is refused beside it, and nothing is recorded) and
records a guidance visit with a photo at the office desktop; the office opens the year's
selection, the branch secretary nominates her branch on her phone, the office scores, the
committee decides with its own reason beside the composite score and its parts, the office
posts the notice and records an objection brought in person, the committee answers it."""

from __future__ import annotations

from pathlib import Path

import pytest

from services.evaluation.app import DEFINITION as EVALUATION
from services.review.app import DEFINITION as REVIEW
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
from tests.e2e.console_stories import guidance_visit, main_text, review_every_dimension
from tests.e2e.helpers import eventually, ok
from tests.support import Servers
from tests.support.browser import DESKTOP, PHONE, Browser, horizontal_overflow


async def test_reviews_visits_and_the_selection_in_the_console(
    browser: Browser, servers: Servers, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    async with world_for_console(servers, monkeypatch, tmp_path, beside=(REVIEW, EVALUATION)) as (
        world,
        console_url,
    ):
        d = world.directory
        review, evaluation = world.services["review"].client, world.services["evaluation"].client
        await township_head(world)
        clerk = await office_clerk(world)

        async def head_copied() -> bool:
            branch = await review.get(f"/v1/directory/branches/{d.branch}")
            return branch.status_code == 200 and branch.json()["head_id"] == HEAD

        await eventually(head_copied)
        await township_copied(world, d.branch)
        async with console_serving(console_settings(world, console_url, tmp_path)):
            # --- the head reviews the branch, every dimension --------------------------------
            head = await browser.page(DESKTOP)
            await sign_in(head, world, HEAD, "13800003333", console_url)
            await review_every_dimension(head, review, d)

            # --- a guidance visit with a photo ------------------------------------------------
            await guidance_visit(head, review, d, tmp_path / "visit.jpg")

            # --- the office opens the selection ----------------------------------------------
            office = await browser.page(DESKTOP)
            await sign_in(office, world, clerk, "13800005555", console_url)
            await office.get_by_role("link", name="评选表彰").click()
            await office.get_by_label("评选名称").fill("先进基层党组织评选")
            await office.get_by_role("button", name="开始评选").click()
            assert await office.locator("#stage").inner_text() == "待确定评选办法"
            await office.get_by_label("各轮入围名额（多轮用逗号分隔）").fill("1")
            await office.get_by_role("button", name="保存评选办法").click()
            assert await office.locator("#stage").inner_text() == "推荐中"
            selection_url = office.url

            # --- the secretary nominates her branch, on her phone ---------------------------
            secretary = await browser.page(PHONE)
            await sign_in(secretary, world, d.secretary, "13800004444", console_url)
            await secretary.get_by_role("button", name="支部书记").click()
            await secretary.get_by_role("link", name="评选推荐").click()
            await secretary.get_by_role("link", name="先进基层党组织评选").click()
            await secretary.get_by_label("推荐理由").fill("节水灌溉带动全村增收")
            await secretary.get_by_role("button", name="提交推荐").click()
            assert "推荐理由：节水灌溉带动全村增收" in await main_text(secretary)
            assert "支部推荐" in await main_text(secretary)
            assert await horizontal_overflow(secretary) == 0
            await secretary.get_by_role("link", name="点评党员").click()  # her branch's
            branch_page = await main_text(secretary)
            assert "李秀英" in branch_page  # she reviews the members outside the team
            assert "承诺践诺：合格" in branch_page  # the head's review, in the branch's ledger
            assert await horizontal_overflow(secretary) == 0
            await secretary.goto(f"{console_url}/visits")  # the township's page, not hers
            assert "乡镇党委和创先办使用" in await main_text(secretary)

            # --- the office scores; the committee decides, in its own words -----------------
            await office.reload()
            await office.get_by_role("button", name="计算第1轮得分").click()
            assert await office.locator("#stage").inner_text() == "第1轮待镇党委决定"
            stage = await office.locator("#stage-1").inner_text()
            assert "综合得分" in stage
            assert "领导点评" in stage  # the parts beside the composite
            assert await office.get_by_role("button", name="提交镇党委决定").count() == 0

            await head.goto(selection_url)
            await head.get_by_label("入围", exact=True).check()
            await head.get_by_role("button", name="提交镇党委决定").click()  # no reason
            assert await head.locator("#err-decisions-0-reason").count() == 1
            assert await head.locator("#stage").inner_text() == "第1轮待镇党委决定"
            await head.get_by_label("红沙梁村党支部：理由").fill("镇党委研究认为该支部带富成效突出")
            await head.get_by_role("button", name="提交镇党委决定").click()
            assert (
                "入围：镇党委研究认为该支部带富成效突出"
                in await head.locator("#stage-1").inner_text()
            )
            assert await head.get_by_role("button", name="发布公示").count() == 0

            # --- notice, an objection brought in person, the committee's answer -------------
            await office.reload()
            await office.get_by_role("button", name="发布公示").click()
            assert (await office.locator("#stage").inner_text()).startswith("公示中")
            await office.get_by_label("异议内容（来访、来信或来电）").fill(
                "群众来访反映账目公开不及时"
            )
            await office.get_by_role("button", name="记录异议").click()
            assert "（来访，创先办记录）" in await office.locator("#objections").inner_text()

            await head.reload()
            await head.get_by_label("答复").fill("经核实账目已按月公开，异议不成立")
            await head.get_by_label("异议不成立", exact=True).check()
            await head.get_by_role("button", name="提交答复").click()
            objections = await head.locator("#objections").inner_text()
            assert "答复：经核实账目已按月公开，异议不成立（异议不成立）" in objections
            selection_id = selection_url.rsplit("/", 1)[1]
            listed = ok(await evaluation.get("/v1/selections", params={"township_id": d.township}))
            assert [s["selection_id"] for s in listed["rows"]] == [selection_id]
            other = {"township_id": d.other_township}
            assert ok(await evaluation.get("/v1/selections", params=other))["total"] == 0
            [answered] = ok(await evaluation.get(f"/v1/selections/{selection_id}"))["objections"]
            assert answered["in_person"] is True
            assert answered["upheld"] is False
