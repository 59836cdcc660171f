"""The auditor's and the member's pages in a real browser (issue 18), against the real
identity, pledge and evaluation services: an auditor at a desktop signs a checkpoint,
downloads the log's export (which verifies offline), reads a round's and a satisfaction
check's ballot audits, then looks at the checks as of the day before the check was opened and
sees none; a member on a 360 px phone finds the round she was invited to rate in, with the
voting page."""

from __future__ import annotations

import re
import zipfile
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from playwright.async_api import expect

from services.evaluation.app import DEFINITION as EVALUATION
from services.pledge.app import DEFINITION as PLEDGE
from services.review.app import DEFINITION as REVIEW
from shared.audit.verify import verify_bundle
from shared.clock import FixedClock
from tests.e2e.console_helpers import (
    Console,
    console_serving,
    console_settings,
    person,
    sign_in,
    township_copied,
    world_for_console,
)
from tests.e2e.evaluation_helpers import check_of_a_finished_item
from tests.e2e.helpers import Directory, eventually, ok
from tests.e2e.review_helpers import review_body, synced
from tests.support import Servers, running
from tests.support.browser import DESKTOP, PHONE, Browser, horizontal_overflow

CHINA = timezone(timedelta(hours=8))
AUDITOR_LOGIN = "110101199003070011"


