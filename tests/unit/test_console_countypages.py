"""The county administrator's pages and the township's bulletins and channels, through the
console app (httpx's ASGI transport) against the real identity, pledge and notification
services: accounts and posts, townships, calendars and categories, delivery channels (no
secret shown back), dead deliveries sent again, bulletins; each refused to other posts, each
refusal in Chinese beside its field with nothing appended. The browser story:
tests/e2e/test_console_countypages.py."""

from __future__ import annotations

import re
import secrets
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from services.console.app import create_app
from services.console.session import SESSION_COOKIE, Sealer, Session
from services.console.settings import ConsoleSettings
from services.identity.app import DEFINITION as IDENTITY
from services.notification.app import DEFINITION as NOTIFICATION
from services.pledge.app import DEFINITION as PLEDGE
from shared.clock import FixedClock
from tests.e2e.helpers import Directory, eventually, ok
from tests.support import RunningService, Servers, running


@dataclass
class County:
    """The three services on one subject root, a small county, and the console before them."""

    servers: Servers
    services: dict[str, RunningService]
    directory: Directory
    console: Any  # the console's FastAPI app
    sealer: Sealer

    def desk(
        self, role: str, org: str, subject: str | None = None
    ) -> tuple[httpx.AsyncClient, str]:
        """A console client signed in with the post (a token the services trust) and the
        session's CSRF token for its forms."""
        session = Session(
            access_token=self.servers.token(role, org, subject),
            refresh_token=None,
            expires_at=time.time() + 3600,
            id_token=None,
            person=subject or f"{role}-{org}",
            name="测试",
            role=role,
            org=org,
        )
        client = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=self.console), base_url="http://console"
        )
        client.cookies.set(SESSION_COOKIE, self.sealer.seal_session(session))
        return client, session.csrf

    def api(self, service: str) -> httpx.AsyncClient:
        return self.services[service].client


