"""The auditor's "as of" day and the member's pages, without servers: the day is kept in the
session (an auditor's only) and passed with every read; a wrong day is answered beside its
field; the inbox and the member's rounds say what is there. Against the real services:
tests/e2e/test_console_peoplepages.py."""

from __future__ import annotations

import json
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from services.console.app import create_app
from services.console.pages.audit import back_to, checkpoint_row
from services.console.session import SESSION_COOKIE, Sealer, Session
from services.console.settings import ConsoleSettings
from services.console.web import TEMPLATES


def a_session(**changes: object) -> Session:
    fields: dict[str, object] = {
        "access_token": "at",
        "refresh_token": "rt",
        "expires_at": time.time() + 300,
        "id_token": None,
        "person": "p-audit",
        "name": "周明",
        "role": "auditor",
        "org": "c-1",
    }
    return Session(**(fields | changes))  # type: ignore[arg-type]


def console_for(
    tmp_path: Path, session: Session, transport: httpx.AsyncBaseTransport | None = None
) -> tuple[httpx.AsyncClient, Sealer]:
    settings = ConsoleSettings(
        session_key_file=tmp_path / "key",
        identity_url="http://127.0.0.1:9",
        pledge_url="http://127.0.0.1:9",
        evaluation_url="http://127.0.0.1:9",
        notification_url="http://127.0.0.1:9",
    )
    app = create_app(settings, transport=transport)
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://console")
    sealer = Sealer((tmp_path / "key").read_bytes())
    client.cookies.set(SESSION_COOKIE, sealer.seal_session(session))
    return client, sealer


def sealed_session(answer: httpx.Response, sealer: Sealer) -> Session:
    [cookie] = [c for c in answer.headers.get_list("set-cookie") if c.startswith(SESSION_COOKIE)]
    opened = sealer.session(cookie.split(";")[0].split("=", 1)[1].strip('"'), 60)
    assert opened is not None
    return opened


async def test_an_auditor_chooses_a_past_day_and_goes_back_to_today(tmp_path: Path) -> None:
    session = a_session()
    client, sealer = console_for(tmp_path, session)
    form = {"csrf": session.csrf, "key": "k", "back": "/township?township_id=t-1"}
    chosen = await client.post("/as-of", data={**form, "as_of": "2026-03-01"})
    assert chosen.status_code == 303
    assert chosen.headers["location"] == "/township?township_id=t-1"
    assert sealed_session(chosen, sealer).as_of == "2026-03-01"

    client.cookies.set(SESSION_COOKIE, sealer.seal_session(a_session(as_of="2026-03-01")))
    back = await client.post("/as-of", data={**form, "now": "1"})
    assert back.status_code == 303
    assert sealed_session(back, sealer).as_of is None


@pytest.mark.parametrize(
    ("typed", "hint"),
    [
        ("2027-02-30", "日期格式不对，例如 2027-03-15。"),
        ("", "日期格式不对，例如 2027-03-15。"),
        (str(date.today() + timedelta(days=2)), "或以前的日期。"),
        ("1999-12-31", "或以前的日期。"),
    ],
)
async def test_a_day_that_is_no_past_day_is_answered_beside_its_field(
    tmp_path: Path, typed: str, hint: str
) -> None:
    session = a_session()
    client, sealer = console_for(tmp_path, session)
    answer = await client.post(
        "/as-of", data={"csrf": session.csrf, "key": "k", "back": "/", "as_of": typed}
    )
    assert answer.status_code == 422
    assert 'id="as_of"' in answer.text
    assert 'aria-invalid="true"' in answer.text
    assert hint in answer.text
    assert sealed_session(answer, sealer).as_of is None


async def test_only_an_auditor_looks_back(tmp_path: Path) -> None:
    session = a_session(role="township_office", org="t-1")
    client, sealer = console_for(tmp_path, session)
    answer = await client.post(
        "/as-of", data={"csrf": session.csrf, "key": "k", "back": "/", "as_of": "2026-03-01"}
    )
    assert answer.status_code == 403
    assert "审计员使用" in answer.text
    for page in ("/audit", "/audit/checks", "/audit/checks/k-1", "/audit/pledge/export.zip"):
        assert (await client.get(page)).status_code == 403
    # a day left in an office clerk's session (there is no way to put one there) reads nothing
    client.cookies.set(
        SESSION_COOKIE, sealer.seal_session(a_session(role="member", as_of="2026-03-01"))
    )
    assert "正在查看" not in (await client.get("/my/rounds")).text


def test_the_form_goes_back_only_to_this_console() -> None:
    assert back_to("/audit/rounds?township_id=t-1") == "/audit/rounds?township_id=t-1"
    for elsewhere in ("//evil.example/x", "https://evil.example", "/\\evil.example", None, ""):
        assert back_to(elsewhere) == "/"


