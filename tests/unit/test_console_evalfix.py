"""A reviewer's findings on the evaluation pages, fixed (issues 18 and 17), against the real
pledge and evaluation services (the console over ASGI): a secretary registers her branch's
members as raters by choosing them from the roster (a name alone is no member rater: the
service refuses it), the office finds the township's members by name and the paper sign-in
sheet names them; a phone must be a mainland mobile number; the invitation sheet opens in
the same tab with a way back; closing a round and publishing ratings ask first; a blank
score is said at its row; the demo's web votes are invited ones."""

from __future__ import annotations

import asyncio
import re

import pytest
from httpx import AsyncClient as Client

from gongkai.develop.demo import DemoApi
from gongkai.develop.demo_evaluation import _voted_with_codes
from services.evaluation.commands import valid_phone
from tests.e2e.evaluation_helpers import township_round
from tests.e2e.helpers import event_count, ok
from tests.unit import test_console_polish as polish
from tests.unit.test_console_countypages import form, shown
from tests.unit.test_console_officepages import signed_in_as
from tests.unit.test_console_polish import County

county = polish.county  # the county of the reviewer's findings, for this module too
CODE = re.compile(r"[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}")


def desk(county: County, role: str, org: str, person: str = "p-1") -> tuple[Client, str]:
    return signed_in_as(county.settings, county.servers, role, org, person, "赵")


def secretary_desk(county: County) -> tuple[Client, str]:
    return desk(county, "branch_secretary", county.d.branch, county.d.secretary)


async def member_round(county: County) -> str:
    """A round of the branch's members opened by its secretary; its id."""
    d = county.d
    opening = {"title": "红沙梁村党支部党员评议", "year": 2027, "half": 1}
    opening |= {"branch_id": d.branch, "opens_on": "2027-03-01"}
    opened = await county.evaluation.client.post(
        "/v1/rounds", json=opening, headers=d.branch_secretary
    )
    return str(ok(opened, 201)["id"])


async def test_a_secretary_chooses_her_branch_members_as_raters(county: County) -> None:
    d = county.d
    round_id = await member_round(county)
    secretary, csrf = secretary_desk(county)
    page = shown(await secretary.get(f"/rounds/{round_id}"))
    # the branch's members to tick, by name; no member id to type, no member kind by hand
    assert f'name="member.{d.member}"' in page
    assert f'name="member.{d.secretary}"' in page
    assert "李秀英" in page
    assert 'id="member_id"' not in page
    assert 'value="branch_member"' not in page

    before = await event_count(county.evaluation)
    none = await secretary.post(f"/rounds/{round_id}/members", data=form(csrf))
    assert none.status_code == 422
    assert 'id="err-members">请至少勾选一名党员。' in none.text
    chosen = await secretary.post(
        f"/rounds/{round_id}/members", data=form(csrf, **{f"member.{d.member}": "on"})
    )
    assert chosen.status_code == 303
    listed = await county.evaluation.client.get(
        f"/v1/rounds/{round_id}/raters", headers=d.branch_secretary
    )
    [rater] = ok(listed)["raters"]
    assert (rater["rater_id"], rater["member_id"]) == (d.member, d.member)
    assert rater["rater_kind"] == "branch_member"
    assert await event_count(county.evaluation) == before + 1
    page = shown(await secretary.get(f"/rounds/{round_id}"))
    assert '<td data-label="姓名">李秀英</td>' in page.split('id="raters"', 1)[-1]
    assert f'name="member.{d.member}"' not in page  # registered: no longer offered
    assert f'name="member.{d.secretary}"' in page

    # she finds the round among her own (评议投票)
    member, _ = desk(county, "member", d.branch, d.member)
    assert "红沙梁村党支部党员评议" in shown(await member.get("/my/rounds"))

    # a name typed as a member rater is no member: refused, nothing appended
    before = await event_count(county.evaluation)
    typed = await secretary.post(
        f"/rounds/{round_id}/raters", data=form(csrf, kind="branch_member", name="李秀英")
    )
    assert typed.status_code == 422
    assert "须从名册中选择" in typed.text
    api = await county.evaluation.client.post(
        f"/v1/rounds/{round_id}/raters",
        json={"raters": [{"kind": "branch_member", "name": "李秀英"}]},
        headers=d.branch_secretary,
    )
    assert api.status_code == 422
    assert [e["field"] for e in api.json()["errors"]] == ["raters.0.member_id"]
    assert await event_count(county.evaluation) == before


