"""A second review's findings on the console's lists and rounds, fixed (issue 18): the rounds,
the committee's review queue, the review ledger and the published ratings page by page,
each page asked of the service (limit/offset), the second reached by the pager's link; 补发
邀请码 offered only for a rater who was invited ("未发邀请码" for the others) on a round's and
a check's list; a new round's half and year default to the round the calendar closes next.
The console over ASGI against the real services (the page sizes lowered for the test)."""

from __future__ import annotations

from datetime import date
from html import unescape
from pathlib import Path

import pytest

from services.console.pages import pledges, ratings, reviews, rounds
from services.console.pages.rounds import round_due
from tests.e2e.evaluation_helpers import check_of_a_finished_item, township_round
from tests.e2e.helpers import item, ok
from tests.e2e.review_helpers import review_body, synced
from tests.support import Servers
from tests.unit import test_console_polish as polish
from tests.unit.test_console_countypages import shown
from tests.unit.test_console_evalfix import desk, secretary_desk
from tests.unit.test_console_officepages import signed_in_as, world
from tests.unit.test_console_polish import County

county = polish.county  # pledge and evaluation with the tests' directory, for this module


def listed(page: str, list_id: str) -> str:
    """The HTML of a page's list (`<ul id=…>` or `<section id=…>`), up to its end."""
    return page.split(f'id="{list_id}"', 1)[1].split("</ul>", 1)[0]


def next_link(page: str) -> str:
    """The pager's 下一页 link (its query) on a page."""
    return page.split('aria-label="翻页"', 1)[1].split('">下一页', 1)[0].rsplit('href="', 1)[1]


