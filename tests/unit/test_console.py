"""The console's own mechanism, without servers: the session cookie (sealed, tamper-proof,
idle timeout), CSRF on every form, refusals shown in Chinese beside their fields, and the
proposal form's rows. The pages against the real identity and services: tests/e2e."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import httpx
import pytest
from cryptography.fernet import Fernet

from services.console.app import create_app
from services.console.calls import Refused
from services.console.pages.pledges import proposed_items
from services.console.session import SESSION_COOKIE, Sealer, Session
from services.console.settings import ConsoleSettings
from services.console.web import TEMPLATES


def a_session(**changes: object) -> Session:
    fields: dict[str, object] = {
        "access_token": "at",
        "refresh_token": "rt",
        "expires_at": time.time() + 300,
        "id_token": None,
        "person": "p-1",
        "name": "张三",
        "role": "member",
        "org": "m-1",
    }
    return Session(**(fields | changes))  # type: ignore[arg-type]


def test_a_sealed_session_opens_only_unaltered_and_not_idle() -> None:
    sealer = Sealer(Fernet.generate_key())
    sealed = sealer.seal_session(a_session())
    opened = sealer.session(sealed, idle_seconds=60)
    assert opened is not None
    assert opened.name == "张三"
    assert opened.csrf
    assert sealer.session(sealed[:-2] + "AA", idle_seconds=60) is None  # altered
    assert sealer.session("not a cookie", idle_seconds=60) is None
    other = Sealer(Fernet.generate_key())
    assert other.session(sealed, idle_seconds=60) is None  # another installation's key
    assert sealer.session(sealed, idle_seconds=-1) is None  # idled out


def test_a_refusal_reads_in_chinese_with_each_field_named() -> None:
    answer = httpx.Response(
        422,
        json={
            "type": "urn:gongkai:problem:invalid-input",
            "detail": "items.0.title: Field required",
            "errors": [
                {"field": "body.items.0.title", "reason": "Field required", "code": "missing"},
                {
                    "field": "body.items.0.due_date",
                    "reason": "bad",
                    "code": "date_from_datetime_parsing",
                },
            ],
        },
    )
    refused = Refused.of(answer)
    assert refused.message == "填写的内容有误，请按提示修改后再提交。"
    assert refused.fields == {
        "items.0.title": "请填写此项。",
        "items.0.due_date": "日期格式不对，例如 2027-03-15。",
    }
    forbidden = Refused.of(httpx.Response(403, json={"type": "urn:gongkai:problem:forbidden"}))
    assert forbidden.message == "您当前的身份无权进行此操作。"
    assert Refused.of(httpx.Response(502, text="<html>")).message.startswith("服务出错")


def test_the_proposal_form_sends_filled_rows_only() -> None:
    form = {
        "basis": "征求意见3次",
        "items.0.title": "修渠",
        "items.0.category": "产业发展",
        "items.0.target": "3公里",
        "items.0.due_date": "2027-10-01",
        "items.0.description": "改造支渠",
        "items.1.title": "",
        "items.1.category": "产业发展",  # a select always sends its first choice
        "items.1.target": "",
        "items.2.title": "帮扶",  # half filled: sent, the service names what is missing
    }
    items = proposed_items(form)
    assert [i["title"] for i in items] == ["修渠", "帮扶"]
    assert items[1]["target"] == ""


@pytest.fixture
def console(tmp_path: Path) -> httpx.AsyncClient:
    settings = ConsoleSettings(
        session_key_file=tmp_path / "key",
        identity_url="http://127.0.0.1:9",
        pledge_url="http://127.0.0.1:9",
    )
    app = create_app(settings)
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://console")


async def test_without_a_session_a_person_is_sent_to_sign_in(console: httpx.AsyncClient) -> None:
    home = await console.get("/")
    assert home.status_code == 200
    assert "登录" in home.text
    assert home.headers["content-security-policy"].startswith("default-src 'self'")
    assert (await console.get("/pledge")).headers["location"] == "/signin"
    posted = await console.post("/pledge", data={"csrf": "x"})
    assert posted.status_code == 401
    assert "重新登录" in posted.text


async def test_a_form_without_its_csrf_token_is_refused(
    console: httpx.AsyncClient, tmp_path: Path
) -> None:
    sealer = Sealer((tmp_path / "key").read_bytes())
    console.cookies.set(SESSION_COOKIE, sealer.seal_session(a_session()))
    for data in ({}, {"csrf": "forged", "key": "k"}):
        answer = await console.post("/pledge", data=data)
        assert answer.status_code == 403
        assert "页面已过期" in answer.text


def test_a_session_shows_no_token_when_printed() -> None:
    shown = repr(a_session(access_token="secret-access", refresh_token="secret-refresh"))
    assert "secret" not in shown
    assert "张三" in shown


async def test_concurrent_refreshes_of_one_token_make_one_call(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Two tabs (or a double tap) refreshing with the same refresh token: one rotation at
    the identity service, both get its result; a late third one too, from the minute's memory
    (a second rotation would be a reuse, and the identity service would end the family)."""
    identity = create_app(ConsoleSettings(session_key_file=tmp_path / "key")).state.console.identity
    calls: list[str] = []

    async def rotate(session: Session) -> Session:
        calls.append(str(session.refresh_token))
        await asyncio.sleep(0.05)
        return a_session(refresh_token="rt-2")

    monkeypatch.setattr(identity, "_refresh", rotate)
    first, second = await asyncio.gather(
        identity.refresh(a_session(refresh_token="rt-1")),
        identity.refresh(a_session(refresh_token="rt-1")),
    )
    late = await identity.refresh(a_session(refresh_token="rt-1"))
    assert calls == ["rt-1"]
    assert first is second is late
    assert first is not None
    assert first.refresh_token == "rt-2"


