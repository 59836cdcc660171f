"""A user review's cross-cutting findings (issue 18), fixed: every date the console shows is
the county's (China time), not UTC's; the account page names the branches posts are held
in; activating at the identity service leads on to the console (and back into the console's
own sign-in when it came from there); a failed SMS says truthfully who sets the SMS account;
a member's 待办 has her pledge's returned items (done once she resubmits), and a closed
round settles the office's 群众评议 reminder; an auditor looking back before the county was
recorded reads empty lists, not 404. Against the real identity, pledge and notification
services (the console over ASGI); the notification's reactions over real NATS and PG. The
menu on a desktop: tests/e2e/test_console_generalfix.py."""

from __future__ import annotations

import re
from datetime import date
from importlib import resources

import httpx
import pytest

from services.console.web import TEMPLATES
from services.evaluation.rounds.events import RoundResultsPublished, SubjectKind, SubjectResult
from services.notification.delivery.scheduler import remind
from shared import zh
from tests.e2e.helpers import eventually, item, ok
from tests.e2e.identity_helpers import PASSWORD, csrf_of, pkce
from tests.e2e.notification_helpers import CRITERIA, ServiceStandIn
from tests.unit.test_console_countypages import County, county, form, shown

__all__ = ["county"]  # the module's world: identity, pledge and notification, and the console

CONSOLE = "http://127.0.0.1:8100"  # the identity service's registered console (its default)


def test_every_date_is_the_countys_day_and_none_is_sliced() -> None:
    """A report made at 00:55 China time on 8 December is stored 16:55 UTC on the 7th."""
    day = TEMPLATES.from_string("{{ v|day }} · {{ v|moment }}")
    assert day.render(v="2026-12-07T16:55:00+00:00") == "2026年12月8日 · 2026年12月8日 00:55"
    assert day.render(v="2026-12-07T16:55:00Z").startswith("2026年12月8日")
    assert TEMPLATES.from_string("{{ v|day }}").render(v="2027-03-15") == "2027年3月15日"
    sliced = re.compile(r"\{\{[^}]*\[:(10|16|19)\][^}]*\}\}")
    folder = resources.files("services.console").joinpath("templates")
    pages = [f for f in folder.iterdir() if f.name.endswith(".html")]
    found = [f.name for f in pages if sliced.search(f.read_text(encoding="utf-8"))]
    assert found == []  # a date cut from its ISO text is UTC's day


def test_a_failed_sms_says_who_sets_the_account() -> None:
    said = zh.failure("SmsError: NoAccount: no SMS account is configured")
    assert said.startswith("未配置短信服务账号")
    assert "系统运维人员" in said
    assert "请县管理员配置" not in said  # no page of the county administrator's does


async def test_the_channels_page_says_whether_sms_is_set_up_and_by_whom(
    county: County, monkeypatch: pytest.MonkeyPatch
) -> None:
    admin, _ = county.desk("county_admin", county.directory.county)
    page = shown(await admin.get("/channels"))
    assert "短信服务：未开通。短信服务账号由系统运维人员在通知服务的部署配置中设置" in page
    monkeypatch.setenv("GONGKAI_SMS_PROVIDER", "aliyun")  # as the operators would set it
    monkeypatch.setenv("GONGKAI_SMS_ACCESS_KEY_ID", "LTAI-test")
    monkeypatch.setenv("GONGKAI_SMS_ACCESS_KEY_SECRET", "never-shown")
    page = shown(await admin.get("/channels"))
    assert "短信服务：已开通。" in page
    assert "never-shown" not in page
    assert "LTAI-test" not in page


async def test_the_account_page_names_the_branch_of_each_post(county: County) -> None:
    d = county.directory
    admin, _ = county.desk("county_admin", d.county)
    page = shown(await admin.get(f"/accounts/{d.member}"))
    posts = page[page.index('id="posts"') : page.index("授予职务")]
    assert "党员</strong> · 红沙梁镇 · 红沙梁村党支部" in posts, posts
    assert d.branch not in posts


async def test_activating_leads_on_to_the_console(county: County) -> None:
    d, identity = county.directory, county.api("identity")
    admin = county.servers.auth("county_admin", d.county)
    base = str(identity.base_url).rstrip("/")

    async def code_for(person: str, login: str) -> str:
        body = {"login_name": login}
        issued = await identity.post(f"/v1/people/{person}/activation", json=body, headers=admin)
        return str(ok(issued, 201)["activation_code"])

    # at /activate on its own: signed in, and a link on to the console
    async with httpx.AsyncClient(base_url=base) as browser:
        fields = {"login_name": "13800005555", "password": PASSWORD, "password2": PASSWORD}
        fields |= {"code": await code_for(d.secretary, "13800005555")}
        fields["csrf"] = csrf_of((await browser.get("/activate")).text)
        done = await browser.post("/activate", data=fields)
        assert done.status_code == 200, done.text
        assert f'<a href="{CONSOLE}/" id="to-console">进入公开承诺工作台</a>' in done.text

    # from the console's sign-in: the activation link carries the console's request, and
    # activating goes straight back to the console with a code
    async with httpx.AsyncClient(base_url=base) as browser:
        _, challenge = pkce()
        query = httpx.QueryParams(
            response_type="code",
            client_id="console",
            redirect_uri=f"{CONSOLE}/callback",
            code_challenge=challenge,
            code_challenge_method="S256",
            state="s9",
        )
        signin = await browser.get(f"/authorize?{query}")
        link = re.search(r'href="(/activate\?request_token=[^"]+)"', signin.text)
        assert link, signin.text
        form_page = await browser.get(link.group(1).replace("&amp;", "&"))
        carried = re.search(r'name="request_token" value="([^"]+)"', form_page.text)
        assert carried
        fields = {"login_name": "13800006666", "password": PASSWORD, "password2": PASSWORD}
        fields |= {"code": await code_for(d.member, "13800006666")}
        fields |= {"csrf": csrf_of(form_page.text), "request_token": carried.group(1)}
        back = await browser.post("/activate", data=fields)
        assert back.status_code == 303, back.text
        assert back.headers["location"].startswith(f"{CONSOLE}/callback?code="), back.headers
        assert "state=s9" in back.headers["location"]
        # a forged request token is not carried
        forged = await browser.get("/activate?request_token=forged")
        assert 'name="request_token" value=""' in forged.text


