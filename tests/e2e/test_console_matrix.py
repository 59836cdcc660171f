"""A person sees only the pages and records of their post (issue 18, X1): a matrix of every
role against every page of every role's menu (`MENUS`, so a page added to a menu is covered
here at once), and against the records of another branch and another township.

Fast: no browser. The console app is driven over httpx (ASGI) with each person's session
cookie, sealed with the console's own key around a token the services trust; the console calls
the real identity, pledge, review, evaluation and notification services over loopback.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone

import httpx
import pytest

from services.console.app import create_app
from services.console.session import SESSION_COOKIE, Sealer, Session, load_key
from services.console.settings import ConsoleSettings
from services.console.web import MENUS
from services.evaluation.app import DEFINITION as EVALUATION
from services.identity.app import DEFINITION as IDENTITY
from services.notification.app import DEFINITION as NOTIFICATION
from services.pledge.app import DEFINITION as PLEDGE
from services.review.app import DEFINITION as REVIEW
from shared.clock import FixedClock
from tests.e2e.helpers import Directory, eventually, ok
from tests.support import Servers, running

ROLES = (
    "member",
    "branch_secretary",
    "township_committee",
    "township_office",
    "county_admin",
    "auditor",
)
PAGES = sorted({path for menu in MENUS.values() for path, _ in menu})
TOWNSHIP_POSTS = ("township_committee", "township_office")
COUNTY_POSTS = ("county_admin", "auditor")
ELSEWHERE_MEMBER, NEIGHBOUR = "周桂兰", "陈小红"  # another township's member; a branch fellow


@dataclass
class World:
    d: Directory
    console: httpx.AsyncClient
    sealer: Sealer
    servers: Servers
    elsewhere_pledge: str  # a draft of a member of another township's branch
    neighbour_pledge: str  # a draft of another member of the member's own branch
    elsewhere_import: str  # a roster import of the other township's office
    other_township_name: str
    review: httpx.AsyncClient

    def place(self, role: str) -> tuple[str, str]:
        """The person and the org of each role's post."""
        d = self.d
        return {
            "member": (d.member, d.branch),
            "branch_secretary": (d.secretary, d.branch),
            "township_committee": ("p-head", d.township),
            "township_office": ("p-clerk", d.township),
            "county_admin": ("p-admin", d.county),
            "auditor": ("p-auditor", d.county),
        }[role]

    def cookies(self, role: str) -> dict[str, str]:
        person, org = self.place(role)
        session = Session(
            access_token=self.servers.token(role, org, person),
            refresh_token=None,
            expires_at=time.time() + 3600,
            id_token=None,
            person=person,
            name="测试",
            role=role,
            org=org,
        )
        return {SESSION_COOKIE: self.sealer.seal_session(session)}

    async def get(self, path: str, role: str | None, follow: bool = False) -> httpx.Response:
        """The page as the role sees it (`follow`: through the console's redirects, as a
        menu entry may send a post on to its own page, e.g. a secretary to her branch's)."""
        self.console.cookies.clear()
        if role:
            self.console.cookies.update(self.cookies(role))
        return await self.console.get(path, follow_redirects=follow)