async def test_the_office_finds_township_members_and_the_sign_in_sheet_names_them(
    county: County,
) -> None:
    d, e = county.d, county.evaluation.client
    path = await township_round(county.evaluation, d)
    round_id = path.rsplit("/", 1)[-1]
    office, csrf = county.office()
    found = shown(await office.get(f"/rounds/{round_id}", params={"q": "李秀"}))
    assert f'name="member.{d.member}"' in found
    assert f'name="member.{d.secretary}"' not in found  # 张建国 is not 李秀…
    assert "红沙梁村党支部" in found  # where she is
    chosen = await office.post(
        f"/rounds/{round_id}/members",
        data=form(csrf, q="李秀", **{f"member.{d.member}": "on"}),
    )
    assert chosen.status_code == 303
    assert chosen.headers["location"] == f"/rounds/{round_id}?q=%E6%9D%8E%E7%A7%80"
    [rater] = ok(await e.get(f"{path}/raters", headers=d.office))["raters"]
    assert (rater["member_id"], rater["rater_kind"]) == (d.member, "township_member")

    sheet = shown(await office.get(f"/rounds/{round_id}/paper"))
    signed = sheet.split('id="signed"', 1)[1].split("</fieldset>", 1)[0]
    assert "李秀英（乡镇党员）" in signed
    assert d.member not in signed.replace(f'name="signed.{d.member}"', "")


def test_a_phone_is_a_mainland_mobile_number() -> None:
    assert valid_phone("139 1234-5678") == "13912345678"
    assert valid_phone("+86 139 1234 5678") == "13912345678"
    for wrong in ("1390000", "12345678901", "10012345678", "139123456789", "0931-1234567"):
        with pytest.raises(ValueError, match="11 位手机号"):
            valid_phone(wrong)


async def test_a_seven_digit_phone_is_refused_beside_its_field(county: County) -> None:
    d, e = county.d, county.evaluation.client
    path = await township_round(county.evaluation, d)
    round_id = path.rsplit("/", 1)[-1]
    office, csrf = county.office()
    before = await event_count(county.evaluation)
    refused = await office.post(
        f"/rounds/{round_id}/raters", data=form(csrf, kind="public", name="王大山", phone="1390000")
    )
    assert refused.status_code == 422
    assert 'id="phone" name="phone" value="1390000" aria-invalid="true"' in refused.text
    assert re.search(r'id="err-phone">手机号须为 11 位手机号码', refused.text)
    assert await event_count(county.evaluation) == before
    done = await office.post(
        f"/rounds/{round_id}/raters",
        data=form(csrf, kind="public", name="王大山", phone="139-0000-1111"),
    )
    assert done.status_code == 303
    [rater] = ok(await e.get(f"{path}/raters", headers=d.office))["raters"]
    assert rater["phone"] == "139****1111"


async def test_the_invitation_sheet_opens_here_with_a_way_back(county: County) -> None:
    d, e = county.d, county.evaluation.client
    path = await township_round(county.evaluation, d)
    round_id = path.rsplit("/", 1)[-1]
    body = {"raters": [{"kind": "public", "name": "王大山"}]}
    ok(await e.post(f"{path}/raters", json=body, headers=d.office), 201)
    office, csrf = county.office()
    for page in (f"/rounds/{round_id}", "/rounds"):
        html = shown(await office.get(page))
        assert f'action="/rounds/{round_id}/invitation-sheet">' in html
        assert 'target="_blank"' not in html
    sheet = shown(await office.post(f"/rounds/{round_id}/invitation-sheet", data=form(csrf)))
    assert len(CODE.findall(sheet)) == 1
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in sheet
    assert f'<nav class="back" id="back"><a href="/rounds/{round_id}">' in sheet
    assert "@media print{.sms,.back{display:none}}" in sheet
    assert "截止 2027年" in sheet  # the closing day as people read it
    # the link goes back to the caller's own site only
    away = await e.post(
        f"{path}/invitation-sheet", params={"back": "//evil.example/x"}, json={}, headers=d.office
    )
    assert away.status_code == 422


