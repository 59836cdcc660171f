"""The township office's pages and the secretary's journals, the console (in process, through
ASGI) against the real pledge and review services: the office keeps its township's roll
(found by name, paged; a refused field shown beside it and nothing appended), follows up a
ledger item with evidence and confirms it, pushes a pledge in its quarter, reads the
calendar; the branch secretary enters a member's paper journal on the member's behalf and
grades the month's presentation. Each is refused the other posts' pages. The browser story:
tests/e2e/test_console_officepages.py."""

from __future__ import annotations

import re
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from services.console.app import create_app
from services.console.session import SESSION_COOKIE, Sealer, Session
from services.console.settings import ConsoleSettings
from services.notification.app import DEFINITION as NOTIFICATION
from services.pledge.app import DEFINITION as PLEDGE
from services.review.app import DEFINITION as REVIEW
from shared.clock import FixedClock
from shared.runtime import ServiceDefinition
from tests.e2e.helpers import Directory, ok
from tests.e2e.review_helpers import START, publish_branch_pledge, synced
from tests.support import RunningService, Servers, running

ASGI = "http://console"


@dataclass
class World:
    pledge: RunningService
    review: RunningService
    settings: ConsoleSettings  # the console's, beside the two services
    d: Directory


@asynccontextmanager
async def world(servers: Servers, tmp_path: Path, *also: ServiceDefinition) -> AsyncIterator[World]:
    """The real pledge and review services (and `also`: the notification service) with the
    tests' directory, and the console's settings for them; without the notification service
    pages are shown without what it adds."""
    async with running(servers, [PLEDGE, REVIEW, *also], FixedClock(START)) as services:
        pledge, review = services["pledge"], services["review"]
        notification = services.get("notification")
        settings = ConsoleSettings(
            session_key_file=tmp_path / "console.key",
            identity_url="http://127.0.0.1:9",
            pledge_url=str(pledge.client.base_url),
            review_url=str(review.client.base_url),
            notification_url=str(notification.client.base_url)
            if notification
            else "http://127.0.0.1:9",
        )
        yield World(pledge, review, settings, await Directory(pledge.client, servers).build())


def signed_in_as(
    settings: ConsoleSettings, servers: Servers, role: str, org: str, person: str, name: str
) -> tuple[httpx.AsyncClient, str]:
    """A browser of the console signed in with a post (a token of the tests' key); its CSRF."""
    app = create_app(settings)
    session = Session(
        access_token=servers.token(role, org, person),
        refresh_token=None,
        expires_at=time.time() + 600,
        id_token=None,
        person=person,
        name=name,
        role=role,
        org=org,
    )
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=ASGI)
    sealer = Sealer(settings.session_key_file.read_bytes())
    client.cookies.set(SESSION_COOKIE, sealer.seal_session(session))
    return client, session.csrf


def key() -> str:
    return f"k-{time.monotonic_ns()}"