@pytest.fixture(scope="module")
async def world(servers: Servers, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[World]:
    clock = FixedClock(datetime.now(UTC))
    year = datetime.now(timezone(timedelta(hours=8))).year
    async with running(servers, [PLEDGE, REVIEW, EVALUATION, NOTIFICATION, IDENTITY], clock) as s:
        pledge = s["pledge"].client
        d = await Directory(pledge, servers).build()
        elsewhere_office = d.as_("township_office", d.other_township, "p-clerk-2")
        branch = {"township_id": d.other_township, "name": "苏武村党支部", "kind": "village"}
        other_branch = ok(
            await pledge.post("/v1/branches", json=branch, headers=elsewhere_office), 201
        )["id"]

        async def drafted(branch_id: str, name: str, headers: dict[str, str]) -> str:
            joined = {"branch_id": branch_id, "name": name, "post": "党员", "duties": "联系群众"}
            member = ok(await pledge.post("/v1/members", json=joined, headers=headers), 201)["id"]
            body = {"year": year, "branch_id": branch_id, "member_id": member}
            mine = d.as_("member", branch_id, member)
            return str(ok(await pledge.post("/v1/pledges", json=body, headers=mine), 201)["id"])

        elsewhere = await drafted(other_branch, ELSEWHERE_MEMBER, elsewhere_office)
        neighbour = await drafted(d.branch, NEIGHBOUR, d.office)
        roster = f"/v1/townships/{d.other_township}/roster"
        template = await pledge.get(f"{roster}/template.xlsx", headers=elsewhere_office)
        assert template.status_code == 200, template.text
        uploaded = await pledge.post(
            f"{roster}/imports",
            content=template.content,
            headers=elsewhere_office | {"Content-Type": template.headers["content-type"]},
        )
        imported = ok(uploaded, 201)["import_id"]
        other_name = ok(await pledge.get(f"/v1/townships/{d.other_township}"))["name"]

        key_file = tmp_path_factory.mktemp("console") / "console.key"
        settings = ConsoleSettings(
            # people and posts (no sign-in here: the sessions are sealed directly)
            identity_url=str(s["identity"].client.base_url),
            pledge_url=str(pledge.base_url),
            review_url=str(s["review"].client.base_url),
            evaluation_url=str(s["evaluation"].client.base_url),
            notification_url=str(s["notification"].client.base_url),
            session_key_file=key_file,
        )
        app = create_app(settings)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://console") as console:
            yield World(
                d,
                console,
                Sealer(load_key(key_file)),
                servers,
                elsewhere,
                neighbour,
                imported,
                other_name,
                s["review"].client,
            )
        await app.state.console.services.close()


def test_every_role_of_the_menus_is_in_the_matrix() -> None:
    """A post given a menu is a post this matrix must check."""
    assert set(MENUS) <= set(ROLES)


@pytest.mark.parametrize("role", ROLES)
async def test_a_person_opens_their_own_pages_and_is_refused_the_others(
    world: World, role: str
) -> None:
    own = {path for path, _ in MENUS[role]}
    for path in PAGES:
        answer = await world.get(path, role, follow=path in own)
        if path in own:
            assert answer.status_code == 200, (role, path, answer.text[:500])
            # the post's own menu, every entry of it
            assert all(f'href="{p}"' in answer.text for p, _ in MENUS[role]), (role, path)
        else:
            assert answer.status_code == 403, (role, path, answer.status_code)
            assert "<h2>未能完成</h2>" in answer.text, (role, path, answer.text[:500])


async def test_a_signed_out_browser_is_sent_to_sign_in_from_every_page(world: World) -> None:
    for path in PAGES:
        answer = await world.get(path, None)
        if path == "/":
            assert answer.status_code == 200
            assert "登录" in answer.text
        else:
            assert answer.status_code == 303, (path, answer.status_code)
            assert answer.headers["location"] == "/signin"


@pytest.mark.parametrize("role", ROLES)
async def test_records_of_another_branch_and_township_are_refused(world: World, role: str) -> None:
    d = world.d
    # a draft of another township's member: only the county's posts oversee it (X1)
    for path in (f"/pledges/{world.elsewhere_pledge}", f"/pledges/{world.elsewhere_pledge}/letter"):
        answer = await world.get(path, role)
        if role in COUNTY_POSTS:
            assert answer.status_code == 200, (role, path)
            assert ELSEWHERE_MEMBER in answer.text
        else:
            assert answer.status_code in (403, 404), (role, path, answer.status_code)
            assert ELSEWHERE_MEMBER not in answer.text

    # a draft of another member of the same branch: not for the member
    answer = await world.get(f"/pledges/{world.neighbour_pledge}", role)
    if role == "member":
        assert answer.status_code in (403, 404), answer.status_code
        assert NEIGHBOUR not in answer.text
    else:
        assert answer.status_code == 200, (role, answer.status_code)
        assert NEIGHBOUR in answer.text

    # another township's page: a township's posts are shown their own, whatever is asked
    answer = await world.get(f"/township?township_id={d.other_township}", role)
    if role in TOWNSHIP_POSTS:
        assert answer.status_code == 200
        assert world.other_township_name not in answer.text
        assert "红沙梁镇" in answer.text
    elif role in COUNTY_POSTS:
        assert answer.status_code == 200
        assert world.other_township_name in answer.text
    else:
        assert answer.status_code == 403

    # another township's roster import: its office's and the county administrator's
    answer = await world.get(f"/imports/{world.elsewhere_import}", role)
    if role == "county_admin":
        assert answer.status_code == 200
    else:
        assert answer.status_code == 403, (role, answer.status_code)


async def test_a_branchs_journals_are_read_in_one_call_by_who_may_read_each(world: World) -> None:
    """R6 (the secretary's 党员纪实 asked once per member; now once): every member's journal
    of the month, for the branch's secretary, its township and the county, not a member."""
    d, review = world.d, world.review
    today = datetime.now(timezone(timedelta(hours=8))).date()
    month = today.strftime("%Y-%m")

    async def copied() -> bool:
        answer = await review.get(f"/v1/directory/branches/{d.branch}")
        return answer.status_code == 200 and d.member in answer.text

    await eventually(copied)
    entry = {"recorded_on": str(today), "work_content": "走访农户三户", "duty_performance": "好"}
    ok(
        await review.post(
            f"/v1/members/{d.member}/journal/{month}/entries", json=entry, headers=d.the_member
        ),
        201,
    )
    path = f"/v1/branches/{d.branch}/journals?month={month}"
    for role in ("branch_secretary", "township_office", "township_committee", "county_admin"):
        person, org = world.place(role)
        kept = ok(await review.get(path, headers=d.as_(role, org, person)))
        journals = {j["member_id"]: j for j in kept["journals"]}
        assert {d.member, d.secretary} <= set(journals), role
        assert [e["work_content"] for e in journals[d.member]["entries"]] == ["走访农户三户"]
        assert journals[d.secretary]["entries"] == []
    for headers in (d.the_member, d.as_("township_office", d.other_township)):
        assert (await review.get(path, headers=headers)).status_code == 403
    assert (await review.get(f"/v1/branches/b-none/journals?month={month}")).status_code in (
        401,
        404,
    )
    page = await world.get(f"/branch/journals?month={month}", "branch_secretary")
    assert page.status_code == 200
    assert "李秀英" in page.text
