"""Steps of the seed's year in the console, as each person takes them in a real browser: the
stories of tests/e2e/test_console*.py call them one part each, and the walk through a whole
year (tests/e2e/test_console_year.py) calls them in the year's order on one world."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from pathlib import Path

import httpx
from openpyxl import load_workbook
from PIL import Image
from playwright.async_api import Locator, Page

from shared.clock import FixedClock
from tests.e2e.helpers import Directory, ok
from tests.support.browser import horizontal_overflow


async def status_of(page: Page) -> str:
    return await page.locator("#status").inner_text()


async def fill_a_proposal(
    page: Page, basis: str, title: str, description: str, target: str, due: str
) -> Locator:
    """The pledge's proposal form with its basis and its first item (not yet submitted);
    the first item's fieldset."""
    await page.get_by_label("承诺依据（征求意见情况等）").fill(basis)
    first = page.locator("fieldset").filter(has_text="第1项")
    await first.get_by_label("事项名称").fill(title)
    await first.get_by_label("类别").select_option(index=1)  # the first after 请选择
    await first.get_by_label("具体内容").fill(description)
    await first.get_by_label("可衡量的目标").fill(target)
    await first.get_by_label("完成时限").fill(due)
    return first


async def record_an_opinion(page: Page, channel: str, day: str, summary: str) -> None:
    """An opinion solicited for the pledge being drafted, with the channel it came by."""
    await page.get_by_label("方式").select_option(label=channel)
    await page.get_by_label("日期", exact=True).fill(day)
    await page.get_by_label("意见摘要").fill(summary)
    await page.get_by_role("button", name="记录意见").click()
    assert f"{channel}：{summary}" in await page.locator("main").inner_text()


async def draft_on_a_phone(member: Page) -> str:
    """The member, signed in on her phone, starts her pledge from 我的承诺 and proposes one
    item (a title too short first: refused beside the field in Chinese, nothing appended,
    what she typed kept); the pledge's address."""
    await member.get_by_role("link", name="我的承诺").click()
    assert await horizontal_overflow(member) == 0
    await member.get_by_role("button", name="开始起草").click()
    assert await status_of(member) == "起草中"

    first = await fill_a_proposal(
        member,
        "走访群众10户，收集意见5条",
        "帮",  # too short: the service refuses
        "带动十户推广滴灌, 上门指导",
        "推广滴灌300亩",
        "2027-10-31",
    )
    await member.get_by_role("button", name="提交审核").click()
    assert "填写的内容有误" in await member.get_by_role("alert").inner_text()
    title = member.locator("#items\\.0\\.title")
    assert await title.get_attribute("aria-invalid") == "true"
    assert (
        await member.locator("#err-items-0-title").inner_text()
        == "内容太短或项目太少，请补充完整。"
    )
    assert await status_of(member) == "起草中"  # nothing appended
    assert await first.get_by_label("可衡量的目标").input_value() == "推广滴灌300亩"

    await title.fill("带动十户发展节水农业")
    await member.get_by_role("button", name="提交审核").click()
    assert await status_of(member) == "审核中"
    assert await horizontal_overflow(member) == 0
    return member.url


async def review_the_pledge_of(head: Page, name: str, decision: str, guidance: str) -> None:
    """A township head (or committee member) opens 承诺审核, the pledge of `name`, and
    reviews its pending item against the three criteria: 通过 or 退回修改, with guidance."""
    await head.get_by_role("link", name="承诺审核").click()
    await head.get_by_role("link", name=name).click()
    await head.get_by_label("体现先进性").check()
    await head.get_by_label("符合群众意愿").check()
    await head.get_by_label("切实可行").check()
    await head.get_by_label(decision, exact=True).check()
    await head.get_by_label("指导意见").fill(guidance)
    await head.get_by_role("button", name="提交审核意见").click()


async def publish_as_secretary(secretary: Page, pledge_url: str) -> None:
    """The branch secretary, in the secretary's hat, finds the approved pledge under 支部承诺
    and publishes it, after a confirmation (for good)."""
    await secretary.get_by_role("link", name="支部承诺").click()
    assert "已审定" in await secretary.locator("main").inner_text()
    await secretary.goto(pledge_url)
    await secretary.get_by_role("button", name="公开承诺").click()
    await secretary.get_by_role("button", name="确认公开").click()
    assert await status_of(secretary) == "已公开"


