"""The selection at each level and the commendation, in a real browser (issues 18 and 20
items 2-4), against the real identity, pledge and evaluation services, the services' clock
moved to the days around July 1: the township office opens the members' selection and
nominates, the committee decides with its reason and, the notice over, issues the
commendation; the county's administrator opens the county's selection (a nomination of a
township's winner without a reason refused beside it, nothing appended), the township's
office puts its winner up from its own page, the administrator scores and decides in its
own words beside the score's parts (a decision without one refused beside it), posts the
notice, records an objection brought in person, answers it and issues the county's
commendation, the township's committee reading it without a step to take; the branch
secretary, on her phone, holds her branch's own selection of its members from opening to
commendation."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from services.evaluation.app import DEFINITION as EVALUATION
from tests.e2e.console_helpers import (
    HEAD,
    console_serving,
    console_settings,
    office_clerk,
    person,
    sign_in,
    township_copied,
    township_head,
    world_for_console,
)
from tests.e2e.console_stories import (
    decide,
    nominate,
    open_selection,
    stage_of,
    township_commends,
)
from tests.e2e.helpers import event_count, ok
from tests.support import Servers
from tests.support.browser import DESKTOP, PHONE, Browser, horizontal_overflow


def at(day: str) -> datetime:
    """10:00 in China on the day."""
    return datetime.fromisoformat(f"{day}T02:00:00+00:00").astimezone(UTC)


async def test_county_and_branch_selections_and_the_commendation_in_the_console(
    browser: Browser, servers: Servers, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    async with world_for_console(servers, monkeypatch, tmp_path, beside=(EVALUATION,)) as (
        world,
        console_url,
    ):
        d = world.directory
        evaluation = world.services["evaluation"]
        e = evaluation.client
        await township_head(world)
        clerk = await office_clerk(world)
        admin_id = await person(world, "王管理", {"role": "county_admin", "org": d.county})
        await township_copied(world, d.member)
        async with console_serving(console_settings(world, console_url, tmp_path)):
            head = await browser.page(DESKTOP)
            await sign_in(head, world, HEAD, "13800003333", console_url)
            office = await browser.page(DESKTOP)
            await sign_in(office, world, clerk, "13800005555", console_url)
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
            secretary = await browser.page(PHONE)
            await sign_in(secretary, world, d.secretary, "13800004444", console_url)
            await secretary.get_by_role("button", name="支部书记").click()
            # the services' clock to the days of the selection (signed in first: a post is
            # granted at the services' time, a token carries the real one)
            clock = world.identity.clock
            clock.set(at("2027-06-22"))

            # --- the township selects its members; the committee issues the commendation --
            township_url = await township_commends(office, head, clock, at("2027-07-01"))

            # --- the county selects from the townships' winners ------------------------------
            menu = await county.get_by_role("navigation", name="主菜单").inner_text()
            assert "评选表彰" in menu
            answer = await county.goto(township_url)  # the township's: read, not the county's to do
            assert answer is not None
            assert answer.status == 200
            assert "此处只读" in await county.locator("main").inner_text()
            assert await county.locator("main").get_by_role("button").count() == 0
            county_url = await open_selection(county, "2027年度全县优秀共产党员")
            assert "县级评选" in await county.locator("main").inner_text()
            before = await event_count(evaluation)
            await nominate(county, "张建国（红沙梁镇）", "")  # no reason
            assert await county.locator("#reason").get_attribute("aria-invalid") == "true"
            assert await county.locator("#err-reason").count() == 1
            assert await event_count(evaluation) == before  # nothing appended
            # the township's office puts its own winner up, from its selections' page
            await office.get_by_role("link", name="评选表彰").click()
            await office.locator("#county-selections").get_by_role("link").click()
            assert office.url == county_url
            await nominate(office, "张建国（红沙梁镇）", "镇级优秀共产党员，带领节水改造")
            candidates = await office.locator("#candidates").inner_text()
            assert "推荐理由：镇级优秀共产党员，带领节水改造" in candidates
            assert "创先办推荐" in candidates
            assert await office.get_by_role("button", name="计算第1轮得分").count() == 0
            await county.goto(county_url)  # not a reload: its page is the refused form's answer
            await county.get_by_role("button", name="计算第1轮得分").click()
            assert await stage_of(county) == "第1轮待县委决定"
            stage = await county.locator("#stage-1").inner_text()
            assert "综合得分" in stage
            assert "评星定级：无数据" in stage  # the parts beside the composite
            await county.get_by_label("入围", exact=True).check()
            await county.get_by_role("button", name="提交县委决定").click()  # no reason
            assert await county.locator("#err-decisions-0-reason").count() == 1
            assert await stage_of(county) == "第1轮待县委决定"
            await decide(county, 1, "张建国", True, "全县节水示范，群众公认")
            await county.get_by_role("button", name="提交县委决定").click()
            assert "入围：全县节水示范，群众公认" in await county.locator("#stage-1").inner_text()
            await county.get_by_role("button", name="发布公示").click()
            assert (await stage_of(county)).startswith("公示中")
            await county.get_by_label("异议内容（来访、来信或来电）").fill("群众来信反映带头作用")
            await county.get_by_role("button", name="记录异议").click()
            assert "（来访，县里记录）" in await county.locator("#objections").inner_text()
            await county.get_by_label("答复").fill("经核实所反映情况属实但属表扬，异议不成立")
            await county.get_by_label("异议不成立", exact=True).check()
            await county.get_by_role("button", name="提交答复").click()
            await head.goto(county_url)  # the township's committee reads it, does not act
            assert "拟表彰：张建国" in await head.locator("#notice").inner_text()
            assert await head.get_by_role("button").filter(has_text="发布").count() == 0
            for deciding in ("提交县委决定", "提交答复"):  # it may object (提交异议), not decide
                assert await head.get_by_role("button").filter(has_text=deciding).count() == 0
            clock.set(at("2027-07-07"))
            await county.goto(county_url)
            await county.get_by_role("button", name="发布表彰决定").click()
            assert await stage_of(county) == "已表彰"
            county_id = county_url.rsplit("/", 1)[1]
            issued = ok(await e.get(f"/v1/selections/{county_id}"))["finalists"]
            held = ok(await e.get("/v1/commendations", params={"county_id": d.county}))
            by_level = {c["level"]: c for c in held}  # the townships' and the county's own
            assert sorted(by_level) == ["county", "township"]
            awarded = by_level["county"]
            earlier = {"county_id": d.county, "year": 2026}
            assert ok(await e.get("/v1/commendations", params=earlier)) == []
            assert issued == [d.secretary]
            assert [(a["subject_id"], a["reason"]) for a in awarded["awardees"]] == [
                (d.secretary, "全县节水示范，群众公认")
            ]

            # --- the secretary holds her branch's own selection, on her phone ---------------
            branch_url = await open_selection(secretary, "支部优秀党员评选", members=False)
            assert "支部评选" in await secretary.locator("main").inner_text()
            await nominate(secretary, "李秀英（红沙梁村党支部）", "推广滴灌带动十户")
            await nominate(secretary, "张建国（红沙梁村党支部）", "带领班子攻坚")
            assert "支部推荐" in await secretary.locator("#candidates").inner_text()
            assert await secretary.get_by_role("button", name="提交推荐").count() == 0  # all named
            await secretary.get_by_role("button", name="计算第1轮得分").click()
            assert await stage_of(secretary) == "第1轮待支部决定"
            await decide(secretary, 1, "李秀英", True, "支委会研究：滴灌示范群众认可")
            await decide(secretary, 1, "张建国", False, "已获县级表彰，推荐他人")
            await secretary.get_by_role("button", name="提交支部决定").click()
            decided = await secretary.locator("#stage-1").inner_text()
            assert "未入围：已获县级表彰，推荐他人" in decided
            assert await horizontal_overflow(secretary) == 0
            await secretary.get_by_role("button", name="发布公示").click()
            clock.set(at("2027-07-13"))
            await secretary.goto(branch_url)
            await secretary.get_by_role("button", name="发布表彰决定").click()
            assert await stage_of(secretary) == "已表彰"
            assert await horizontal_overflow(secretary) == 0
            branch_id = branch_url.rsplit("/", 1)[1]
            shown = ok(await e.get(f"/v1/selections/{branch_id}"))
            assert (shown["level"], shown["organisation_id"]) == ("branch", d.branch)
            assert shown["finalists"] == [d.member]
            assert shown["stages"][0]["decided_by"] == "branch"
            await office.goto(branch_url)  # the township's office reads it, does not act
            assert await office.get_by_role("button").filter(has_text="提交").count() == 0