async def test_an_error_page_carries_the_session_on(
    console: httpx.AsyncClient, tmp_path: Path
) -> None:
    """A refused page (here: a member on the township's review page) still seals the
    session into its answer, so a refreshed token's new refresh token reaches the browser."""
    sealer = Sealer((tmp_path / "key").read_bytes())
    console.cookies.set(SESSION_COOKIE, sealer.seal_session(a_session()))
    answer = await console.get("/review")
    assert answer.status_code == 403
    assert "乡镇党委和创先办使用" in answer.text
    # in the person's own layout: her menu and sign-out, not the public page's 登录
    assert 'href="/pledge"' in answer.text
    assert "退出" in answer.text
    assert 'href="/signin"' not in answer.text
    [cookie] = [c for c in answer.headers.get_list("set-cookie") if c.startswith(SESSION_COOKIE)]
    opened = sealer.session(cookie.split(";")[0].split("=", 1)[1].strip('"'), 60)
    assert opened is not None
    assert opened.name == "张三"


async def test_a_stale_sign_out_form_asks_again_and_signs_no_one_out(
    console: httpx.AsyncClient, tmp_path: Path
) -> None:
    sealer = Sealer((tmp_path / "key").read_bytes())
    console.cookies.set(SESSION_COOKIE, sealer.seal_session(a_session()))
    answer = await console.post("/signout", data={"csrf": "stale"})
    assert answer.status_code == 200
    assert "确认退出" in answer.text
    assert not any("Max-Age=0" in c for c in answer.headers.get_list("set-cookie"))  # still in


async def test_every_page_shows_how_many_notices_are_unread(tmp_path: Path) -> None:
    """The menu's 待办 carries the inbox's unread count (the notification service's answer,
    stood in for here; the pages against the real services: tests/e2e/test_console.py)."""

    def notification(request: httpx.Request) -> httpx.Response:
        assert request.headers["authorization"] == "Bearer at"  # the person's own token
        return httpx.Response(200, json={"unread": 3, "notices": []})

    settings = ConsoleSettings(session_key_file=tmp_path / "key")
    app = create_app(settings, transport=httpx.MockTransport(notification))
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://console")
    sealer = Sealer((tmp_path / "key").read_bytes())
    client.cookies.set(SESSION_COOKIE, sealer.seal_session(a_session()))
    page = await client.get("/journal?month=2027-03")  # any page: the count is in the menu
    assert '待办 <span class="badge">3</span>' in page.text


@pytest.mark.parametrize(("role", "offered"), [("township_office", 1), ("township_committee", 0)])
def test_only_the_office_is_offered_to_print_invitations(role: str, offered: int) -> None:
    """Who registers a round's raters invites them: the office; the committee sees turnout."""
    rounds = [
        {
            "round_id": "r-1",
            "title": "群众评议",
            "opens_on": "2027-06-01",
            "closes_on": "2027-07-10",
            "status": "open",
        }
    ]
    turnout = {"r-1": {"registered": 3, "invited": 0, "voted": 0}}
    html = TEMPLATES.get_template("rounds.html").render(
        me=a_session(role=role, org="t-1"),
        menu=[],
        path="/rounds",
        csrf="c",
        new_key=lambda: "k",
        rounds={"rows": rounds, "total": 1},
        turnouts=turnout,
        page=1,
        pages=1,
    )
    assert "评议人 3 人" in html
    assert html.count("打印邀请码") == offered
