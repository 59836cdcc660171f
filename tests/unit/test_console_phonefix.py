"""One rule for a phone number (shared/phone.py), and a round's member raters named however
large the township's roster. Against the real identity, pledge, notification and evaluation
services (the console over ASGI): a number one service refuses every service refuses (422
naming the field, nothing appended), and one written with spaces and +86 every service takes
as its 11 digits; the pledge service reads a township's members by their ids (only that
township's, at most `MEMBERS_BY_ID`), and the office's round page and paper sign-in sheet name
member raters asked for by id, a few at a time."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest

from gongkai.develop.demo_evaluation import ballot_forms
from services.console.pages import rounds
from services.console.settings import ConsoleSettings
from services.evaluation.app import DEFINITION as EVALUATION
from services.identity.app import DEFINITION as IDENTITY
from services.identity.commands import valid_login_name
from services.identity.oidc.passwords import login_hash
from services.notification.app import DEFINITION as NOTIFICATION
from services.pledge.api.directory import MEMBERS_BY_ID
from services.pledge.app import DEFINITION as PLEDGE
from shared.clock import FixedClock
from shared.phone import PHONE_HINT, mobile, valid_phone
from tests.e2e.bad_input import assert_refused
from tests.e2e.evaluation_helpers import START, directory_copied, township_round
from tests.e2e.helpers import Directory, event_count, eventually, ok
from tests.support import RunningService, Servers, running
from tests.unit.test_console_countypages import shown
from tests.unit.test_console_officepages import signed_in_as

NOT_A_MOBILE = "12345678901"  # identity's old pattern and notification's 7–20 digits took it
WRITTEN = "+86 139-1234 5678"  # a mobile as people write it
DIGITS = "13912345678"


@dataclass
class County:
    services: dict[str, RunningService]
    d: Directory
    settings: ConsoleSettings
    servers: Servers


@pytest.fixture(scope="module")
async def county(
    servers: Servers, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[County]:
    with pytest.MonkeyPatch.context() as env:
        env.setenv("GONGKAI_IDENTITY_ARGON2_PROFILE", "cheapest")
        env.setenv("GONGKAI_DELIVERY_INTERVAL", "3600")
        env.setenv("GONGKAI_SCHEDULER_INTERVAL", "3600")
        definitions = [IDENTITY, PLEDGE, NOTIFICATION, EVALUATION]
        async with running(servers, definitions, FixedClock(START)) as services:
            d = await Directory(services["pledge"].client, servers).build()
            await directory_copied(services["evaluation"], d)
            admin = servers.auth("county_admin", d.county)

            async def known() -> bool:  # the directory reached identity and notification
                answers = await asyncio.gather(
                    services["identity"].client.get(f"/v1/people/{d.member}/posts", headers=admin),
                    services["notification"].client.get(f"/branches/{d.branch}"),
                )
                return all(a.status_code == 200 for a in answers)

            await eventually(known)
            settings = ConsoleSettings(
                session_key_file=tmp_path_factory.mktemp("phonefix") / "console.key",
                identity_url=str(services["identity"].client.base_url),
                pledge_url=str(services["pledge"].client.base_url),
                review_url="http://127.0.0.1:9",
                evaluation_url=str(services["evaluation"].client.base_url),
                notification_url=str(services["notification"].client.base_url),
            )
            yield County(services, d, settings, servers)


def test_one_rule_for_a_phone() -> None:
    for written in ("13912345678", "139 1234 5678", "139-1234-5678", WRITTEN, "0086 13912345678"):
        assert valid_phone(written) == DIGITS
        assert valid_login_name(written) == DIGITS
    for wrong in (NOT_A_MOBILE, "10012345678", "1390000", "139123456789", "0931-1234567", ""):
        assert mobile(wrong) is None
        with pytest.raises(ValueError, match="11 位手机号"):
            valid_phone(wrong)
        with pytest.raises(ValueError, match="11 位手机号码"):
            valid_login_name(wrong)
    assert "例如 13912345678" in PHONE_HINT
    assert valid_login_name("62010219900307001x") == "62010219900307001X"  # an ID number
    # the credential table's key: a mobile's 11 digits however it is typed at sign-in
    assert login_hash(b"pepper", WRITTEN) == login_hash(b"pepper", DIGITS)
    assert login_hash(b"pepper", " 62010219900307001x") == login_hash(
        b"pepper", "62010219900307001X"
    )
    assert login_hash(b"pepper", NOT_A_MOBILE) != login_hash(b"pepper", DIGITS)
    # full-width digits (a Chinese input method's) are the same number, kept in ASCII
    assert valid_phone("１３９１２３４５６７８") == DIGITS
    assert valid_login_name("６２０１０２１９９００３０７００１ｘ ") == "62010219900307001X"
    assert login_hash(b"pepper", "１３９ １２３４ ５６７８") == login_hash(b"pepper", DIGITS)
    assert login_hash(b"pepper", "６２０１０２１９９００３０７００１x") == login_hash(
        b"pepper", "62010219900307001X"
    )
    assert mobile("13٩12345678") is None  # other scripts' digits are no mobile number


async def test_a_phone_one_service_refuses_every_service_refuses(county: County) -> None:
    d, s = county.d, county.services
    round_path = await township_round(s["evaluation"], d)
    activation = f"/v1/people/{d.member}/activation"
    lookup = "/v1/people/lookup"
    admin = county.servers.auth("county_admin", d.county)
    asked = {  # service: (path, body with the phone, its field, who asks)
        "evaluation": (
            f"{round_path}/raters",
            lambda p: {"raters": [{"kind": "public", "name": "王大山", "phone": p}]},
            "raters.0.phone",
            d.office,
        ),
        "notification": (f"/v1/people/{d.member}/phone", lambda p: {"phone": p}, "phone", d.office),
        "identity": (activation, lambda p: {"login_name": p}, "login_name", d.office),
    }
    for name, (path, body, field, who) in asked.items():
        service = s[name]
        before = await event_count(service)
        refused = await service.client.post(path, json=body(NOT_A_MOBILE), headers=who)
        assert_refused(name, refused, await event_count(service) - before, {422}, field)
        assert "11 位手机号" in refused.text, name
    finding = {"county_id": d.county, "login_name": NOT_A_MOBILE}
    refused = await s["identity"].client.post(lookup, json=finding, headers=admin)
    assert_refused("lookup", refused, 0, {422}, "login_name")

    # the same number written as people write it: every service takes it, as its 11 digits
    for name, (path, body, _, who) in asked.items():
        taken = await s[name].client.post(path, json=body(WRITTEN), headers=who)
        assert taken.status_code in (200, 201), f"{name}: {taken.text}"
        if name == "identity":
            assert taken.json()["login_name"] == DIGITS
    raters = ok(await s["evaluation"].client.get(f"{round_path}/raters", headers=d.office))
    assert [r["phone"] for r in raters["raters"]] == ["139****5678"]
    finding = {"county_id": d.county, "login_name": "139 1234 5678"}
    found = ok(await s["identity"].client.post(lookup, json=finding, headers=admin))
    assert [p["person_id"] for p in found["items"]] == [d.member]


async def enrol(county: County, branch: str, name: str) -> str:
    body = {"branch_id": branch, "name": name, "post": "党员", "duties": "参加组织生活"}
    answer = await county.services["pledge"].client.post(
        "/v1/members", json=body, headers=county.d.office
    )
    return str(ok(answer, 201)["id"])


async def test_member_raters_named_by_their_ids(
    county: County, monkeypatch: pytest.MonkeyPatch
) -> None:
    d, pledge = county.d, county.services["pledge"].client
    # a member whose name sorts last: not on the roster's first page
    late = await enrol(county, d.branch, "鲁永福")
    other_branch = {"township_id": d.other_township, "name": "苏武村党支部", "kind": "village"}
    other_branch["village"] = "苏武村"
    elsewhere_office = d.as_("township_office", d.other_township)
    branch = ok(await pledge.post("/v1/branches", json=other_branch, headers=elsewhere_office), 201)
    body = {"branch_id": branch["id"], "name": "马金花", "post": "党员", "duties": "参加组织生活"}
    elsewhere = ok(await pledge.post("/v1/members", json=body, headers=elsewhere_office), 201)["id"]

    first_page = ok(
        await pledge.get(f"/v1/members?township_id={d.township}&limit=1", headers=d.office)
    )
    assert late not in {m["member_id"] for m in first_page["rows"]}

    # the pledge service's read by ids: exactly those of the township, at most MEMBERS_BY_ID
    ids = f"member_id={late}&member_id={d.member}&member_id={elsewhere}"
    read = ok(await pledge.get(f"/v1/members?township_id={d.township}&{ids}", headers=d.office))
    assert {m["member_id"]: m["name"] for m in read["rows"]} == {late: "鲁永福", d.member: "李秀英"}
    assert read["total"] == 2
    too_many = "&".join(f"member_id=m-{i}" for i in range(MEMBERS_BY_ID + 1))
    refused = await pledge.get(f"/v1/members?township_id={d.township}&{too_many}", headers=d.office)
    assert_refused("too many ids", refused, 0, {422}, "member_id")
    for bad in ("%27%20OR%201%3D1%20--", "%00"):  # an id in the query is an id
        refused = await pledge.get(
            f"/v1/members?township_id={d.township}&member_id={d.member}&member_id={bad}",
            headers=d.office,
        )
        assert_refused(f"id {bad}", refused, 0, {422}, "member_id.1")
    # the same access as the roster's: not another township's office
    other = await pledge.get(
        f"/v1/members?township_id={d.township}&{ids}", headers=elsewhere_office
    )
    assert other.status_code == 403

    # the office's round page and paper sheet name each member rater, asked for one at a time
    await eventually(lambda: _copied(county, late))
    e = county.services["evaluation"].client
    path = await township_round(county.services["evaluation"], d)
    entries = [{"kind": "township_member", "member_id": m} for m in (d.member, late)]
    ok(await e.post(f"{path}/raters", json={"raters": entries}, headers=d.office), 201)
    monkeypatch.setattr(rounds, "MEMBERS_ASKED", 1)
    office, _ = signed_in_as(
        county.settings, county.servers, "township_office", d.township, "o-1", "赵"
    )
    round_id = path.rsplit("/", 1)[-1]
    page = shown(await office.get(f"/rounds/{round_id}"))
    assert '<td data-label="姓名">鲁永福' in page
    assert '<td data-label="姓名">李秀英' in page
    assert '<td data-label="姓名">党员' not in page
    sheet = shown(await office.get(f"/rounds/{round_id}/paper"))
    signed = sheet.split('id="signed"', 1)[1].split("</fieldset>", 1)[0]
    assert "鲁永福（乡镇党员）" in signed
    assert "李秀英（乡镇党员）" in signed


async def _copied(county: County, member_id: str) -> bool:
    """The evaluation service's directory copy holds the member (who may then rate)."""
    found = await county.services["evaluation"].runtime.pool.fetchval(
        "SELECT count(*) FROM dir_members WHERE member_id = $1", member_id
    )
    return bool(found)


def test_the_generated_votes_are_invited_ones() -> None:
    """The demo's and the history's web ballots (gongkai/develop): each invitation's code on
    the voting page's form, with its own rater's grades and the round it is for."""
    issued = {"invitations": [{"rater_id": "rt-2", "code": "B"}, {"rater_id": "rt-1", "code": "A"}]}
    ballots = {"rt-1": {"b-1": "satisfied"}, "rt-2": {"b-1": "dissatisfied"}}
    assert ballot_forms("/v1/rounds/r-1", issued, ballots) == [
        {"code": "B", "scope_id": "r-1", "grade.b-1": "dissatisfied"},
        {"code": "A", "scope_id": "r-1", "grade.b-1": "satisfied"},
    ]