async def test_rounds_page_by_page_the_latest_half_year_first(
    county: County, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(rounds, "ROUNDS_PAGE", 2)
    d, e = county.d, county.evaluation.client
    opened = {}
    for title, year, half, opens_on in (
        ("2026年下半年群众评议", 2026, 2, "2026-09-01"),
        ("2027年下半年群众评议", 2027, 2, "2027-09-01"),
        ("2027年上半年群众评议", 2027, 1, "2027-03-01"),
    ):
        body = {"title": title, "year": year, "half": half, "opens_on": opens_on}
        answer = await e.post(
            "/v1/rounds", json=body | {"township_id": d.township}, headers=d.office
        )
        opened[title] = ok(answer, 201)["id"]
    opening = {"title": "党员评议", "year": 2027, "half": 1, "opens_on": "2027-02-01"}
    branch = await e.post(
        "/v1/rounds", json=opening | {"branch_id": d.branch}, headers=d.branch_secretary
    )
    branch_round = ok(branch, 201)["id"]
    # the service answers a page and the total; a secretary's are the branch's only
    page = ok(await e.get("/v1/rounds", params={"township_id": d.township, "limit": 2}))
    assert (page["total"], page["limit"], page["offset"]) == (4, 2, 0)
    assert [r["title"] for r in page["rows"]][:1] == ["2027年下半年群众评议"]
    mine = ok(await e.get("/v1/rounds", params={"organiser_id": d.branch}))
    assert [r["round_id"] for r in mine["rows"]] == [branch_round]
    bad = await e.get("/v1/rounds", params={"limit": 0, "offset": -1})
    assert {x["field"] for x in bad.json()["errors"]} >= {"limit", "offset"}, bad.text

    office, _ = county.office()
    first = shown(await office.get("/rounds"))
    assert "民主评议（4）" in first
    shown_first = listed(first, "rounds")
    assert shown_first.index("2027年下半年群众评议") < shown_first.index("2027年上半年")
    assert "2026年下半年群众评议" not in shown_first
    assert next_link(first) == "?page=2"
    second = shown(await office.get("/rounds" + next_link(first)))
    assert "2026年下半年群众评议" in listed(second, "rounds")
    assert "2027年下半年群众评议" not in listed(second, "rounds")
    assert "上一页" in second
    assert "下一页" not in second

    secretary, _ = secretary_desk(county)
    theirs = shown(await secretary.get("/rounds"))
    assert "民主评议（1）" in theirs
    assert f"/rounds/{branch_round}" in theirs
    assert "翻页" not in theirs


def test_a_new_round_is_the_half_year_the_calendar_closes_next() -> None:
    # E4's default closing days: the second half by January 5, the first by July 10
    assert round_due(date(2026, 12, 7)) == (2026, 2)
    assert round_due(date(2027, 1, 5)) == (2026, 2)
    assert round_due(date(2027, 1, 6)) == (2027, 1)
    assert round_due(date(2027, 6, 30)) == (2027, 1)
    assert round_due(date(2027, 7, 10)) == (2027, 1)
    assert round_due(date(2027, 7, 11)) == (2027, 2)
    assert round_due(date(2027, 9, 1)) == (2027, 2)


async def test_the_new_round_form_offers_the_half_due_today(county: County) -> None:
    office, _ = county.office()
    page = shown(await office.get("/rounds"))
    year, half = round_due(rounds.datetime.now(rounds.CHINA).date())
    assert f'id="year" name="year" value="{year}"' in page
    checked = [h for h in ("1", "2") if f'name="half" value="{h}" checked' in page]
    assert checked == [str(half)]


async def test_reissue_only_for_raters_who_were_invited(county: County) -> None:
    d, e = county.d, county.evaluation.client
    path = await township_round(county.evaluation, d)
    round_id = path.rsplit("/", 1)[-1]
    people = {
        "raters": [{"kind": "public", "name": "王大山"}, {"kind": "public", "name": "刘小梅"}]
    }
    invited, not_invited = ok(await e.post(f"{path}/raters", json=people, headers=d.office), 201)[
        "rater_ids"
    ]
    ok(await e.post(f"{path}/invitations", json={"rater_ids": [invited]}, headers=d.office), 201)
    raters = ok(await e.get(f"{path}/raters", headers=d.office))["raters"]
    assert {r["rater_id"]: r["invited"] for r in raters} == {invited: True, not_invited: False}
    office, _ = county.office()
    page = shown(await office.get(f"/rounds/{round_id}"))
    assert f"/rounds/{round_id}/invitations/{invited}/reissue" in page
    assert f"/rounds/{round_id}/invitations/{not_invited}/reissue" not in page
    assert page.count("未发邀请码") == 1

    _, check_id = await check_of_a_finished_item(county.pledge, county.evaluation, d, "硬化村道")
    check = f"/v1/satisfaction-checks/{check_id}"
    served = {"raters": [{"name": "赵红"}, {"name": "钱亮"}]}
    invited, not_invited = ok(await e.post(f"{check}/raters", json=served, headers=d.office), 201)[
        "rater_ids"
    ]
    ok(await e.post(f"{check}/invitations", json={"rater_ids": [invited]}, headers=d.office), 201)
    raters = ok(await e.get(f"{check}/raters", headers=d.office))["raters"]
    assert {r["rater_id"]: r["invited"] for r in raters} == {invited: True, not_invited: False}
    page = shown(await office.get(f"/checks/{check_id}"))
    assert f"/checks/{check_id}/invitations/{invited}/reissue" in page
    assert f"/checks/{check_id}/invitations/{not_invited}/reissue" not in page
    assert page.count("未发邀请码") == 1


async def test_the_review_queue_page_by_page(
    county: County, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(pledges, "REVIEW_PAGE", 1)
    monkeypatch.setattr(pledges, "this_year", lambda: 2028)
    d, p = county.d, county.pledge.client
    proposal = {"basis": "年度目标责任书", "items": [item("修建蓄水池", due="2028-10-31")]}
    for headers, member in ((d.branch_secretary, None), (d.the_member, d.member)):
        body = {"year": 2028, "branch_id": d.branch, "member_id": member}
        pledge_id = ok(await p.post("/v1/pledges", json=body, headers=headers), 201)["id"]
        ok(await p.post(f"/v1/pledges/{pledge_id}/proposal", json=proposal, headers=headers))
    committee, _ = desk(county, "township_committee", d.township)
    first = shown(await committee.get("/review"))
    assert "待审核的承诺（2）" in first
    assert listed(first, "waiting").count("/pledges/") == 1
    assert next_link(first) == "?page=2"
    second = shown(await committee.get("/review" + next_link(first)))
    assert listed(second, "waiting").count("/pledges/") == 1
    assert listed(first, "waiting") != listed(second, "waiting")
    assert (await committee.get("/review?page=0")).status_code == 422


async def test_published_ratings_page_by_page(
    county: County, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ratings, "PAGE", 1)
    d, e = county.d, county.evaluation.client
    published = []
    for period, score in (("2027-01", 81), ("2027-02", 82)):
        rating = {"level": "branch_rates_members", "branch_id": d.branch, "period": period}
        rating["results"] = [{"subject_id": d.member, "grade": "qualified", "score": score}]
        answer = await e.post("/v1/ratings", json=rating, headers=d.branch_secretary)
        published.append(ok(answer, 201)["id"])
    branches = {"level": "township_rates_branches", "township_id": d.township, "period": "2027-B1"}
    branches["results"] = [{"subject_id": d.branch, "grade": "excellent", "score": 95}]
    township_rating = ok(await e.post("/v1/ratings", json=branches, headers=d.committee), 201)["id"]
    page = ok(
        await e.get(
            "/v1/ratings",
            params={"township_id": d.township, "level": "branch_rates_members", "limit": 1},
        )
    )
    assert (page["total"], [r["period"] for r in page["rows"]]) == (2, ["2027-02"])
    assert ok(await e.get(f"/v1/ratings/{published[0]}"))["period"] == "2027-01"

    secretary, _ = secretary_desk(county)
    first = shown(await secretary.get("/ratings"))
    assert "2027年2月" in listed(first, "published")
    assert "2027年1月" not in listed(first, "published")
    second = shown(await secretary.get("/ratings" + next_link(first)))
    assert "2027年1月" in listed(second, "published")
    assert "下一页" not in second
    assert "李秀英" in shown(await secretary.get(f"/ratings/{published[0]}"))
    # the township's rating is not the secretary's to read here, nor a rating not there
    assert (await secretary.get(f"/ratings/{township_rating}")).status_code == 404
    assert (await secretary.get("/ratings/ra-nowhere")).status_code == 404
    committee, _ = desk(county, "township_committee", d.township)
    theirs = shown(await committee.get("/ratings"))
    assert "2027年1–2月" in listed(theirs, "published")
    assert "翻页" not in theirs


async def test_the_review_ledger_page_by_page(
    servers: Servers, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(reviews, "PAGE", 1)
    async with world(servers, tmp_path) as w:
        d = w.d
        await synced(w.pledge, w.review)
        for held_on in ("2026-12-20", "2027-01-04"):
            body = review_body("member", d.member, held_on)
            ok(
                await w.review.client.post("/v1/reviews", json=body, headers=d.branch_secretary),
                201,
            )
        office, _ = signed_in_as(w.settings, servers, "township_office", d.township, "o-1", "赵")
        first = shown(await office.get("/reviews"))
        assert "点评台账（2 条）" in first
        assert next_link(first) == f"?township_id={d.township}&amp;page=2"
        second = shown(await office.get("/reviews" + unescape(next_link(first))))
        # the latest quarter first, a quarter a page here
        assert "2027年1月4日" in first
        assert "2026年12月20日" not in first
        assert "2026年12月20日" in second