async def test_an_auditor_before_the_county_reads_empty_pages(county: County) -> None:
    d = county.directory
    auditor, csrf = county.desk("auditor", d.county)
    chosen = await auditor.post("/as-of", data=form(csrf, as_of="2020-01-01", back="/county"))
    assert chosen.status_code == 303, chosen.text
    for path in ("/county", "/rounds", "/channels", "/deliveries", "/audit", "/audit/checks"):
        answer = await auditor.get(path)
        assert answer.status_code == 200, (path, answer.text)
        assert "还没有这条记录" not in answer.text
    assert "2020年1月1日还没有本县的记录" in (await auditor.get("/county")).text
    assert "2020年1月1日还没有本县的记录" in (await auditor.get("/rounds")).text
    assert "还没有推送渠道" in (await auditor.get("/channels")).text
    # today: the county and its townships
    await auditor.post("/as-of", data=form(csrf, now="1", back="/county"))
    assert "红沙梁镇" in shown(await auditor.get("/county"))


async def unread(county: County, recipient: str, prefix: str) -> list[dict[str, object]]:
    rows = await county.services["notification"].runtime.pool.fetch(
        "SELECT notice_id, title, body, read_at FROM notices WHERE recipient = $1"
        " AND starts_with(deadline_id, $2) ORDER BY issued_at",
        recipient,
        prefix,
    )
    return [dict(r) for r in rows]


async def test_a_returned_pledge_is_in_the_members_todo_until_resubmitted(
    county: County,
) -> None:
    d, pledges = county.directory, county.api("pledge")
    body = {"year": 2027, "branch_id": d.branch, "member_id": d.member}
    pledge_id = ok(await pledges.post("/v1/pledges", json=body, headers=d.the_member), 201)["id"]
    proposal = {"basis": "征求意见", "items": [item("修缮村道"), item("帮扶困难户")]}
    path = f"/v1/pledges/{pledge_id}"
    items = ok(await pledges.post(f"{path}/proposal", json=proposal, headers=d.the_member))
    first, second = items["item_ids"]
    approved = {**CRITERIA, "decision": "approve"}
    returned = {**CRITERIA, "feasible": False, "decision": "return", "guidance": "目标过大"}
    for item_id, decision in ((first, approved), (second, returned)):
        review = f"{path}/items/{item_id}/review"
        ok(await pledges.post(review, json=decision, headers=d.committee))

    async def told() -> bool:
        return bool(await unread(county, d.member, f"returned-{pledge_id}-"))

    await eventually(told)
    [notice] = await unread(county, d.member, f"returned-{pledge_id}-")
    assert notice["title"] == "【退回修改】2027年公开承诺"
    assert "“帮扶困难户”被退回修改" in str(notice["body"])
    assert "修缮村道" not in str(notice["body"])
    member, _ = county.desk("member", d.branch, d.member)
    home = shown(await member.get("/"))
    assert "【退回修改】2027年公开承诺" in home
    assert 'href="/pledge"' in home[home.index("【退回修改】") :]

    # resubmitted: the notice is done (read by the service), not waiting in her 待办
    again = {"note": "已按意见修改", "items": {second: item("帮扶两户困难户")}}
    ok(await pledges.post(f"{path}/resubmission", json=again, headers=d.the_member))

    async def settled() -> bool:
        [n] = await unread(county, d.member, f"returned-{pledge_id}-")
        return n["read_at"] is not None

    await eventually(settled)


async def test_a_closed_round_settles_the_offices_round_reminder(county: County) -> None:
    d, notification = county.directory, county.services["notification"]
    office = f"township_office:{d.township}"
    await remind(notification.runtime, date(2027, 7, 5))  # five days before 10 July
    [reminder] = await unread(county, office, "evaluation_round-2027H1")
    assert reminder["read_at"] is None
    evaluation = ServiceStandIn("evaluation", county.servers.nats.url, notification.subjects)
    branch_result = SubjectResult(
        subject_kind=SubjectKind.BRANCH,
        subject_id=d.branch,
        subject_name="红沙梁村党支部",
        branch_id=d.branch,
        counts={"satisfied": 3},
        satisfaction_rate=1.0,
        score=100.0,
    )
    closed = RoundResultsPublished(
        round_id="r-generalfix",
        township_id=d.township,
        title="2027年上半年群众评议",
        published_on=date(2027, 7, 6),
        results=(branch_result,),
    )
    await evaluation.publish("round-r-generalfix", d.township, closed)

    async def settled() -> bool:
        [n] = await unread(county, office, "evaluation_round-2027H1")
        return n["read_at"] is not None

    await eventually(settled)
    clerk, _ = county.desk("township_office", d.township)
    home = shown(await clerk.get("/"))
    shown_as = home[home.index("【提醒】2027年上半年群众评议") :]
    assert 'class="badge">新' not in shown_as[: shown_as.index("</li>")]