async def test_the_office_keeps_its_roll_and_follows_up_the_ledger(
    servers: Servers, tmp_path: Path
) -> None:
    async with world(servers, tmp_path, NOTIFICATION) as w:
        pledge, settings, d = w.pledge, w.settings, w.d
        pledge_id = await publish_branch_pledge(pledge, d)
        office, csrf = signed_in_as(settings, servers, "township_office", d.township, "o-1", "赵")
        roll = await office.get("/directory")
        assert roll.status_code == 200
        assert "红沙梁村党支部" in roll.text
        assert "李秀英" in roll.text
        found = await office.get("/directory", params={"name": "秀"})
        assert "李秀英" in found.text
        assert "张建国" not in found.text

        # a member without a name: refused beside the field, what was typed kept, none added
        enrol = {"csrf": csrf, "key": key(), "branch_id": d.branch, "name": " "}
        enrol |= {"post": "环境卫生监督岗", "duties": "每周巡查村道卫生", "leadership_team": "yes"}
        refused = await office.post("/directory/members", data=enrol)
        assert refused.status_code == 422
        assert 'id="member-name" name="name" value=" " aria-invalid="true"' in refused.text
        assert 'id="err-member-name"' in refused.text
        assert "每周巡查村道卫生" in refused.text
        roster = ok(await pledge.client.get(f"/v1/branches/{d.branch}"))
        assert len(roster["members"]) == 2

        enrolled = await office.post("/directory/members", data=enrol | {"name": "王桂兰"})
        assert enrolled.status_code == 303
        listed = ok(
            await pledge.client.get(
                "/v1/members", params={"township_id": d.township, "name": "桂兰"}, headers=d.office
            )
        )
        [new] = listed["rows"]
        assert (new["branch"], new["post"], new["leadership_team"]) == (
            "红沙梁村党支部",
            "环境卫生监督岗",
            True,
        )
        # the secretary replaced by the new member; her post changed, out of the team
        moved = await office.post(
            f"/directory/branches/{d.branch}/secretary",
            data={"csrf": csrf, "key": key(), "member_id": new["member_id"]},
        )
        assert moved.status_code == 303
        branch_page = await office.get(f"/directory/branches/{d.branch}")
        assert re.search(r'id="secretary">王桂兰<', branch_page.text)
        posted = await office.post(
            f"/directory/members/{new['member_id']}/post",
            data={"csrf": csrf, "key": key(), "post": "支部书记", "duties": "主持支部全面工作"},
        )
        assert posted.status_code == 303
        member = ok(await pledge.client.get(f"/v1/members/{new['member_id']}"))
        assert (member["post"], member["leadership_team"]) == ("支部书记", False)

        # a new branch (its kind forgotten first), the member moved there, then retired
        branch = {"csrf": csrf, "key": key(), "name": "东风村党支部", "village": "东风村"}
        kindless = await office.post("/directory/branches", data=branch)
        assert kindless.status_code == 422
        assert 'id="err-branch-kind"' in kindless.text
        assert 'id="err-member-name"' not in kindless.text  # only the form that was sent
        established = await office.post("/directory/branches", data=branch | {"kind": "village"})
        assert established.status_code == 303
        town = ok(await pledge.client.get(f"/v1/townships/{d.township}"))
        [east] = [b["branch_id"] for b in town["branches"] if b["name"] == "东风村党支部"]
        moved = await office.post(
            f"/directory/members/{d.member}/transfer",
            data={"csrf": csrf, "key": key(), "branch_id": east},
        )
        assert moved.status_code == 303
        assert ok(await pledge.client.get(f"/v1/members/{d.member}"))["branch_id"] == east
        retire = {"csrf": csrf, "key": key(), "reason": ""}
        unexplained = await office.post(f"/directory/members/{d.member}/retirement", data=retire)
        assert 'id="err-retirement-reason"' in unexplained.text
        assert ok(await pledge.client.get(f"/v1/members/{d.member}"))["active"]
        retire["reason"] = "转出本县"
        retired = await office.post(f"/directory/members/{d.member}/retirement", data=retire)
        assert retired.status_code == 303
        assert not ok(await pledge.client.get(f"/v1/members/{d.member}"))["active"]

        # the ledger: each item followed up, with a scanned letter, and confirmed solved
        ledger = await office.get("/township", params={"year": 2027})
        [item_path, *_] = re.findall(r'href="(/township/items/[^"]+)"', ledger.text)
        item_id = item_path.rsplit("/", 1)[1]
        empty = await office.post(f"{item_path}/follow-ups", data={"csrf": csrf, "key": key()})
        assert empty.status_code == 422
        assert 'id="err-follow-ups-note"' in empty.text
        followed = await office.post(
            f"{item_path}/follow-ups",
            data={"csrf": csrf, "key": key(), "note": "到现场查看, 支渠已完成2公里"},
            files={"photo": ("scan.pdf", b"%PDF-1.4\n%%EOF\n", "application/pdf")},
        )
        assert followed.status_code == 303
        assert f'{item_path}/problem-solved"' not in (await office.get(item_path)).text  # not done
        done = {"summary": "支渠改造完成, 已通水"}
        path = f"/v1/pledges/{pledge_id}/items/{item_id}/done"
        now_secretary = d.as_("branch_secretary", d.branch, new["member_id"])  # appointed above
        ok(await pledge.client.post(path, json=done, headers=now_secretary))
        solved = await office.post(
            f"{item_path}/problem-solved",
            data={"csrf": csrf, "key": key(), "note": "群众反映灌溉用水问题已解决"},
        )
        assert solved.status_code == 303
        pushed = await office.post(
            f"{item_path}/quarterly-push",
            data={"csrf": csrf, "key": key(), "quarter": "2027Q1"}
            | {"assessment": "按计划推进", "next_steps": "二季度完成剩余1公里"},
        )
        assert pushed.status_code == 303
        seen = ok(await pledge.client.get(f"/v1/pledges/{pledge_id}", headers=d.office))
        [confirmed] = [i for i in seen["items"] if i["item_id"] == item_id]
        assert confirmed["problem_solved"]
        assert not confirmed["implementation_verified"]
        [follow_up] = [a for a in seen["activity"] if a["kind"] == "follow_up"]
        assert [f["name"] for f in follow_up["detail"]["files"]] == ["scan.pdf"]
        page = (await office.get(item_path)).text
        assert "到现场查看" in page
        assert "scan.pdf" in page
        assert f'{item_path}/problem-solved"' not in page  # confirmed once, not offered again
        assert f'{item_path}/implementation-verified"' in page
        report = await office.get("/township/pushes", params={"quarter": "2027Q1"})
        assert re.search(r'id="pushed">\s*<li><a href="/pledges/[^"]+">红沙梁村党支部', report.text)
        calendar = await office.get("/township/calendar", params={"year": 2027})
        # the county's deadlines, as the notification service keeps them (the default)
        assert re.search(r">2027年公开承诺拟定</td><td[^>]*>2027年3月15日<", calendar.text)
        assert 'href="/township?year=2027"' in calendar.text

        # the committee reads the item but is offered no office forms; others see nothing
        committee, _ = signed_in_as(
            settings, servers, "township_committee", d.township, "c-1", "钱"
        )
        assert "记录跟进" not in (await committee.get(item_path)).text
        assert (await committee.get("/directory")).status_code == 403
        other, _ = signed_in_as(settings, servers, "township_office", d.other_township, "o-2", "孙")
        assert (await other.get(f"/directory/members/{new['member_id']}")).status_code == 403
        assert (await other.get(item_path)).status_code == 403
        second = ok(
            await pledge.client.get(
                "/v1/members",
                params={"township_id": d.township, "limit": 2, "offset": 1},
                headers=d.office,
            )
        )  # the second page of two: the active ones first, the retired last
        assert second["total"] == 3
        assert sorted(m["name"] for m in second["rows"]) == sorted(["李秀英", "王桂兰"])
        refused_api = await pledge.client.get(
            "/v1/members", params={"township_id": d.township}, headers=d.the_member
        )
        assert refused_api.status_code == 403


