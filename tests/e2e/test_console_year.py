"""The seed's year as one walk in the console (issue 18's "Tests and measures"): one world (the
identity, pledge, review, evaluation and notification services), one clock the test moves
from January to July, each step taken in real Chromium by the person who takes it in the
seed, on a 360 px phone or at the office desktop, with the step functions the stories of each
part use (tests/e2e/console_stories.py and the stories' own modules).

January: the member drafts her pledge on her phone (a refused field first); the secretary,
on hers, starts the branch's pledge from 支部承诺 (two of its three pledgers not drafted),
solicits opinions and proposes it, the township head approves it and she publishes it; the
head returns the member's item with guidance, she revises it, the head approves it, the
secretary publishes it and prints the pledge letter; the secretary enters the member's paper
journal and grades the month's presentation, her 待办 reminding her of the meeting first.
February: the month's end read back (the overdue notice names only the member not presented;
知道了 takes one off the 待办 count); the secretary's monthly member rating (no overdue
notice follows); the committee's bimonthly branch rating. March: the drafting reminder goes
to the secretary for her own pledge only, the member's 待办 is empty; the head's quarterly
review of the branch (a dimension left out refused first) and a guidance visit; the member's
progress with a photo; the secretary reports the branch's item done on her phone; the office
follows it up with a scan and confirms it solved and verified; the head's quarterly reminder
names only whom he has not reviewed.
June and July: the office's half-year public round (raters from the template, printed
invitations, a vote on /vote with a printed code on a phone, a stack of paper ballots as the
grid, closed before July 10, results), the township's selection (nomination, score, the
committee's decision and reason, notice, the commendation refused before the notice ends and
issued on July 1), the office reminded of the selection once and never told it is late; the
members' round not held, the secretary is told it is late and the office how many are. Each
notice is issued once (a second pass the same day issues none).

The year is the console's own (it dates its pages by the wall clock), its months the services'
clock's: the world starts on January 4 of this year."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path

import pytest
from playwright.async_api import Page

from services.evaluation.app import DEFINITION as EVALUATION
from services.notification.app import DEFINITION as NOTIFICATION
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
from tests.e2e.console_stories import (
    confirm,
    draft_on_a_phone,
    enter_a_paper_journal,
    fill_a_paper_stack,
    fill_a_proposal,
    follow_up,
    guidance_visit,
    import_raters,
    open_round,
    print_invitations,
    publish_as_secretary,
    publish_ratings,
    record_an_opinion,
    report_progress,
    review_every_dimension,
    review_the_pledge_of,
    status_of,
    township_commends,
)
from tests.e2e.helpers import eventually, ok
from tests.e2e.identity_helpers import SignInWorld
from tests.e2e.notification_helpers import directory_on_board
from tests.e2e.test_evaluation_voting import vote_on_a_phone
from tests.support import Servers
from tests.support.browser import DESKTOP, PHONE, Browser, horizontal_overflow

CHINA = timezone(timedelta(hours=8))
YEAR = datetime.now(CHINA).year


def on(month: int, day: int) -> datetime:
    """10:00 in China on the day of the year walked."""
    return datetime(YEAR, month, day, 10, 0, tzinfo=CHINA).astimezone(UTC)


def day(month: int, day: int) -> str:
    return date(YEAR, month, day).isoformat()


async def todo_count(page: Page, console_url: str) -> int:
    """The unread count the person's 待办 shows (the page fits the screen)."""
    await page.goto(console_url)
    assert await horizontal_overflow(page) == 0
    heading = await page.locator("h2").first.inner_text()
    assert heading.startswith("待办（未读 "), heading
    return int(heading.removeprefix("待办（未读 ").removesuffix("）"))


async def notices(
    world: SignInWorld, headers: dict[str, str], deadline: str
) -> list[tuple[str, str]]:
    """The person's notices for one deadline: kind, and whom or what each names."""
    board = world.services["notification"].client
    inbox = ok(await board.get("/v1/inbox", params={"limit": 200}, headers=headers))
    return [(n["kind"], n["body"]) for n in inbox["notices"] if n["deadline_id"] == deadline]