async def report_progress(
    member: Page, pledge_url: str, photo: Path, summary: str, percent: int
) -> None:
    """The member reports her published item's progress with a photo from her phone."""
    await member.goto(pledge_url)
    assert await status_of(member) == "已公开"
    Image.new("RGB", (64, 48), (200, 120, 40)).save(photo, "JPEG")
    await member.get_by_label("进展情况").fill(summary)
    await member.get_by_label("完成百分比").fill(str(percent))
    await member.get_by_label("照片或扫描件（可拍照）").set_input_files(str(photo))
    await member.get_by_role("button", name="报告进展").click()
    assert f"进度：{percent}%" in await member.locator("main").inner_text()


async def enter_a_paper_journal(secretary: Page, name: str, day: str, work: str, duty: str) -> None:
    """The branch secretary, on 党员纪实, enters a line of the member's paper journal on the
    member's behalf (recorded as entered by the secretary)."""
    await secretary.get_by_role("link", name=name).click()
    await secretary.get_by_label("日期", exact=True).fill(day)
    await secretary.get_by_label("工作内容").fill(work)
    await secretary.get_by_label("履职情况").fill(duty)
    await secretary.get_by_role("button", name="保存", exact=True).click()
    assert "支部书记代录" in await secretary.locator("main").inner_text()
    assert await horizontal_overflow(secretary) == 0


async def follow_up(office: Page, ledger_url: str, title: str, scan: Path, note: str) -> None:
    """The township office, from its ledger, follows an item up with a scanned letter."""
    await office.goto(ledger_url)
    await office.get_by_role("link", name=f"跟进：{title}").click()
    Image.new("RGB", (80, 60), (255, 255, 255)).save(scan, "PNG")
    await office.get_by_label("跟进情况").fill(note)
    await office.get_by_label("佐证材料（照片或扫描件，可多选）").set_input_files(str(scan))
    await office.get_by_role("button", name="记录跟进").click()
    assert scan.name in await office.locator("#activity").inner_text()


async def confirm(office: Page, what: str, basis: str) -> None:
    """The office confirms an item reported done: 问题已解决 or 落实已核实, with its basis."""
    form = office.locator("form", has=office.get_by_role("button", name=f"确认{what}"))
    await form.get_by_label("确认依据").fill(basis)
    await form.get_by_role("button", name=f"确认{what}").click()


DIMENSIONS = ("重点工作", "班子建设", "基层组织建设", "党风廉政", "为民办实事", "承诺践诺")


async def main_text(page: Page) -> str:
    return await page.locator("main").inner_text()


async def review_every_dimension(
    head: Page, review: httpx.AsyncClient, d: Directory, held_on: str | None = None
) -> None:
    """The township head reviews the branch from 领导点评 with every dimension (the last one
    forgotten first: refused beside it, nothing recorded), on `held_on` when given."""
    await head.get_by_role("link", name="领导点评").click()
    await head.get_by_role("link", name="红沙梁村党支部").click()
    await head.get_by_role("link", name="点评", exact=True).first.click()
    assert "点评支部：红沙梁村党支部" in await main_text(head)
    if held_on is not None:
        await head.get_by_label("点评日期").fill(held_on)
    for dimension in DIMENSIONS[:-1]:  # the last one forgotten
        part = head.locator("fieldset").filter(has_text=dimension)
        await part.get_by_label("等次").select_option(label="优秀")
        await part.get_by_label("评语").fill(f"{dimension}扎实")
    await head.get_by_label("主要成绩").fill("节水灌溉推广到全村")
    await head.get_by_label("存在不足").fill("年轻党员发展偏少")
    await head.get_by_label("努力方向").fill("培养后备力量")
    await head.get_by_role("button", name="保存点评").click()
    assert "填写的内容有误" in await head.get_by_role("alert").inner_text()
    grade = head.locator("#assessments\\.pledge_fulfilment\\.grade")
    assert await grade.get_attribute("aria-invalid") == "true"
    asked = await head.locator("#err-assessments-pledge_fulfilment-grade").inner_text()
    assert asked == "请填写或选择此项。"  # left empty: asked for, not called malformed
    assert await head.get_by_label("主要成绩").input_value() == "节水灌溉推广到全村"
    assert (
        ok(await review.get("/v1/reviews", params={"branch_id": d.branch}))["total"] == 0
    )  # nothing recorded
    last = head.locator("fieldset").filter(has_text=DIMENSIONS[-1])
    await last.get_by_label("等次").select_option(label="合格")
    await last.get_by_label("评语").fill("承诺事项按期推进")
    await head.get_by_role("button", name="保存点评").click()
    ledger = await head.locator("#review-ledger").inner_text()
    assert "点评台账（1 条）" in ledger
    assert "承诺践诺：合格" in ledger
    assert "重点工作：优秀" in ledger
    [recorded] = ok(await review.get("/v1/reviews", params={"branch_id": d.branch}))["rows"]
    assert len(recorded["assessments"]) == len(DIMENSIONS)