async def test_closing_a_round_asks_first(county: County) -> None:
    d, e = county.d, county.evaluation.client
    path = await township_round(county.evaluation, d)
    round_id = path.rsplit("/", 1)[-1]
    office, csrf = county.office()
    page = shown(await office.get(f"/rounds/{round_id}"))
    assert f'<a class="button" href="/rounds/{round_id}/closure">结束评议并公布结果</a>' in page
    assert f'action="/rounds/{round_id}/closure"' not in page  # one tap closes nothing
    asked = shown(await office.get(f"/rounds/{round_id}/closure"))
    assert "无法撤销" in asked
    assert f'action="/rounds/{round_id}/closure"' in asked
    assert ok(await e.get(path))["status"] == "open"
    secretary, _ = secretary_desk(county)
    assert (await secretary.get(f"/rounds/{round_id}/closure")).status_code == 403
    closed = await office.post(f"/rounds/{round_id}/closure", data=form(csrf))
    assert closed.headers["location"] == f"/rounds/{round_id}/results"
    assert ok(await e.get(path))["status"] == "closed"
    again = await office.get(f"/rounds/{round_id}/closure")
    assert again.headers["location"] == f"/rounds/{round_id}/results"


async def test_a_blank_score_is_said_at_its_row_and_publishing_asks_first(
    county: County,
) -> None:
    d, e = county.d, county.evaluation.client
    secretary, csrf = secretary_desk(county)
    grid = {f"grade.{d.member}": "excellent", f"score.{d.member}": ""}
    grid |= {f"grade.{d.secretary}": "qualified", f"score.{d.secretary}": "abc"}
    refused = await secretary.post("/ratings", data=form(csrf, period="2027-02", **grid))
    assert refused.status_code == 422
    assert f'id="err-score-{d.member}">请填写得分（必填，0–100 的数字）。' in refused.text
    assert f'id="err-score-{d.secretary}">得分须为 0–100 的数字' in refused.text
    assert "填写的内容不符合要求" not in refused.text
    assert f'name="score.{d.secretary}" aria-label="张建国 得分" value="abc"' in refused.text
    assert '<option value="excellent" selected>' in refused.text
    over = await secretary.post(
        "/ratings", data=form(csrf, period="2027-02", **(grid | {f"score.{d.secretary}": "150"}))
    )
    assert f'id="err-score-{d.secretary}">得分须为 0–100 的数字' in over.text

    grid |= {f"score.{d.member}": "95", f"score.{d.secretary}": "85"}
    filled = form(csrf, period="2027-02", **grid)
    asked = shown(await secretary.post("/ratings", data=filled))
    assert "确认发布" in asked
    assert "同一期间只能发布一次" in asked
    assert ok(await e.get(f"/v1/ratings?branch_id={d.branch}"))["rows"] == []
    edit = shown(await secretary.post("/ratings", data=filled | {"confirmed": "edit"}))
    assert f'name="score.{d.member}" aria-label="李秀英 得分" value="95"' in edit
    assert ok(await e.get(f"/v1/ratings?branch_id={d.branch}"))["rows"] == []
    published = await secretary.post("/ratings", data=filled | {"confirmed": "yes"})
    assert published.headers["location"] == "/ratings"
    [rating] = ok(await e.get(f"/v1/ratings?branch_id={d.branch}"))["rows"]
    assert {r["subject_id"]: r["score"] for r in rating["results"]} == {
        d.member: 95,
        d.secretary: 85,
    }


async def test_the_demos_web_votes_come_with_invitations(county: County) -> None:
    """The demo showed 已发邀请码 0 beside 手机投票 3: it cast web ballots with tokens nobody
    was given. Its people now vote as the public does, with an invitation's code."""
    d, e = county.d, county.evaluation.client
    path = await township_round(county.evaluation, d)
    body = {"raters": [{"kind": "public", "name": n} for n in ("王大山", "刘福贵", "陈玉梅")]}
    raters = ok(await e.post(f"{path}/raters", json=body, headers=d.office), 201)["rater_ids"]
    subjects = [s["subject_id"] for s in ok(await e.get(path))["subjects"]]
    api = DemoApi(str(e.base_url), county.servers.key)
    ballots = {r: dict.fromkeys(subjects, "satisfied") for r in raters[:2]}
    voted = await asyncio.to_thread(_voted_with_codes, api, path, ballots, d.office)
    assert voted == 2
    invitations = ok(await e.get(f"{path}/invitations", headers=d.office))
    turnout = ok(await e.get(f"{path}/turnout"))
    web = {c["channel"]: c["raters"] for c in turnout["by_channel"]}["web"]
    assert (invitations["invited"], turnout["voted"], web) == (2, 2, 2)