async def test_the_secretary_enters_a_paper_journal_and_grades_the_month(
    servers: Servers, tmp_path: Path
) -> None:
    async with world(servers, tmp_path) as w:
        pledge, review, settings, d = w.pledge, w.review, w.settings, w.d
        await synced(pledge, review)
        secretary, csrf = signed_in_as(
            settings, servers, "branch_secretary", d.branch, d.secretary, "张建国"
        )
        month = "2027-01"
        listed = await secretary.get("/branch/journals", params={"month": month})
        assert listed.status_code == 200
        assert "李秀英" in listed.text
        assert "未讲评" in listed.text
        path = f"/branch/journals/{d.member}/{month}"
        entry = {"csrf": csrf, "key": key(), "recorded_on": "1月3日", "work_content": "入户宣传"}
        entry["duty_performance"] = "走访农户5户, 讲解滴灌补贴政策"
        refused = await secretary.post(f"{path}/entries", data=entry)
        assert refused.status_code == 422
        assert 'id="err-recorded_on"' in refused.text
        assert not ok(
            await review.client.get(f"/v1/members/{d.member}/journal", headers=d.branch_secretary)
        )["entries"]
        entry["recorded_on"] = "2027-01-03"
        entered = await secretary.post(f"{path}/entries", data=entry)
        assert entered.status_code == 303
        graded = await secretary.post(
            f"{path}/presentation",
            data={"csrf": csrf, "key": key(), "presented_on": "2027-01-04", "grade": "excellent"}
            | {"evaluation": "宣传到位, 群众认可"},
        )
        assert graded.status_code == 303
        journal = ok(
            await review.client.get(f"/v1/members/{d.member}/journal", headers=d.branch_secretary)
        )
        [kept] = journal["entries"]
        assert kept["entered_by"] == d.secretary  # recorded as entered on her behalf
        assert journal["presentations"][0]["evaluator_name"] == "张建国"
        listed = await secretary.get("/branch/journals", params={"month": month})
        assert "1 条（代录 1 条）" in listed.text
        assert "优秀" in listed.text
        page = (await secretary.get(f"/branch/journals/{d.member}", params={"month": month})).text
        assert "支部书记代录" in page
        assert "保存讲评" not in page
        own = await secretary.get(f"/branch/journals/{d.secretary}", params={"month": month})
        assert "本人的纪实请切换到党员身份填写" in own.text

        member, _ = signed_in_as(settings, servers, "member", d.branch, d.member, "李秀英")
        assert (await member.get("/branch/journals")).status_code == 403