async def guidance_visit(
    head: Page, review: httpx.AsyncClient, d: Directory, photo: Path, visited_on: str | None = None
) -> None:
    """The township head records a guidance visit to the branch with a photo, on
    `visited_on` when given."""
    Image.new("RGB", (64, 48), (40, 120, 200)).save(photo, "JPEG")
    await head.get_by_role("link", name="联系点指导").click()
    if visited_on is not None:
        await head.get_by_label("日期", exact=True).fill(visited_on)
    await head.get_by_label("指导情况").fill("查看滴灌示范田，听取支部汇报")
    await head.get_by_label("指导意见（可不填）").fill("带动周边农户")
    await head.get_by_label("现场照片（可拍照）").set_input_files(str(photo))
    await head.get_by_role("button", name="保存指导记录").click()
    visits = await head.locator("#visits").inner_text()
    assert "查看滴灌示范田" in visits
    assert "照片 1 张" in visits
    [visit] = ok(await review.get("/v1/visits", params={"branch_id": d.branch}))["rows"]
    assert [f["media_type"] for f in visit["files"]] == ["image/jpeg"]


async def publish_ratings(page: Page, period: str, rows: list[tuple[str, str, str]]) -> None:
    """From 评星定级, the grid of a period (as the page names it): each row's 等次 and 得分 by
    its subject's name, published once confirmed."""
    await page.get_by_role("link", name="评星定级").click()
    grid = page.locator("form", has=page.get_by_role("button", name="发布评定"))
    await grid.get_by_label("期间").select_option(label=period)
    for name, grade, score in rows:
        await grid.get_by_label(f"{name} 等次").select_option(label=grade)
        await grid.get_by_label(f"{name} 得分").fill(score)
    await grid.get_by_role("button", name="发布评定").click()
    assert period in await page.locator("h2").first.inner_text()  # published for good: asked
    await page.get_by_role("button", name="确认发布").click()
    assert period in await page.locator("#published").inner_text()


CHINA = timezone(timedelta(hours=8))
CODE = r"[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}"


async def state_of(page: Page) -> str:
    return await page.locator("#state").inner_text()


async def open_round(page: Page, title: str, half: str, opens_on: str) -> str:
    """The township office opens a round of mass evaluation from 评议 (half: 上半年 or
    下半年); the round's address."""
    await page.get_by_role("link", name="评议", exact=True).click()
    await page.get_by_label("评议名称").fill(title)
    await page.get_by_label(half).check()
    await page.get_by_label("开始日期").fill(opens_on)
    await page.get_by_role("button", name="开展评议").click()
    assert await page.locator("h2").first.inner_text() == title
    return page.url


async def import_raters(page: Page, folder: Path, count: int) -> None:
    """The round's raters from its template, filled with `count` of the public (群众代表0…,
    phone 1390000000n), previewed and imported; back on the round, their phones masked."""
    async with page.expect_download() as downloading:
        await page.get_by_role("link", name="下载评议人模板").click()
    template = folder / "raters.xlsx"
    await (await downloading.value).save_as(template)
    book = load_workbook(template)
    for n in range(count):
        book["评议人"].append([f"群众代表{n}", f"1390000000{n}", "", "群众", "", ""])
    book.save(folder / "filled.xlsx")
    await page.get_by_label("评议人名单（.xlsx，或 CSV）").set_input_files(
        str(folder / "filled.xlsx")
    )
    await page.get_by_role("button", name="上传并预览").click()
    assert await state_of(page) == "预览：尚未导入"
    assert "登记评议人" in await page.locator("main").inner_text()
    await page.get_by_role("button", name="确认导入").click()
    assert await state_of(page) == "已导入"
    await page.get_by_role("link", name="返回评议").click()
    raters = await page.locator("#raters").inner_text()
    assert "139****0001" in raters  # masked (A7)
    assert "13900000001" not in raters


