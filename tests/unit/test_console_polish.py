"""A reviewer's findings, fixed: a double click on 补发 (reissue an invitation) replaces the code
and sends once, the repeat refused in Chinese with no code kept anywhere; a rater whose
personal data was erased is not counted among those without a phone; the township's page of
its county's selections pages past the first 20. Against the real pledge and evaluation
services (the console over ASGI), the counts rendered without servers."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx
import pytest

from services.console.pages.rounds import erased_raters, without_phone
from services.console.settings import ConsoleSettings
from services.evaluation.voting.aggregates import code_hash
from tests.e2e.evaluation_helpers import directory_copied, pledge_and_evaluation, township_round
from tests.e2e.helpers import Directory, ok
from tests.support import RunningService, Servers
from tests.unit.test_console_countypages import form, shown
from tests.unit.test_console_evalpages import ROUND, render
from tests.unit.test_console_officepages import signed_in_as

CODE = re.compile(r"[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}")


@dataclass
class County:
    evaluation: RunningService
    settings: ConsoleSettings
    d: Directory
    servers: Servers
    pledge: RunningService

    def office(self) -> tuple[httpx.AsyncClient, str]:
        return signed_in_as(
            self.settings, self.servers, "township_office", self.d.township, "o-1", "赵"
        )


@pytest.fixture(scope="module")
async def county(
    servers: Servers, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[County]:
    async with pledge_and_evaluation(servers) as (pledge, evaluation, _):
        d = await Directory(pledge.client, servers).build()
        await directory_copied(evaluation, d)
        settings = ConsoleSettings(
            session_key_file=tmp_path_factory.mktemp("polish") / "console.key",
            identity_url="http://127.0.0.1:9",
            pledge_url=str(pledge.client.base_url),
            review_url="http://127.0.0.1:9",
            evaluation_url=str(evaluation.client.base_url),
            notification_url="http://127.0.0.1:9",
        )
        yield County(evaluation, settings, d, servers, pledge)


async def test_a_double_click_on_reissue_replaces_the_code_once(county: County) -> None:
    d, e, pool = county.d, county.evaluation.client, county.evaluation.runtime.pool
    path = await township_round(county.evaluation, d)
    round_id = path.rsplit("/", 1)[-1]
    body = {"raters": [{"kind": "public", "name": "王大山"}]}
    [rater] = ok(await e.post(f"{path}/raters", json=body, headers=d.office), 201)["rater_ids"]
    ok(await e.post(f"{path}/invitations", json={}, headers=d.office), 201)
    office, csrf = county.office()
    reissue = f"/rounds/{round_id}/invitations/{rater}/reissue"

    twice = form(csrf)
    code = CODE.findall(shown(await office.post(reissue, data=twice)))[0]
    again = await office.post(reissue, data=twice)  # the double click's second request
    assert again.status_code == 409
    assert "这份邀请刚刚已补发，请查看上一页显示的邀请码" in again.text
    assert not CODE.search(again.text)
    turnout = ok(await e.get(f"{path}/invitations", headers=d.office))
    assert turnout["reissued"] == 1
    live = await pool.fetch(
        "SELECT code_hash FROM public.invitations WHERE rater_id = $1 AND state = 'live'", rater
    )
    assert [r["code_hash"] for r in live] == [code_hash(code)]  # the first new code votes
    kept = await pool.fetch("SELECT response::text AS r FROM public.idempotency_keys")
    assert kept
    assert all(code not in k["r"] and code_hash(code) not in k["r"] for k in kept)

    # the same key for another request is refused; a new form reissues again
    other = await e.post(f"{path}/raters", json=body, headers=d.office)
    [second] = ok(other, 201)["rater_ids"]
    ok(await e.post(f"{path}/invitations", json={}, headers=d.office), 201)
    misused = await office.post(f"/rounds/{round_id}/invitations/{second}/reissue", data=twice)
    assert misused.status_code == 422
    assert CODE.findall(shown(await office.post(reissue, data=form(csrf))))[0] != code
    assert ok(await e.get(f"{path}/invitations", headers=d.office))["reissued"] == 2


async def test_the_county_selections_a_township_sees_are_paged(county: County) -> None:
    d, e = county.d, county.evaluation.client
    admin = d.as_("county_admin", d.county)
    opened = set()
    for year in range(2020, 2031):
        for kind in ("branch", "member"):
            body = {"level": "county", "county_id": d.county, "year": year}
            body |= {"title": f"{year}年县级评选{kind}", "subject_kind": kind}
            opened.add(ok(await e.post("/v1/selections", json=body, headers=admin), 201)["id"])
    assert len(opened) == 22
    office, _ = county.office()

    def listed(html: str) -> set[str]:
        section = html[html.index('id="county-selections"') :]
        return set(re.findall(r'href="/selections/([^"]+)"', section))

    first = shown(await office.get("/selections"))
    assert len(listed(first)) == 20
    assert 'href="?page=1&amp;county_page=2"' in first
    second = shown(await office.get("/selections?county_page=2"))
    assert listed(first) | listed(second) == opened
    assert 'href="?page=1&amp;county_page=1"' in second


def test_erased_raters_are_counted_apart_from_those_without_a_phone() -> None:
    raters = [
        {"rater_id": "rt-1", "name": "李秀英", "phone": "139****0001", "erased": False},
        {"rater_id": "rt-2", "name": "王大山", "phone": None, "erased": False},
        {"rater_id": "rt-3", "name": "已删除", "phone": None, "erased": True},
        {"rater_id": "rt-4", "name": "已删除", "phone": None, "erased": True},
    ]
    assert (without_phone(raters), erased_raters(raters)) == (1, 2)
    invitations = {"invited": 4, "reissued": 0, "voted": 0, "in_urn": 0, "sms": True, "by_sms": 1}
    shared = {"raters": [], "invitations": invitations, "imports": [], "refused": None}
    shared |= {"filled": {}, "no_phone": 1, "erased": 2}
    round_html = render(
        "round.html",
        round=ROUND | {"organiser_id": "t-1"},
        organiser=True,
        turnout={"registered": 4, "voted": 0, "rate": 0.0, "by_organisation": [], "by_channel": []},
        raters_total=4,
        offset=0,
        page_size=50,
        kinds={},
        channels={},
        **shared,
    )
    check = {"check_id": "c-1", "title": "硬化村道", "summary": "已完成", "threshold": 0.8}
    check |= {"opens_on": "2027-03-01", "closes_on": "2027-03-20", "status": "open"}
    check |= {"verdict": None, "registered": 4, "voted": 0}
    check_html = render("check.html", check=check, grades={}, states={}, **shared)
    for html in (round_html, check_html):
        assert "没有登记手机号 1 人（请把打印的邀请码交给本人） · 已删除个人信息 2 人" in html


async def test_the_office_sees_a_township_member_rater_by_name(county: County) -> None:
    """A round of branches names no member, so its member raters' names come from the
    township's roster, which the office keeps (they showed as 党员 before)."""
    d, e = county.d, county.evaluation.client
    path = await township_round(county.evaluation, d)
    body = {"raters": [{"kind": "township_member", "member_id": d.member}]}
    ok(await e.post(f"{path}/raters", json=body, headers=d.office), 201)
    office, _ = county.office()
    page = shown(await office.get(f"/rounds/{path.rsplit('/', 1)[-1]}"))
    raters = page.split('id="raters"', 1)[-1]
    assert '<td data-label="姓名">李秀英' in raters
