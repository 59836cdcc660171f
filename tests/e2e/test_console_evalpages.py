"""A round of mass evaluation run from the console in a real browser (issues 18 and 19): the
township office opens it, imports its raters from the filled template, prints their
invitation slips, enters a stack of paper ballots as a grid at the office desktop (a cell left
empty is answered beside it and nothing is appended), imports a second stack from the ballots
workbook, closes the round and reads its results; the county's auditor finds the ballots
consistent with the raters; the round's page fits a 360 px phone."""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook

from services.evaluation.app import DEFINITION as EVALUATION
from shared.workbook import XLSX_TYPE
from tests.e2e.console_helpers import (
    Console,
    console_serving,
    console_settings,
    office_clerk,
    person,
    sign_in,
    township_copied,
    world_for_console,
)
from tests.e2e.console_stories import (
    CODE,
    fill_a_paper_stack,
    import_raters,
    open_round,
    print_invitations,
    state_of,
)
from tests.e2e.evaluation_helpers import (
    directory_copied,
    pledge_and_evaluation,
    published_branch_pledge,
)
from tests.e2e.helpers import Directory, eventually, ok
from tests.support import Servers
from tests.support.browser import DESKTOP, Browser, horizontal_overflow


async def test_a_round_with_raters_and_paper_ballots_from_the_console(
    browser: Browser, servers: Servers, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    async with world_for_console(servers, monkeypatch, tmp_path, beside=(EVALUATION,)) as (
        world,
        console_url,
    ):
        d, evaluation = world.directory, world.services["evaluation"].client
        east = {"township_id": d.township, "name": "东湖村党支部", "kind": "village"}
        east_id = ok(
            await world.pledge.client.post(
                "/v1/branches", json=east | {"village": "东湖村"}, headers=d.office
            ),
            201,
        )["id"]
        clerk = await office_clerk(world)
        auditor = await person(world, "钱立新", {"role": "auditor", "org": d.county})
        await township_copied(world, east_id)
        today = datetime.now(UTC).astimezone(timezone(timedelta(hours=8))).date()
        async with console_serving(console_settings(world, console_url, tmp_path)):
            # --- the office opens the round ------------------------------------------------
            page = await browser.page(DESKTOP)
            await sign_in(page, world, clerk, "13800005555", console_url)
            round_url = await open_round(
                page, "群众评议支部", "上半年" if today.month <= 6 else "下半年", today.isoformat()
            )
            round_id = round_url.rsplit("/", 1)[1]

            # --- its raters from the filled template ----------------------------------------
            await import_raters(page, tmp_path, 3)

            # the round's page on a 360 px phone: nothing wider than the screen
            await page.set_viewport_size({"width": 360, "height": 740})
            await page.reload()
            assert await horizontal_overflow(page) == 0
            await page.goto(f"{round_url}/paper")  # the grid scrolls in its box, not the page
            assert await horizontal_overflow(page) == 0
            await page.goto(round_url)
            await page.set_viewport_size(DESKTOP["viewport"])

            await print_invitations(page, 3)

            # --- a stack of two paper ballots in the grid -----------------------------------
            cells = {
                (1, "红沙梁村党支部"): "满意",
                (1, "东湖村党支部"): "满意",
                (2, "东湖村党支部"): "不满意",
            }
            signers = await fill_a_paper_stack(page, 3, 2, cells)
            await page.get_by_role("button", name="录入这一叠选票").click()  # a cell left empty
            assert "填写的内容有误" in await page.get_by_role("alert").inner_text()
            cell = page.get_by_label("第2张 红沙梁村党支部")
            assert await cell.get_attribute("aria-invalid") == "true"
            assert (
                await page.locator(f"#err-ballots-1-{d.branch}").inner_text()
                == "请为这一项选择评价。"
            )
            turnout = ok(await evaluation.get(f"/v1/rounds/{round_id}/turnout"))
            assert turnout["voted"] == 0  # nothing appended
            assert await page.get_by_label("第2张 东湖村党支部").input_value() == "dissatisfied"
            assert await signers.nth(1).is_checked()
            await cell.select_option(label="基本满意")
            await page.get_by_role("button", name="录入这一叠选票").click()
            assert page.url == round_url
            assert ok(await evaluation.get(f"/v1/rounds/{round_id}/turnout"))["voted"] == 2

            # --- another stack from the ballots workbook ------------------------------------
            async with page.expect_download() as downloading:
                await page.get_by_role("link", name="下载选票模板").click()
            stack = tmp_path / "ballots.xlsx"
            await (await downloading.value).save_as(stack)
            book = load_workbook(stack)
            labels = {
                g["grade"]: g["label"]
                for g in ok(await evaluation.get(f"/v1/rounds/{round_id}"))["scale"]["grades"]
            }
            sign_in_sheet = book["签到表"]
            assert sign_in_sheet.max_row == 2  # the one rater yet to vote
            sign_in_sheet.cell(row=2, column=3).value = "是"
            headers = [c.value for c in book["选票"][1]]
            ballot = {"红沙梁村党支部": labels["satisfied"], "东湖村党支部": labels["satisfied"]}
            book["选票"].append([ballot[str(h)] for h in headers])
            book.save(tmp_path / "stack.xlsx")
            await page.get_by_label("选票表格（.xlsx，或 CSV）").set_input_files(
                str(tmp_path / "stack.xlsx")
            )
            await page.get_by_role("button", name="上传选票并预览").click()
            assert await state_of(page) == "预览：尚未导入"
            await page.get_by_role("button", name="确认导入").click()
            assert await state_of(page) == "已导入"
            await page.get_by_role("link", name="返回评议").click()
            assert await page.locator("#turnout td").nth(2).inner_text() == "3"

            # --- closed: the results, on the page and in Excel -----------------------------
            await page.get_by_role("link", name="结束评议并公布结果").click()
            await page.get_by_role("button", name="确认结束并公布结果").click()
            table = await page.locator("#results").inner_text()
            assert "红沙梁村党支部" in table
            assert "东湖村党支部" in table
            published = ok(await evaluation.get(f"/v1/rounds/{round_id}/results"))["results"]
            counts: dict[str, Any] = {r["subject_name"]: r["counts"] for r in published}
            assert counts["红沙梁村党支部"].get("satisfied") == 2
            assert counts["红沙梁村党支部"].get("mostly_satisfied") == 1
            assert counts["东湖村党支部"].get("dissatisfied") == 1
            async with page.expect_download() as downloading:
                await page.get_by_role("link", name="下载 Excel").click()
            results = tmp_path / "results.xlsx"
            await (await downloading.value).save_as(results)
            assert load_workbook(results).worksheets

            # --- the county's auditor checks the round ------------------------------------
            audit = await browser.page(DESKTOP)
            await sign_in(
                audit,
                world,
                auditor,
                "13800006666",
                console_url,
                by="county_admin",
                second_factor=True,
            )
            await audit.get_by_role("link", name="评议审计").click()
            await audit.get_by_role("link", name="红沙梁镇").click()
            await audit.get_by_role("link", name="群众评议支部").click()
            await audit.get_by_role("link", name="审计本次评议").click()
            assert await audit.locator("#verdict").inner_text() == "选票与登记的评议人一致"
            await audit.goto(f"{console_url}/rounds/{round_id}/paper")  # not the organiser
            assert "由评议的组织者录入" in await audit.locator("main").inner_text()


async def test_checks_ratings_and_a_branch_round_in_the_console(
    servers: Servers, tmp_path: Path
) -> None:
    """The office's satisfaction check (a refused phone beside its field, then a person
    served, their paper ballot, the verdict), the committee's branch ratings (a refused score
    beside its branch, nothing published, then published), a secretary's member round; each
    post refused the others' pages."""
    async with pledge_and_evaluation(servers) as (pledge, evaluation, _):
        d = await Directory(pledge.client, servers).build()
        await directory_copied(evaluation, d)
        pledge_id, [canal] = await published_branch_pledge(pledge, d, "改造支渠3公里")
        item = f"/v1/pledges/{pledge_id}/items/{canal}"
        p, e = pledge.client, evaluation.client
        ok(await p.post(f"{item}/done", json={"summary": "已完成"}, headers=d.branch_secretary))
        ok(await p.post(f"{item}/problem-solved", json={"note": "已解决"}, headers=d.office))
        verified = {"note": "核查到位"}
        ok(await p.post(f"{item}/implementation-verified", json=verified, headers=d.office))

        async def opened() -> bool:
            return bool(ok(await e.get(f"/v1/satisfaction-checks?item_id={canal}")))

        await eventually(opened, timeout=20)
        console = Console(
            servers, tmp_path, pledge_url=str(p.base_url), evaluation_url=str(e.base_url)
        )

        # --- the office's satisfaction check ------------------------------------------------
        console.as_("township_office", d.township)
        listed = await console.http.get("/checks")
        check_id = re.findall(r'href="/checks/([^"]+)"', listed.text)[0]
        assert "改造支渠3公里" in listed.text
        refused = await console.post(f"/checks/{check_id}/raters", name="王大山", phone="12")
        assert refused.status_code == 422
        assert 'id="phone" name="phone" value="12" aria-invalid="true"' in refused.text
        assert 'id="err-phone"' in refused.text
        assert ok(await e.get(f"/v1/satisfaction-checks/{check_id}"))["registered"] == 0
        done = await console.post(f"/checks/{check_id}/raters", name="王大山", phone="13900001111")
        assert done.status_code == 303
        page = (await console.http.get(f"/checks/{check_id}")).text
        [rater_id] = re.findall(r'name="rater_id" value="([^"]+)"', page)
        assert "139****1111" in page
        sheet = await console.post(f"/checks/{check_id}/invitation-sheet")
        [first_code] = re.findall(CODE, sheet.text)
        lost = f"/checks/{check_id}/invitations/{rater_id}/reissue"
        assert f'action="{lost}"' in (await console.http.get(f"/checks/{check_id}")).text
        reissued = await console.post(lost)  # the slip was lost: a new code, shown once
        [new_code] = re.findall(CODE, reissued.text)
        assert new_code != first_code
        assert "原邀请码已作废" in reissued.text
        entered = await console.post(
            f"/checks/{check_id}/ballots", rater_id=rater_id, grade="satisfied"
        )
        assert entered.status_code == 303
        assert (await console.post(f"/checks/{check_id}/closure")).status_code == 303
        page = (await console.http.get(f"/checks/{check_id}")).text
        assert re.search(r'id="verdict">满意，满意率 100.0%', page)

        # --- the committee publishes the branches' ratings; the office reads them -----------
        console.as_("township_committee", d.township)
        assert (await console.http.get("/checks")).status_code == 403
        grid = {f"grade.{d.branch}": "excellent", f"score.{d.branch}": "150"}
        refused = await console.post("/ratings", period="2027-B1", **grid)
        assert refused.status_code == 422
        assert f'id="err-score.{d.branch}"'.replace(".", "-", 1) in refused.text
        assert ok(await e.get(f"/v1/ratings?township_id={d.township}"))["rows"] == []
        grid[f"score.{d.branch}"] = "96"
        confirmed = await console.post("/ratings", period="2027-B1", confirmed="yes", **grid)
        assert confirmed.status_code == 303
        [rating] = ok(await e.get(f"/v1/ratings?township_id={d.township}"))["rows"]
        assert rating["results"][0]["score"] == 96
        console.as_("township_office", d.township)
        page = (await console.http.get("/ratings")).text
        assert "2027年1–2月" in page
        assert "发布评定" not in page  # the committee publishes (issue 20.4)

        # --- a branch secretary's member round ----------------------------------------------
        console.as_("branch_secretary", d.branch, d.secretary)
        opening = {"title": "党员民主评议", "year": "2027", "half": "1", "opens_on": "2027-03-01"}
        late = await console.post("/rounds", **opening, closes_on="2027-12-31")  # after E4's
        assert late.status_code == 422
        assert '<p class="field-error" id="err-closes_on">评议须在全县评议日历' in late.text
        assert not ok(await e.get(f"/v1/rounds?township_id={d.township}"))["rows"]
        made = await console.post("/rounds", **opening)
        assert made.status_code == 303
        page = (await console.http.get(made.headers["location"])).text
        assert "党员民主评议" in page
        assert "李秀英" in page  # the branch's member is its subject
        # a member of the branch registered as a rater shows by her name, not her id
        round_path = made.headers["location"]
        rater = {"kind": "branch_member", "member_id": d.member}
        registered = await console.post(f"{round_path}/raters", **rater)
        assert registered.status_code == 303
        raters = (await console.http.get(round_path)).text.split('id="raters"', 1)[-1]
        assert '<td data-label="姓名">李秀英</td>' in raters
        # and the month's member ratings from the ratings workbook, previewed, confirmed
        template = await console.http.get("/ratings/template.xlsx")
        book = load_workbook(io.BytesIO(template.content))
        sheet = book["评定结果"]
        assert sheet.max_row == 3  # the secretary and the member
        for row in (2, 3):
            sheet.cell(row=row, column=3).value = "优秀"
            sheet.cell(row=row, column=4).value = "95"
        filled = io.BytesIO()
        book.save(filled)
        files = {"ratings_file": ("ratings.xlsx", filled.getvalue(), XLSX_TYPE)}
        form = {"csrf": console.csrf, "key": "k-ratings", "period": "2027-02"}
        uploaded = await console.http.post("/ratings/imports", data=form, files=files)
        assert uploaded.status_code == 303
        preview = (await console.http.get(uploaded.headers["location"])).text
        assert '<strong id="state">预览：尚未导入</strong>' in preview
        confirmed = await console.post(f"{uploaded.headers['location']}/confirm")
        page = (await console.http.get(confirmed.headers["location"])).text
        assert '<strong id="state">已导入</strong>' in page
        assert '<a href="/ratings">返回评星定级</a>' in page
        [monthly] = ok(await e.get(f"/v1/ratings?branch_id={d.branch}"))["rows"]
        assert (monthly["period"], len(monthly["results"])) == ("2027-02", 2)
        assert "2027年2月" in (await console.http.get("/ratings")).text

        console.as_("member", d.branch, d.member)
        for path in ("/rounds", "/ratings", "/checks"):
            assert (await console.http.get(path)).status_code == 403