async def print_invitations(page: Page, count: int) -> list[str]:
    """The round's invitation slips printed from its page, the sheet in the same tab, then
    its way back to the round: the codes on the sheet."""
    await page.get_by_role("button", name="打印邀请码").click()  # in the same tab
    codes = re.findall(CODE, await page.locator("body").inner_text())
    assert len(codes) == count
    await page.locator("#back a").click()
    return codes


async def fill_a_paper_stack(
    page: Page, size: int, signed: int, cells: dict[tuple[int, str], str]
) -> Locator:
    """From the round's page, the grid for a stack of `size` paper ballots: the first
    `signed` of the sign-in sheet ticked, each (ballot number, subject) cell given its grade
    (not yet entered); the sign-in sheet's boxes."""
    await page.get_by_role("link", name="录入一叠纸质选票").click()
    await page.get_by_label("这一叠共几张").fill(str(size))
    await page.get_by_role("button", name="调整行数").click()
    signers = page.locator("#signed input[type=checkbox]")
    assert await signers.count() == size
    for n in range(signed):
        await signers.nth(n).check()
    for (ballot, subject), grade in cells.items():
        await page.get_by_label(f"第{ballot}张 {subject}").select_option(label=grade)
    return signers


async def stage_of(page: Page) -> str:
    return await page.locator("#stage").inner_text()


async def open_selection(page: Page, title: str, *, members: bool = True, year: int = 2027) -> str:
    """Opens the year's (2027's) selection from the selections' page, with a five days'
    notice and the formula of one stage and one place; the selection's address."""
    await (
        page.get_by_role("link", name="评选表彰")
        .or_(page.get_by_role("link", name="评选推荐"))
        .click()
    )
    await page.get_by_label("评选名称").fill(title)
    await page.get_by_label("年度").fill(str(year))
    if members:
        await page.get_by_label("评选对象").select_option(label="优秀党员")
    await page.get_by_label("公示天数").fill("5")
    await page.get_by_role("button", name="开始评选").click()
    assert await stage_of(page) == "待确定评选办法"
    await page.get_by_label("各轮入围名额（多轮用逗号分隔）").fill("1")
    await page.get_by_role("button", name="保存评选办法").click()
    assert await stage_of(page) == "推荐中"
    return page.url


async def nominate(page: Page, who: str, reason: str) -> None:
    await page.get_by_label("推荐", exact=True).select_option(label=who)
    await page.get_by_label("推荐理由").fill(reason)
    await page.get_by_role("button", name="提交推荐").click()


async def decide(page: Page, stage: int, name: str, advanced: bool, reason: str) -> None:
    """The deciding body's choice for one candidate and its reason."""
    part = page.locator(f"#stage-{stage}")
    await (
        part.locator("fieldset")
        .filter(has_text=name)
        .get_by_label("入围" if advanced else "不入围", exact=True)
        .check()
    )
    await part.get_by_label(f"{name}：理由").fill(reason)


async def township_commends(
    office: Page, head: Page, clock: FixedClock, notice_over: datetime
) -> str:
    """The township selects its excellent members, from the office's opening to the
    committee's commendation: the office nominates 张建国 and scores, the committee decides
    with its reason, the office posts the notice, the committee's commendation is refused
    until the notice is over (the services' clock then moved to `notice_over`) and issued;
    the selection's address."""
    year = notice_over.astimezone(CHINA).year
    township_url = await open_selection(office, f"{year}年度优秀共产党员", year=year)
    await nominate(office, "张建国（红沙梁村党支部）", "带领全村完成节水改造")
    await office.get_by_role("button", name="计算第1轮得分").click()
    await head.goto(township_url)
    await decide(head, 1, "张建国", True, "镇党委研究认为带领节水改造成效突出")
    await head.get_by_role("button", name="提交镇党委决定").click()
    await office.goto(township_url)
    await office.get_by_role("button", name="发布公示").click()
    await head.goto(township_url)
    await head.get_by_role("button", name="发布表彰决定").click()  # notice not over
    assert "公示期结束后才能表彰" in await head.get_by_role("alert").inner_text()
    clock.set(notice_over)
    await head.goto(township_url)  # not a reload: it would post the refused form again
    await head.get_by_role("button", name="发布表彰决定").click()
    assert await stage_of(head) == "已表彰"
    day = notice_over.astimezone(CHINA)
    issued = f"已于 {day.year}年{day.month}月{day.day}日 发布表彰决定"
    assert issued in await head.locator("#notice").inner_text()
    assert await office.get_by_role("button", name="发布表彰决定").count() == 0
    return township_url