async def test_every_read_of_an_auditor_looking_back_carries_the_day(tmp_path: Path) -> None:
    """The day goes with every GET to the services (A3), whatever page asks; it is shown on
    every page; a record not there yet on that day says so. (The services' answers are stood
    in for: what is checked is what the console sends.)"""
    asked: list[httpx.URL] = []

    def services(request: httpx.Request) -> httpx.Response:
        asked.append(request.url)
        if request.url.path in ("/v1/counties/c-1", "/v1/townships/t-1"):
            return httpx.Response(404, json={"type": "urn:gongkai:problem:not-found"})
        if request.url.path == "/v1/inbox":
            return httpx.Response(200, json={"unread": 0, "notices": []})
        return httpx.Response(200, json=[])

    client, _ = console_for(tmp_path, a_session(as_of="2026-03-01"), httpx.MockTransport(services))
    page = await client.get("/audit/checks?township_id=t-1")
    assert page.status_code == 200
    assert "正在查看 2026年3月1日 的记录" in page.text
    assert "所选日期还没有乡镇的记录" in page.text
    reads = [u for u in asked if u.path != "/v1/inbox"]
    assert [u.path for u in reads] == ["/v1/counties/c-1", "/v1/satisfaction-checks"]
    assert {u.params["as_of"] for u in reads} == {"2026-03-01T23:59:59"}
    missing = await client.get("/township?township_id=t-1")
    assert missing.status_code == 404
    assert "2026年3月1日还没有这条记录" in missing.text

    asked.clear()
    client, _ = console_for(tmp_path, a_session(), httpx.MockTransport(services))
    await client.get("/audit/checks?township_id=t-1")
    assert all("as_of" not in u.params for u in asked)


def render(template: str, **context: Any) -> str:
    return TEMPLATES.get_template(template).render(
        me=a_session(role="member", org="b-1"),
        menu=[],
        path="/",
        here="/",
        csrf="c",
        new_key=lambda: "k",
        **context,
    )


def a_round(**changes: object) -> dict[str, object]:
    found: dict[str, object] = {
        "round_id": "r-1",
        "title": "党员民主评议",
        "organiser_kind": "branch",
        "year": 2027,
        "half": 1,
        "opens_on": "2027-06-01",
        "closes_on": "2027-07-08",
        "status": "open",
        "invited": False,
        "voted": False,
    }
    return found | changes


def test_a_member_is_told_how_to_vote_in_each_round() -> None:
    vote = "https://vote.example/vote"
    invited = render("my_rounds.html", open=[a_round(invited=True)], closed=[], vote_url=vote)
    assert f'href="{vote}"' in invited
    assert "去投票" in invited
    waiting = render("my_rounds.html", open=[a_round()], closed=[], vote_url=vote)
    assert "去投票" not in waiting
    assert "请向支部书记领取邀请码" in waiting
    done = render("my_rounds.html", open=[a_round(voted=True)], closed=[], vote_url=vote)
    assert "您已投票" in done
    assert "去投票" not in done
    none = render("my_rounds.html", open=[], closed=[a_round(status="closed")], vote_url=vote)
    assert "目前没有需要您参加的评议" in none
    assert "已结束的评议（1）" in none


def test_the_inbox_pages_forward_and_back() -> None:
    notice = {"notice_id": "n-1", "title": "请起草承诺", "body": "", "due_on": "2027-03-15"}
    inbox = {"unread": 1, "notices": [notice]}
    first = render("home.html", inbox=inbox, page=1, has_more=True)
    assert 'href="?page=2">下一页' in first
    assert "上一页" not in first
    last = render("home.html", inbox=inbox, page=3, has_more=False)
    assert 'href="?page=2">上一页' in last
    assert "下一页" not in last
    alone = render("home.html", inbox=inbox, page=1, has_more=False)
    assert "翻页" not in alone


def test_a_checkpoint_reads_in_local_time_with_its_events_counted() -> None:
    body = {
        "id": 7,
        "issued_at": "2027-03-01T16:30:00Z",
        "partitions": {"t-1": {"size": 5, "root": "aa"}, "t-2": {"size": 2, "root": "bb"}},
        "root": "cc",
    }
    row = checkpoint_row({"id": 7, "body": json.dumps(body), "key_id": "k1", "signature": ""})
    assert row == {
        "id": 7,
        "issued": "2027年3月2日 00:30",  # in China
        "key_id": "k1",
        "townships": 2,
        "events": 7,
        "root": "cc",
    }


async def test_a_members_pages_are_hers_alone(tmp_path: Path) -> None:
    for role, org in (("auditor", "c-1"), ("branch_secretary", "b-1"), ("township_office", "t-1")):
        client, _ = console_for(tmp_path, a_session(role=role, org=org))
        for page in ("/my/rounds", "/my/grades"):
            answer = await client.get(page)
            assert answer.status_code == 403
            assert "请切换到党员身份" in answer.text


def test_a_services_checkpoints_page_and_offer_the_export() -> None:
    row = {"id": 41, "issued": "2027年3月2日 00:30", "key_id": "k1", "townships": 2}
    html = TEMPLATES.get_template("audit.html").render(
        me=a_session(),
        menu=[],
        path="/audit",
        here="/audit?service=review",
        csrf="c",
        new_key=lambda: "k",
        logs={"pledge": "承诺", "review": "评议评价"},
        service="review",
        rows=[row | {"events": 9, "root": "ab"}],
        total=41,
        page=1,
        pages=3,
        townships=[{"township_id": "t-1", "name": "红沙梁镇"}],
        refused=None,
    )
    assert 'href="?service=review&amp;page=2">下一页' in html
    assert 'action="/audit/review/export.zip"' in html
    assert '<option value="t-1">红沙梁镇</option>' in html
    assert 'action="/audit/review/checkpoints"' in html