async def test_an_auditor_looks_back_and_a_member_finds_her_round(
    browser: Browser, servers: Servers, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    async with world_for_console(servers, monkeypatch, tmp_path, beside=(EVALUATION,)) as (
        world,
        console_url,
    ):
        d, evaluation = world.directory, world.services["evaluation"].client
        auditor = await person(world, "审计员周明", {"role": "auditor", "org": d.county})
        await township_copied(world, d.branch)
        # a round of the township: the member and two of the public rate the branch; the
        # member is invited to vote from her phone, one of the public handed in paper
        today = datetime.now(UTC).astimezone(CHINA).date()
        opening = {"title": "支部群众评议", "year": today.year, "half": 2 if today.month > 6 else 1}
        opening |= {"township_id": d.township, "opens_on": str(today)}
        round_id = ok(await evaluation.post("/v1/rounds", json=opening, headers=d.office), 201)[
            "id"
        ]
        raters = [{"kind": "township_member", "member_id": d.member}]
        raters += [{"kind": "public", "organisation_id": "public"} for _ in range(2)]
        registered = ok(
            await evaluation.post(
                f"/v1/rounds/{round_id}/raters", json={"raters": raters}, headers=d.office
            ),
            201,
        )["rater_ids"]
        invite = {"rater_ids": [d.member]}
        ok(
            await evaluation.post(
                f"/v1/rounds/{round_id}/invitations", json=invite, headers=d.office
            ),
            201,
        )
        paper = {
            "channel": "paper",
            "participants": [registered[1]],
            "ballots": [{d.branch: "satisfied"}],
        }
        ok(
            await evaluation.post(
                f"/v1/rounds/{round_id}/paper-ballots", json=paper, headers=d.office
            ),
            201,
        )

        # an item done, solved and verified by the office: its satisfaction check opens (E8)
        await check_of_a_finished_item(
            world.pledge, world.services["evaluation"], d, "改造支渠3公里"
        )

        settings = console_settings(
            world, console_url, tmp_path, vote_url=f"{str(evaluation.base_url).rstrip('/')}/vote"
        )
        async with console_serving(settings):
            # --- the auditor, at a desktop: activation and the one-time code she must use --
            page = await browser.page(DESKTOP)
            await sign_in(
                page,
                world,
                auditor,
                AUDITOR_LOGIN,
                console_url,
                by="county_admin",
                second_factor=True,
            )

            # checkpoints: sign one now, then export the township's log and verify it offline
            await page.get_by_role("link", name="检查点与导出").click()
            await expect(page.locator("main")).to_contain_text("还没有检查点")
            await page.get_by_role("button", name="立即签名一个检查点").click()
            await expect(page.locator("#checkpoints tbody tr")).to_have_count(1)
            await page.get_by_label("范围").select_option(d.township)
            async with page.expect_download() as downloading:
                await page.get_by_role("button", name="下载导出包").click()
            archive = tmp_path / "bundle.zip"
            await (await downloading.value).save_as(archive)
            with zipfile.ZipFile(archive) as bundle:
                bundle.extractall(tmp_path / "bundle")
            report = verify_bundle(tmp_path / "bundle")
            assert report.signed, report.problems  # every event under the signed checkpoint
            assert list(report.coverage) == [d.township]  # that township's log only
            assert report.events > 0

            # the round's ballot audit, from the round's page
            await page.get_by_role("link", name="评议审计").click()
            await page.locator(f'a[href="/rounds?township_id={d.township}"]').click()
            await page.get_by_role("link", name="支部群众评议").click()
            await page.get_by_role("link", name="审计本次评议").click()
            await expect(page.locator("#verdict")).to_contain_text("选票与登记的评议人一致")
            counted = {"登记评议人": "3", "参评人数": "1", "选票": "1", "待入箱": "0"}
            for label, number in counted.items():
                assert await page.locator(f'td[data-label="{label}"]').first.inner_text() == number

            # the finished item's satisfaction check and its audit
            await page.get_by_role("link", name="测评审计").click()
            await page.get_by_label("乡镇").select_option(d.township)
            await page.get_by_role("button", name="查看测评").click()
            await page.wait_for_url(re.compile(r"township_id="))
            checks_url = page.url
            await page.get_by_role("link", name="改造支渠3公里").click()
            await expect(page.locator("#verdict")).to_contain_text("选票与登记的评议人一致")

            # as of the day before: the check was not there yet, on this page as on any
            await page.goto(checks_url)
            await page.get_by_label("查看过去某日的记录").fill(str(today - timedelta(days=1)))
            await page.get_by_role("button", name="查看", exact=True).click()
            yesterday = today - timedelta(days=1)
            banner = f"正在查看 {yesterday.year}年{yesterday.month}月{yesterday.day}日 的记录"
            await expect(page.locator("#as-of-banner")).to_contain_text(banner)
            assert page.url == checks_url  # back on the page it was chosen from
            await expect(page.locator("#no-checks")).to_have_count(1)
            await page.get_by_role("button", name="回到今天").click()
            await expect(page.locator("#as-of-banner")).to_have_count(0)
            assert "改造支渠3公里" in await page.locator("#checks").inner_text()
            # the checkpoints' long hashes fit a phone too
            await page.set_viewport_size({"width": 360, "height": 740})
            await page.goto(f"{console_url}/audit")
            assert await horizontal_overflow(page) == 0

            # --- the member, on her phone: the round she was invited to, and how to vote -----
            member = await browser.page(PHONE)
            await sign_in(member, world, d.member, "13800002222", console_url)
            await member.get_by_role("link", name="评议投票").click()
            listed = await member.locator("#open-rounds").inner_text()
            assert "支部群众评议" in listed
            link = member.get_by_role("link", name="去投票")
            assert await link.get_attribute("href") == settings.vote_url
            assert await horizontal_overflow(member) == 0
            await member.goto(f"{console_url}/audit")  # not her post's page
            assert "审计页面由审计员使用" in await member.locator("main").inner_text()


async def test_a_member_reads_her_grades_and_rounds_and_nobody_else_does(
    servers: Servers, tmp_path: Path
) -> None:
    """The member's grades page against the real pledge, review and evaluation services (the
    console through its ASGI app, with a token the services trust): January's journal grade,
    the branch's January rating and the secretary's review of her; her rounds, hers only; and
    the log's export for auditors only."""
    clock = FixedClock(datetime(2027, 2, 2, 2, 0, tzinfo=UTC))
    async with running(servers, [PLEDGE, REVIEW, EVALUATION], clock) as started:
        pledge, review = started["pledge"], started["review"]
        evaluation = started["evaluation"].client
        d = await Directory(pledge.client, servers).build()
        await synced(pledge, review)

        async def branch_known() -> bool:
            answer = await evaluation.get(f"/v1/directory/townships/{d.township}")
            return answer.status_code == 200 and d.member in answer.text

        await eventually(branch_known)
        journal = f"/v1/members/{d.member}/journal/2027-01"
        entry = {
            "recorded_on": "2027-01-20",
            "work_content": "入户宣讲",
            "duty_performance": "带动三户",
        }
        ok(await review.client.post(f"{journal}/entries", json=entry, headers=d.the_member), 201)
        graded = {"presented_on": "2027-01-28", "grade": "excellent", "evaluation": "记实具体"}
        ok(
            await review.client.post(
                f"{journal}/presentation", json=graded, headers=d.branch_secretary
            )
        )
        reviewed = review_body("member", d.member, "2027-02-01", occasion="members_meeting")
        ok(await review.client.post("/v1/reviews", json=reviewed, headers=d.branch_secretary), 201)
        rating = {"level": "branch_rates_members", "branch_id": d.branch, "period": "2027-01"}
        rating["results"] = [{"subject_id": d.member, "grade": "qualified", "score": 86}]
        ok(await evaluation.post("/v1/ratings", json=rating, headers=d.branch_secretary), 201)
        opening = {"title": "党员民主评议", "year": 2027, "half": 1, "branch_id": d.branch}
        opening["opens_on"] = "2027-02-02"
        round_id = ok(
            await evaluation.post("/v1/rounds", json=opening, headers=d.branch_secretary), 201
        )["id"]
        raters = {"raters": [{"kind": "branch_member", "member_id": d.member}]}
        ok(
            await evaluation.post(
                f"/v1/rounds/{round_id}/raters", json=raters, headers=d.branch_secretary
            ),
            201,
        )

        # the API: her rounds are hers only; the export is the auditors'
        mine = f"/v1/members/{d.member}/rounds"
        assert (
            await evaluation.get(mine, headers=d.as_("member", d.branch, "m-other"))
        ).status_code == 403
        assert (await evaluation.get(mine, headers=d.branch_secretary)).status_code == 403
        [listed] = ok(await evaluation.get(mine, headers=d.the_member))
        assert (listed["round_id"], listed["invited"], listed["voted"]) == (round_id, False, False)
        assert (await pledge.client.get("/v1/audit/export", headers=d.office)).status_code == 403
        exported = await pledge.client.get(
            "/v1/audit/export",
            params={"partition": d.township},
            headers=servers.auth("auditor", d.county),
        )
        assert exported.headers["content-type"] == "application/zip"

        console = Console(
            servers,
            tmp_path,
            pledge_url=str(pledge.client.base_url),
            review_url=str(review.client.base_url),
            evaluation_url=str(evaluation.base_url),
        )
        console.as_("member", d.branch, d.member, name="李秀英")
        page = await console.http.get("/my/grades", params={"year": 2027})
        assert page.status_code == 200, page.text
        presented = '<td data-label="月份">2027年1月</td><td data-label="等次">优秀</td>'
        assert presented in page.text  # January's journal grade
        rated = '<td data-label="等次">合格</td><td data-label="得分">86</td>'
        assert rated in page.text  # the branch's January rating
        assert "对我的评议（1）" in page.text
        assert "多开院坝会" in page.text  # the review's direction
        earlier = await console.http.get("/my/grades", params={"year": 2026})
        assert "2026年还没有讲评" in earlier.text
        rounds = await console.http.get("/my/rounds")
        assert "党员民主评议" in rounds.text
        assert "请向支部书记领取邀请码" in rounds.text