@pytest.mark.usefixtures("manual_passes")
async def test_the_seeds_year_in_the_console(
    browser: Browser, servers: Servers, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    beside = (REVIEW, EVALUATION, NOTIFICATION)
    async with world_for_console(servers, monkeypatch, tmp_path, beside=beside, start=on(1, 4)) as (
        world,
        console_url,
    ):
        d, clock = world.directory, world.identity.clock
        pledge, review = world.pledge, world.services["review"]
        worker = world.services["notification"].runtime.components["worker"]
        await township_head(world)
        clerk = await office_clerk(world)

        async def head_copied() -> bool:
            branch = await review.client.get(f"/v1/directory/branches/{d.branch}")
            return branch.status_code == 200 and branch.json()["head_id"] == HEAD

        await eventually(head_copied)
        await township_copied(world, d.member)
        await directory_on_board(world.services["notification"], d)
        async with console_serving(console_settings(world, console_url, tmp_path)):
            member = await browser.page(PHONE)
            await sign_in(member, world, d.member, "13800002222", console_url)
            secretary = await browser.page(PHONE)
            await sign_in(secretary, world, d.secretary, "13800004444", console_url)
            await secretary.get_by_role("button", name="支部书记").click()
            head = await browser.page(DESKTOP)
            await sign_in(head, world, HEAD, "13800003333", console_url)
            office = await browser.page(DESKTOP)
            await sign_in(office, world, clerk, "13800005555", console_url)

            # === January: drafting to publication ==========================================
            clock.set(on(1, 5))
            pledge_url = await draft_on_a_phone(member)
            pledge_id = pledge_url.rsplit("/", 1)[1]
            # the branch's own pledge: the secretary starts it on her phone, solicits opinions
            # and proposes it
            await secretary.get_by_role("link", name="支部承诺").click()
            assert "未起草 2 个（共 3 个）" in await secretary.locator("#not-drafted").inner_text()
            await secretary.get_by_role("button", name="起草支部承诺").click()
            assert await status_of(secretary) == "起草中"
            branch_pledge = secretary.url.rsplit("/", 1)[1]
            await record_an_opinion(secretary, "座谈会", day(1, 5), "群众盼支渠早日防渗")
            await fill_a_proposal(
                secretary,
                "召开座谈会征求意见，群众盼支渠防渗",
                "改造支渠3公里",
                "对村东支渠进行防渗改造",
                "改造支渠3公里",
                day(10, 31),
            )
            await secretary.get_by_role("button", name="提交审核").click()
            assert await status_of(secretary) == "审核中"
            assert await horizontal_overflow(secretary) == 0
            branch_url = secretary.url
            await review_the_pledge_of(head, "红沙梁村党支部", "通过", "按期完成防渗")
            assert await status_of(head) == "已审定"
            await publish_as_secretary(secretary, branch_url)

            await review_the_pledge_of(head, "李秀英", "退回修改", "目标写明带动的户数")
            assert await status_of(head) == "已退回修改"
            clock.set(on(1, 8))
            await member.goto(pledge_url)
            assert "目标写明带动的户数" in await member.locator("main").inner_text()
            await member.get_by_label("可衡量的目标").fill("带动10户推广滴灌300亩")
            await member.get_by_label("修改说明").fill("按指导意见写明带动户数")
            await member.get_by_role("button", name="修改后重新提交").click()
            assert await status_of(member) == "审核中"
            assert await horizontal_overflow(member) == 0
            clock.set(on(1, 12))
            await review_the_pledge_of(head, "李秀英", "通过", "注意带动困难户")
            assert await status_of(head) == "已审定"
            await publish_as_secretary(secretary, pledge_url)
            await secretary.get_by_role("link", name="打印承诺书").click()
            letter = await secretary.locator("body").inner_text()
            assert "带动10户推广滴灌300亩" in letter
            assert "李秀英" in letter
            published = ok(await pledge.client.get(f"/v1/pledges/{pledge_id}"))
            assert published["status"] == "published"
            [item] = published["items"]
            assert item["target"] == "带动10户推广滴灌300亩"

            # the month's journals: her paper journal entered, the presentation graded
            clock.set(on(1, 27))
            assert await worker.tick() > 0
            journal_meeting = f"journal_meeting-{YEAR}-01"
            assert [k for k, _ in await notices(world, d.branch_secretary, journal_meeting)] == [
                "reminder"
            ]
            await secretary.goto(f"{console_url}/branch/journals?month={YEAR}-01")
            assert await horizontal_overflow(secretary) == 0
            await enter_a_paper_journal(
                secretary, "李秀英", day(1, 20), "入户宣传滴灌补贴政策", "走访农户5户"
            )
            await secretary.get_by_label("讲评日期").fill(day(1, 27))
            await secretary.get_by_label("等次").select_option(label="优秀")
            await secretary.get_by_label("讲评意见").fill("记实具体，带动作用明显")
            await secretary.get_by_role("button", name="保存讲评").click()
            assert "月度讲评：优秀" in await secretary.locator("#presentation").inner_text()
            before = await todo_count(secretary, console_url)
            assert before > 0

            # === February: the month's end read back; the ratings ============================
            clock.set(on(2, 1))
            await worker.tick()
            overdue = await notices(world, d.branch_secretary, journal_meeting)
            [(kind, body)] = [n for n in overdue if n[0] == "overdue"]
            assert "张建国" in body  # her own journal is the township's to present
            assert "李秀英" not in body  # presented and graded
            assert await todo_count(secretary, console_url) == before + 1
            await secretary.get_by_role("button", name="知道了").first.click()
            assert await todo_count(secretary, console_url) == before

            clock.set(on(2, 3))
            rows = [("张建国", "优秀", "95"), ("李秀英", "优秀", "92")]
            await publish_ratings(secretary, f"{YEAR}年1月", rows)
            assert await horizontal_overflow(secretary) == 0
            evaluation = world.services["evaluation"].client
            [monthly] = ok(await evaluation.get(f"/v1/ratings?branch_id={d.branch}"))["rows"]
            assert (monthly["period"], len(monthly["results"])) == (f"{YEAR}-01", 2)
            clock.set(on(2, 6))
            await worker.tick()
            rated = await notices(world, d.branch_secretary, f"member_rating-{YEAR}-01")
            assert "overdue" not in [k for k, _ in rated]

            clock.set(on(3, 2))
            rows = [("红沙梁村党支部", "优秀", "96")]
            await publish_ratings(head, f"{YEAR}年1–2月", rows)
            township = ok(await evaluation.get(f"/v1/ratings?township_id={d.township}"))["rows"]
            [bimonthly] = [r for r in township if r["level"] == "township_rates_branches"]
            assert bimonthly["period"] == f"{YEAR}-B1"
            assert bimonthly["results"][0]["score"] == 96

            # === March: drafting closes; the quarter's review and a guidance visit; progress,
            # follow-up
            clock.set(on(3, 10))
            await worker.tick()
            drafting = f"drafting-{YEAR}"
            [(kind, body)] = await notices(world, d.branch_secretary, drafting)
            assert kind == "reminder"
            assert body.startswith("张建国")  # her own member's pledge is not drafted yet;
            assert "李秀英" not in body  # the member's and the branch's are published
            assert "红沙梁村党支部" not in body
            assert await worker.tick() == 0  # each notice once
            await member.goto(console_url)  # the member drafted in January: nothing to do
            todo = await member.locator("main").inner_text()
            assert "待办（未读 0）" in todo  # January's 退回修改, settled by her resubmission,
            assert "去修改承诺" not in todo  # is read, and leads nowhere
            assert await member.locator("main .badge").count() == 0
            assert await horizontal_overflow(member) == 0
            clock.set(on(3, 20))
            await review_every_dimension(head, review.client, d, held_on=day(3, 20))
            await guidance_visit(head, review.client, d, tmp_path / "visit.jpg", day(3, 20))
            await report_progress(
                member, pledge_url, tmp_path / "progress.jpg", "已完成滴灌带铺设120亩", 40
            )
            # the secretary reports the branch's item done on her phone (a tick: no undoing it)
            await secretary.goto(branch_url)
            channel = secretary.locator("ol > li").filter(has_text="改造支渠3公里")
            await channel.get_by_text("报告此项已完成").click()
            await channel.get_by_label("完成情况").fill("支渠改造完成, 已通水")
            await channel.get_by_role("checkbox").check()
            await channel.get_by_role("button", name="报告完成").click()
            reported = await secretary.locator(".done-state").inner_text()
            assert "支渠改造完成, 已通水" in reported
            assert "问题已解决：等待乡镇核实" in reported
            assert await horizontal_overflow(secretary) == 0
            ledger = f"{console_url}/township?year={YEAR}"
            await follow_up(office, ledger, "改造支渠3公里", tmp_path / "letter.png", "现场查看")
            await confirm(office, "问题已解决", "群众反映灌溉用水问题已解决")
            await confirm(office, "落实已核实", "入户核实，通水到户")
            confirmed = await office.locator("#confirmed").inner_text()
            assert "✔ 问题已解决" in confirmed
            seen = ok(await pledge.client.get(f"/v1/pledges/{branch_pledge}"))["items"][0]
            assert seen["problem_solved"]
            assert seen["implementation_verified"]
            clock.set(on(3, 25))
            await worker.tick()
            quarter = f"quarterly_review-{YEAR}Q1"
            head_headers = d.as_("township_committee", d.township, HEAD)
            [(kind, body)] = await notices(world, head_headers, quarter)
            assert kind == "reminder"
            assert "张建国" in body  # the leadership team's secretary is not reviewed yet
            assert "红沙梁村党支部" not in body  # the branch was

            # === June: the half-year public round opens; the township's selection ============
            clock.set(on(6, 20))
            title = f"{YEAR}年上半年群众评议"
            round_url = await open_round(office, title, "上半年", day(6, 20))
            round_id = round_url.rsplit("/", 1)[1]
            await import_raters(office, tmp_path, 3)
            codes = await print_invitations(office, 3)
            # one of the public votes from the printed slip's code on a phone
            vote = f"{str(evaluation.base_url).rstrip('/')}/vote#{codes[0]}"
            await vote_on_a_phone(await browser.page(PHONE), vote, "满意")
            # the other two hand in paper: the stack entered at the office desktop
            await office.goto(round_url)
            cells = {(1, "红沙梁村党支部"): "满意", (2, "红沙梁村党支部"): "基本满意"}
            await fill_a_paper_stack(office, 2, 2, cells)
            await office.get_by_role("button", name="录入这一叠选票").click()
            assert office.url == round_url
            assert ok(await evaluation.get(f"/v1/rounds/{round_id}/turnout"))["voted"] == 3

            clock.set(on(6, 22))
            await worker.tick()
            selection = f"selection-{YEAR}"
            assert [k for k, _ in await notices(world, d.office, selection)] == ["reminder"]
            await township_commends(office, head, clock, on(7, 1))
            awarded = ok(await evaluation.get("/v1/commendations", params={"county_id": d.county}))
            [(level, awardees)] = [(c["level"], c["awardees"]) for c in awarded]
            assert level == "township"
            assert [a["subject_id"] for a in awardees] == [d.secretary]

            # === July: the round closed before July 10, its results; the half-year read back ===
            clock.set(on(7, 5))
            await office.goto(round_url)
            await office.get_by_role("link", name="结束评议并公布结果").click()
            await office.get_by_role("button", name="确认结束并公布结果").click()
            assert "红沙梁村党支部" in await office.locator("#results").inner_text()
            [result] = ok(await evaluation.get(f"/v1/rounds/{round_id}/results"))["results"]
            assert result["counts"] == {"satisfied": 2, "mostly_satisfied": 1, "dissatisfied": 0}
            clock.set(on(7, 11))
            await worker.tick()
            assert await worker.tick() == 0
            assert [k for k, _ in await notices(world, d.office, selection)] == ["reminder"]
            half = f"evaluation_round-{YEAR}H1"
            # the branches' round is held; the members' round is the branch's to hold (E2):
            # its secretary is told it is late, the office how many are
            late = dict(await notices(world, d.branch_secretary, half))
            assert late["overdue"].startswith("红沙梁村党支部"), late
            counted = dict(await notices(world, d.office, half))
            assert counted["overdue"].startswith("1个对象未完成"), counted
            unread = ok(
                await world.services["notification"].client.get("/v1/inbox", headers=d.office)
            )["unread"]
            assert await todo_count(office, console_url) == unread
