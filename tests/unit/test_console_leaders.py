"""The responsible leaders' page (R1: 创先办安排负责人) and the county's evaluation calendar and
satisfaction-check terms, through the console app (httpx's ASGI transport) against the real
identity, pledge, review and evaluation services: the office assigns a member of the township
committee to a branch (a missing branch asked beside its field, nothing appended; the same
form twice appends once; a second assignment refused in Chinese) and ends it; the leader sees
the branches they are responsible for; the county administrator reads and sets a year's
calendar and check terms, a bad value refused beside its field; other posts get 403.
The browser story: tests/e2e/test_console_leaders.py."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx
import pytest

from services.console.settings import ConsoleSettings
from services.evaluation.app import DEFINITION as EVALUATION
from services.identity.app import DEFINITION as IDENTITY
from services.pledge.app import DEFINITION as PLEDGE
from services.review.app import DEFINITION as REVIEW
from shared.clock import FixedClock
from tests.e2e.helpers import Directory, eventually, ok
from tests.e2e.review_helpers import START, seats_copied
from tests.support import RunningService, Servers, running
from tests.unit.test_console_countypages import form, shown
from tests.unit.test_console_officepages import signed_in_as

LEADER_NAME = "刘建国"


@dataclass
class Township:
    services: dict[str, RunningService]
    settings: ConsoleSettings
    d: Directory
    leader: str  # a member of the township committee (the identity service's post)
    servers: Servers

    def as_(self, role: str, org: str, person: str = "p-1") -> tuple[httpx.AsyncClient, str]:
        return signed_in_as(self.settings, self.servers, role, org, person, "测试")

    def api(self, service: str) -> httpx.AsyncClient:
        return self.services[service].client


@pytest.fixture(scope="module")
async def town(
    servers: Servers, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Township]:
    tmp = tmp_path_factory.mktemp("leaders")
    with pytest.MonkeyPatch.context() as env:
        env.setenv("GONGKAI_IDENTITY_ARGON2_PROFILE", "cheapest")
        async with running(
            servers, [IDENTITY, PLEDGE, REVIEW, EVALUATION], FixedClock(START)
        ) as services:
            d = await Directory(services["pledge"].client, servers).build()
            identity, admin = services["identity"].client, servers.auth("county_admin", d.county)

            async def copied() -> bool:  # identity and review know the township's branch
                branch = await services["review"].client.get(f"/v1/directory/branches/{d.branch}")
                return (
                    branch.status_code == 200
                    and (
                        await identity.get(f"/v1/townships/{d.township}/committee", headers=admin)
                    ).status_code
                    == 200
                )

            await eventually(copied)
            body = {"name": LEADER_NAME, "county_id": d.county}
            leader = ok(await identity.post("/v1/people", json=body, headers=admin), 201)["id"]
            post = {"role": "township_committee", "org": d.township}
            ok(await identity.post(f"/v1/people/{leader}/posts", json=post, headers=admin), 201)
            await seats_copied(services["review"], d.township, leader)
            settings = ConsoleSettings(
                session_key_file=tmp / "console.key",
                identity_url=str(identity.base_url),
                pledge_url=str(services["pledge"].client.base_url),
                review_url=str(services["review"].client.base_url),
                evaluation_url=str(services["evaluation"].client.base_url),
                notification_url="http://127.0.0.1:9",
            )
            yield Township(services, settings, d, leader, servers)


async def assignments(town: Township, **scope: str) -> list[tuple[str, str]]:
    found = ok(await town.api("review").get("/v1/branch-leaders", params=scope))
    return [(r["branch_id"], r["leader_id"]) for r in found["rows"]]


async def test_the_office_assigns_and_unassigns_a_leader(town: Township) -> None:
    d = town.d
    office, csrf = town.as_("township_office", d.township)
    page = shown(await office.get("/leaders"))
    assert "红沙梁村党支部" in page
    assert "未安排（由党委书记点评）" in page
    assert f'<option value="{town.leader}">{LEADER_NAME}</option>' in page  # the committee's

    # no branch chosen: asked beside the field, nothing appended
    missing = await office.post("/leaders", data=form(csrf, branch_id="", leader_id=town.leader))
    assert missing.status_code == 422
    assert 'id="assign-branch_id" name="branch_id" aria-invalid="true"' in missing.text
    assert "err-assign-branch_id" in missing.text
    # no leader chosen: the review service's refusal beside the leader's field
    no_leader = await office.post("/leaders", data=form(csrf, branch_id=d.branch, leader_id=""))
    assert no_leader.status_code == 422
    assert 'aria-describedby="err-assign-leader_id"' in no_leader.text
    assert await assignments(town, township_id=d.township) == []

    twice = form(csrf, branch_id=d.branch, leader_id=town.leader)
    for _ in range(2):  # a double click appends once
        assert (await office.post("/leaders", data=twice)).status_code == 303
    assert await assignments(town, township_id=d.township) == [(d.branch, town.leader)]
    table = shown(await office.get("/leaders"))
    assert f"取消{LEADER_NAME}联系红沙梁村党支部" in table
    again = await office.post(
        "/leaders", data=form(csrf, branch_id=d.branch, leader_id=town.leader)
    )
    assert again.status_code == 409
    assert "该领导已联系该支部" in again.text

    # the leader sees the branch they are responsible for, a link to its reviews
    leader, leader_csrf = town.as_("township_committee", d.township, town.leader)
    mine = shown(await leader.get("/leaders"))
    assert "我联系的支部（1）" in mine
    assert f'href="/reviews/branches/{d.branch}"' in mine
    assert "/unassignment" not in mine
    assert 'action="/leaders"' not in mine
    refused = await leader.post("/leaders", data=form(leader_csrf, branch_id=d.branch))
    assert refused.status_code == 403
    assert "创先办" in refused.text

    # the office ends the assignment
    ended = await office.post(f"/leaders/{d.branch}/{town.leader}/unassignment", data=form(csrf))
    assert ended.status_code == 303
    assert await assignments(town, leader_id=town.leader) == []
    assert "我联系的支部（0）" in shown(await leader.get("/leaders"))
    gone = await office.post(f"/leaders/{d.branch}/{town.leader}/unassignment", data=form(csrf))
    assert gone.status_code == 409
    assert "无需取消" in gone.text


@pytest.mark.parametrize(
    ("role", "org"),
    [("branch_secretary", "branch"), ("member", "member"), ("county_admin", "county")],
)
async def test_other_posts_are_refused_the_leaders_page(
    town: Township, role: str, org: str
) -> None:
    client, _ = town.as_(role, getattr(town.d, org))
    answer = await client.get("/leaders")
    assert answer.status_code == 403
    assert "创先办" in answer.text


async def test_who_sits_on_the_committee_is_the_townships_to_read(town: Township) -> None:
    d, identity = town.d, town.api("identity")
    path = f"/v1/townships/{d.township}/committee"
    members = ok(await identity.get(path, headers=d.as_("township_office", d.township)))
    assert [(m["person_id"], m["name"]) for m in members["members"]] == [(town.leader, LEADER_NAME)]
    for role, org in [("township_office", d.other_township), ("branch_secretary", d.branch)]:
        assert (await identity.get(path, headers=d.as_(role, org))).status_code == 403


async def test_the_county_sets_the_evaluation_calendar_and_check_terms(town: Township) -> None:
    d = town.d
    admin, csrf = town.as_("county_admin", d.county)
    page = shown(await admin.get("/setup", params={"year": 2027}))
    assert "2027年7月10日" in page  # the defaults until set
    assert "满意和基本满意占 80%" in page
    assert "14 天" in page
    assert "评议日历和测评规则按默认" in page

    bad = await admin.post("/setup/terms", data=form(csrf, year="2027", threshold="1.5"))
    assert bad.status_code == 422
    assert 'id="terms-threshold" name="threshold" value="1.5" aria-invalid="true"' in bad.text
    assert 'id="year" name="year" value=""' in bad.text  # the pledge calendar's form: untouched
    terms_path = f"/v1/counties/{d.county}/satisfaction-check-terms/2027"
    assert ok(await town.api("evaluation").get(terms_path))["default"] is True

    set_ = await admin.post(
        "/setup/terms", data=form(csrf, year="2027", threshold="0.9", window_days="21")
    )
    assert set_.status_code == 303
    assert set_.headers["location"] == "/setup?year=2027"
    page = shown(await admin.get("/setup", params={"year": 2027}))
    assert "满意和基本满意占 90%" in page
    assert "21 天" in page

    blank = await admin.post(
        "/setup/evaluation", data=form(csrf, year="2027", first_round_closes="2027-07-08")
    )
    assert blank.status_code == 422
    assert 'aria-describedby="err-evaluation-second_round_closes"' in blank.text
    calendar = await admin.post(
        "/setup/evaluation",
        data=form(
            csrf, year="2027", first_round_closes="2027-07-08", second_round_closes="2028-01-04"
        ),
    )
    assert calendar.status_code == 303
    page = shown(await admin.get("/setup", params={"year": 2027}))
    assert "2027年7月8日" in page
    assert "2028年1月4日" in page
    office, office_csrf = town.as_("township_office", d.township)
    calendar = shown(await office.get("/township/calendar", params={"year": 2027}))
    assert "满意和基本满意占 90%" in calendar  # the township reads what the county set
    assert "2027年7月8日" in calendar
    assert (await office.get("/setup")).status_code == 403
    refused = await office.post("/setup/terms", data=form(office_csrf, year="2027"))
    assert refused.status_code == 403


async def test_the_assignments_show_while_the_committee_cannot_be_read(town: Township) -> None:
    d = town.d
    settings = town.settings.model_copy(update={"identity_url": "http://127.0.0.1:9"})
    office, _ = signed_in_as(settings, town.servers, "township_office", d.township, "o-1", "赵")
    page = shown(await office.get("/leaders"))
    assert "红沙梁村党支部" in page
    assert "党委成员名单暂时无法读取" in page