@pytest.fixture(scope="module")
async def county(
    servers: Servers, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[County]:
    tmp: Path = tmp_path_factory.mktemp("countypages")
    clock = FixedClock(datetime.now(UTC))
    with pytest.MonkeyPatch.context() as env:
        env.setenv("GONGKAI_DELIVERY_INTERVAL", "3600")  # deliveries only when the test asks
        env.setenv("GONGKAI_SCHEDULER_INTERVAL", "3600")
        env.setenv("GONGKAI_IDENTITY_ARGON2_PROFILE", "cheapest")
        async with running(servers, [IDENTITY, PLEDGE, NOTIFICATION], clock) as services:
            d = await Directory(services["pledge"].client, servers).build()
            admin = servers.auth("county_admin", d.county)

            async def known() -> bool:  # the directory reached identity and notification
                people = await services["identity"].client.get(
                    f"/v1/people/{d.secretary}/posts", headers=admin
                )
                board = await services["notification"].client.get(f"/branches/{d.branch}")
                return people.status_code == 200 and board.status_code == 200

            await eventually(known)
            settings = ConsoleSettings(
                session_key_file=tmp / "console.key",
                identity_url=str(services["identity"].client.base_url),
                pledge_url=str(services["pledge"].client.base_url),
                notification_url=str(services["notification"].client.base_url),
            )
            app = create_app(settings)
            yield County(servers, services, d, app, Sealer((tmp / "console.key").read_bytes()))


def shown(answer: httpx.Response) -> str:
    """A console page's HTML, after checking it was shown."""
    assert answer.status_code == 200, answer.text
    return answer.text


def form(csrf: str, **values: str) -> dict[str, str]:
    return {"csrf": csrf, "key": secrets.token_urlsafe(12), **values}


async def test_accounts_and_posts(county: County) -> None:
    d = county.directory
    admin, csrf = county.desk("county_admin", d.county)
    # a refused name is shown beside its field, and nobody is registered
    before = shown(await admin.get("/accounts")).count("/accounts/")
    refused = await admin.post("/accounts", data=form(csrf, name=""))
    assert refused.status_code == 422
    assert 'id="name" name="name" value="" aria-invalid="true"' in refused.text
    assert "err-name" in refused.text
    assert (await admin.get("/accounts")).text.count("/accounts/") == before

    registered = await admin.post("/accounts", data=form(csrf, name="赵文静"))
    assert registered.status_code == 303
    person_url = registered.headers["location"]
    person_id = person_url.rsplit("/", 1)[1]
    page = shown(await admin.get(person_url))
    assert "赵文静" in page
    assert "目前没有职务" in page
    assert "红沙梁镇" in page  # the places a post is granted at: the county's townships

    granted = await admin.post(
        f"{person_url}/grant", data=form(csrf, role="township_office", org=d.township)
    )
    assert granted.status_code == 303
    page = shown(await admin.get(person_url))
    assert "撤销镇创先办职务" in page
    posts = ok(
        await county.api("identity").get(
            f"/v1/people/{person_id}/posts", headers=county.servers.auth("county_admin", d.county)
        )
    )["posts"]
    assert [(p["role"], p["org"]) for p in posts] == [("township_office", d.township)]

    # a post only the county holds, granted at a township: the service refuses, in Chinese
    wrong = await admin.post(f"{person_url}/grant", data=form(csrf, role="auditor", org=d.township))
    assert wrong.status_code == 403
    assert "县级岗位由县管理员授予" in wrong.text  # the service's own reason, not a generic one

    # the activation code is shown once, on the answer to the form
    issued = await admin.post(f"{person_url}/activation", data=form(csrf, login_name="13800005555"))
    assert issued.status_code == 200
    code = re.search(r'id="code">([^<]+)<', issued.text)
    assert code
    assert len(code.group(1)) >= 12
    assert code.group(1) not in shown(await admin.get(person_url))
    bad_login = await admin.post(f"{person_url}/activation", data=form(csrf, login_name="12"))
    assert bad_login.status_code == 422
    assert 'aria-describedby="err-login_name"' in bad_login.text

    # lock and unlock, revoke
    assert (
        await admin.post(f"{person_url}/lock", data=form(csrf, reason="调离"))
    ).status_code == 303
    assert "已锁定" in shown(await admin.get(person_url))
    assert (await admin.post(f"{person_url}/unlock", data=form(csrf))).status_code == 303
    assert 'id="account">正常' in shown(await admin.get(person_url))
    revoked = await admin.post(
        f"{person_url}/revoke", data=form(csrf, role="township_office", org=d.township)
    )
    assert revoked.status_code == 303
    assert "目前没有职务" in shown(await admin.get(person_url))
    # a member's phone for SMS reminders: kept sealed by the notification service
    member_url = f"/accounts/{d.member}"
    assert "短信提醒手机号" in shown(await admin.get(member_url))
    wrong_phone = await admin.post(f"{member_url}/phone", data=form(csrf, phone="12"))
    assert wrong_phone.status_code == 422
    assert 'aria-describedby="err-phone"' in wrong_phone.text
    phone = await admin.post(f"{member_url}/phone", data=form(csrf, phone="138 0000 1234"))
    assert phone.status_code == 303
    assert "13800001234" not in shown(await admin.get(member_url))
    removed = await admin.post(f"{member_url}/phone-removal", data=form(csrf))
    assert removed.status_code == 303
    # a form sent twice (a double click) appends once
    twice = form(csrf, name="孙立")
    for _ in range(2):
        assert (await admin.post("/accounts", data=twice)).status_code == 303
    assert shown(await admin.get("/accounts")).count(">孙立<") == 1


async def test_townships_calendars_and_categories(county: County) -> None:
    d = county.directory
    admin, csrf = county.desk("county_admin", d.county)
    assert (await admin.post("/setup/township", data=form(csrf, name="东坝镇"))).status_code == 303
    page = shown(await admin.get("/setup"))
    assert "东坝镇" in page
    head = await admin.post(
        "/setup/head", data=form(csrf, township_id=d.other_township, person_id="", head_name="")
    )
    assert head.status_code == 422  # the new head's name is missing: named beside its field
    assert 'aria-describedby="err-head_name"' in head.text
    # a new person's id comes with the form, so the same form sent twice appoints one person
    new_person = re.search(r'name="new_person_id" value="(p-[0-9a-f]+)"', page)
    assert new_person is not None
    appoint = form(
        csrf,
        township_id=d.other_township,
        person_id="",
        head_name="马海军",
        new_person_id=new_person[1],
    )
    for _ in range(2):  # a double click: the second is the same request (same key, same body)
        assert (await admin.post("/setup/head", data=appoint)).status_code == 303
    town = ok(await county.api("pledge").get(f"/v1/townships/{d.other_township}"))
    assert town["head_name"] == "马海军"
    # or a person registered here, chosen from the list, with the name they were registered by
    registered = await admin.post("/accounts", data=form(csrf, name="刘光明"))
    person_id = registered.headers["location"].rsplit("/", 1)[1]
    assert f'<option value="{person_id}">刘光明</option>' in shown(await admin.get("/setup"))
    chosen = form(csrf, township_id=d.township, person_id=person_id, head_name="")
    assert (await admin.post("/setup/head", data=chosen)).status_code == 303
    town = ok(await county.api("pledge").get(f"/v1/townships/{d.township}"))
    assert town["head_name"] == "刘光明"

    calendar = form(csrf, year="2031", drafting_deadline="2031-03-15", publication_deadline="")
    assert (await admin.post("/setup/calendar", data=calendar)).status_code == 303
    bad = await admin.post(
        "/setup/calendar", data=form(csrf, year="2032", drafting_deadline="3月15日")
    )
    assert bad.status_code == 422
    assert 'aria-describedby="err-drafting_deadline"' in bad.text
    categories = form(csrf, kind="school", categories="教书育人\n立德树人，家校共建")
    assert (await admin.post("/setup/categories", data=categories)).status_code == 303
    found = ok(await county.api("pledge").get(f"/v1/counties/{d.county}"))
    assert found["calendars"]["2031"] == "2031-03-15"
    assert found["categories"]["school"] == ["教书育人", "立德树人", "家校共建"]
    assert "2031年：定诺截止 2031年3月15日" in shown(await admin.get("/setup"))


async def test_channels_dead_deliveries_and_bulletins(county: County) -> None:
    d = county.directory
    admin, csrf = county.desk("county_admin", d.county)
    office, office_csrf = county.desk("township_office", d.township)
    robot = "http://127.0.0.1:9/cgi-bin/webhook/send?key=robot-key-123"
    added = await admin.post(
        "/channels",
        data=form(csrf, kind="wecom", township_id="", name="全县工作群", target=robot)
        | {"release_types": "bulletin"},
    )
    assert added.status_code == 303
    page = shown(await admin.get("/channels"))
    assert "全县工作群" in page
    assert "robot-key-123" not in page
    # a webhook's signing key: shown once
    hook = await office.post(
        "/channels",
        data=form(office_csrf, kind="webhook", name="镇档案系统", target="http://127.0.0.1:9/h")
        | {"release_types": "bulletin"},
    )
    assert hook.status_code == 200
    assert 'id="secret">whsec_' in hook.text
    # the office sees its own township's channels only; the administrator all of them
    listed = shown(await office.get("/channels"))
    assert "镇档案系统" in listed
    assert "全县工作群" not in listed
    assert "镇档案系统" in shown(await admin.get("/channels"))
    # what the service refuses is named beside the field, and nothing is added
    refused = await admin.post(
        "/channels", data=form(csrf, kind="email", name="邮件", target="no-address")
    )
    assert refused.status_code == 422
    assert 'aria-describedby="err-release_types"' in refused.text  # none chosen
    refused = await admin.post(
        "/channels",
        data=form(csrf, kind="email", name="邮件", target="no-address")
        | {"release_types": "bulletin"},
    )
    assert refused.status_code == 422
    assert 'aria-describedby="err-target"' in refused.text  # an e-mail needs an address
    assert 'value="bulletin" checked' in refused.text  # what was chosen stays chosen
    assert shown(await admin.get("/channels")).count("停用") == 2

    # a bulletin issued by the office; the robot cannot be reached: its delivery dies
    issued = await office.post("/bulletins", data=form(office_csrf, title="第一季度督查通报"))
    assert issued.status_code == 303
    page = shown(await office.get("/bulletins"))
    assert "第一季度督查通报" in page
    assert "红沙梁村党支部" in page
    notification = county.services["notification"]
    worker = notification.runtime.components["worker"]

    async def scheduled() -> bool:
        answer = await notification.client.get(
            f"/v1/deliveries?county_id={d.county}",
            headers=county.servers.auth("county_admin", d.county),
        )
        return len(answer.json()["deliveries"]) == 2

    await eventually(scheduled)
    for wait in (0, 1, 2, 6, 31, 121, 241):
        notification.clock.advance(timedelta(minutes=wait))
        await worker.deliver_due()
    dead = shown(await admin.get("/deliveries"))
    assert dead.count(">重新推送</button>") == 2
    assert "全县工作群" in dead
    delivery = re.search(r'action="/deliveries/([^/]+)/redelivery"', dead)
    assert delivery
    again = await admin.post(f"/deliveries/{delivery.group(1)}/redelivery", data=form(csrf))
    assert again.status_code == 303
    assert shown(await admin.get("/deliveries")).count(">重新推送</button>") == 1

    # the office retires its channel
    channel = re.search(
        r'action="/channels/([^/]+)/retirement"', shown(await office.get("/channels"))
    )
    assert channel
    retired = await office.post(f"/channels/{channel.group(1)}/retirement", data=form(office_csrf))
    assert retired.status_code == 303
    assert "已停用" in shown(await office.get("/channels"))


@pytest.mark.parametrize(
    ("role", "path", "allowed"),
    [
        ("member", "/accounts", False),
        ("township_office", "/accounts", False),
        ("auditor", "/setup", False),
        ("branch_secretary", "/channels", False),
        ("township_office", "/deliveries", False),
        ("member", "/bulletins", False),
        ("township_committee", "/bulletins", True),
        ("county_admin", "/accounts", True),
    ],
)
async def test_each_page_is_for_its_posts(
    county: County, role: str, path: str, allowed: bool
) -> None:
    d = county.directory
    org = {
        "member": d.member,
        "branch_secretary": d.branch,
        "township_office": d.township,
        "township_committee": d.township,
    }.get(role, d.county)
    client, _ = county.desk(role, org)
    answer = await client.get(path)
    assert answer.status_code == (200 if allowed else 403)
    if not allowed:
        assert "使用" in answer.text  # a Chinese sentence saying whose page it is
        assert "县管理员" in answer.text or "乡镇" in answer.text


async def test_the_reminder_calendar(county: County) -> None:
    """N3: the year's deadlines, each one's title and how early to remind edited in one form
    and sent whole; a bad date named in its row; the default calendar restored."""
    admin, csrf = county.desk("county_admin", county.directory.county)
    page = shown(await admin.get("/reminders?year=2030"))
    rows = dict(re.findall(r'name="(deadlines\.\d+\.[a-z_]+)" value="([^"]*)"', page))
    kinds = {k: v for k, v in rows.items() if k.endswith(".kind")}
    assert "drafting" in kinds.values()
    assert "member_rating" in kinds.values()
    rating = next(k for k, v in kinds.items() if v == "member_rating").removesuffix("kind")
    edited = rows | {f"{rating}remind_days_before": "12", f"{rating}title": "三月党员评星"}
    saved = await admin.post("/reminders?year=2030", data=form(csrf, action="save") | edited)
    assert saved.status_code == 303
    calendar = ok(
        await county.api("notification").get(
            f"/v1/counties/{county.directory.county}/calendars/2030"
        )
    )
    titled = [d for d in calendar["deadlines"] if d["title"] == "三月党员评星"]
    assert [d["remind_days_before"] for d in titled] == [12]
    assert len(calendar["deadlines"]) == len(kinds)
    wrong = rows | {f"{rating}due_on": "下个月"}
    refused = await admin.post("/reminders?year=2030", data=form(csrf, action="save") | wrong)
    assert refused.status_code == 422
    assert f'aria-describedby="err-{rating.replace(".", "-")}due_on"' in refused.text
    restored = await admin.post("/reminders?year=2030", data=form(csrf, action="default"))
    assert restored.status_code == 303
    assert "三月党员评星" not in shown(await admin.get("/reminders?year=2030"))
