"""The console's end-to-end tests' common setup: the people the county administrator creates
and grants a post, the console's settings for the services a test world runs, serving it, a
person activating their account (with the second factor an auditor's or an administrator's
post asks for) and signing in, and the console in this process with a sealed session."""

from __future__ import annotations

import secrets
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pyotp
import pytest
from playwright.async_api import Page, expect

from gongkai.develop.serving import serving
from services.console.app import create_app
from services.console.session import SESSION_COOKIE, Sealer, Session, load_key
from services.console.settings import ConsoleSettings
from shared.embedded import free_port
from shared.runtime import ServiceDefinition
from tests.e2e.helpers import eventually, ok
from tests.e2e.identity_helpers import PASSWORD, SignInWorld, identity_beside_pledge
from tests.support import Servers

HEAD = "p-head-wang"
NOWHERE = "http://127.0.0.1:9"  # a service not running: its pages say they cannot read it


async def person(world: SignInWorld, name: str, post: dict[str, str]) -> str:
    """A person the county administrator creates and grants one post."""
    admin = world.servers.auth("county_admin", world.directory.county)
    body = {"name": name, "county_id": world.directory.county}
    made = ok(await world.identity.client.post("/v1/people", json=body, headers=admin), 201)
    ok(
        await world.identity.client.post(
            f"/v1/people/{made['id']}/posts", json=post, headers=admin
        ),
        201,
    )
    return str(made["id"])


async def office_clerk(world: SignInWorld) -> str:
    """赵文静, a clerk of the directory's township office."""
    post = {"role": "township_office", "org": world.directory.township}
    return await person(world, "赵文静", post)


async def township_head(world: SignInWorld) -> None:
    """The county appoints 王振华 (HEAD) the township's head; identity learns the post."""
    d = world.directory
    ok(
        await world.pledge.client.post(
            f"/v1/townships/{d.township}/head",
            json={"person_id": HEAD, "name": "王振华"},
            headers=d.as_("county_admin", d.county),
        )
    )
    await eventually(lambda: has_posts(world, HEAD, 1))


async def has_posts(world: SignInWorld, person_id: str, count: int) -> bool:
    admin = world.servers.auth("county_admin", world.directory.county)
    answer = await world.identity.client.get(f"/v1/people/{person_id}/posts", headers=admin)
    return answer.status_code == 200 and len(answer.json()["posts"]) == count


async def township_copied(world: SignInWorld, having: str) -> None:
    """Wait until the evaluation service's copy of the township lists `having`."""
    evaluation = world.services["evaluation"].client

    async def known() -> bool:
        answer = await evaluation.get(f"/v1/directory/townships/{world.directory.township}")
        return answer.status_code == 200 and having in answer.text

    await eventually(known)


@asynccontextmanager
async def world_for_console(
    servers: Servers,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    beside: tuple[ServiceDefinition, ...] = (),
    start: datetime | None = None,
) -> AsyncIterator[tuple[SignInWorld, str]]:
    """Identity beside pledge (and `beside`) for a console on a free port: the world and the
    console's address, its sign-in's redirect registered with the identity service; the
    services' clock from `start` when given."""
    console_url = f"http://127.0.0.1:{free_port()}"
    async with identity_beside_pledge(
        servers,
        monkeypatch,
        tmp_path,
        redirect=f"{console_url}/callback",
        beside=beside,
        start=start,
    ) as world:
        yield world, console_url


def console_settings(
    world: SignInWorld, console_url: str, tmp_path: Path, **more: Any
) -> ConsoleSettings:
    """The console at `console_url` against every service the world runs (one not running is
    NOWHERE), signing in at its identity service."""
    urls = {
        f"{name}_url": str(world.services[name].client.base_url)
        for name in ("review", "evaluation", "notification")
        if name in world.services
    }
    return ConsoleSettings(
        port=int(console_url.rsplit(":", 1)[1]),
        public_url=console_url,
        identity_url=world.base,
        pledge_url=str(world.pledge.client.base_url),
        **({"notification_url": NOWHERE} | urls | more),
        session_key_file=tmp_path / "console.key",
    )


@asynccontextmanager
async def console_serving(settings: ConsoleSettings) -> AsyncIterator[str]:
    """The console served on its settings' port; yields its address."""
    async with serving(create_app(settings), settings.port):
        yield settings.public_url


async def activate(
    page: Page, world: SignInWorld, login: str, code: str, second_factor: bool = False
) -> None:
    """A first sign-in at the identity service: the activation code and a new password, then,
    for a post that asks for it, the one-time code of the authenticator enrolled (at the
    identity service's clock); the person is signed in there."""
    await page.goto(f"{world.base}/activate")
    await page.get_by_label("手机号或身份证号").fill(login)
    await page.get_by_label("激活码").fill(code)
    await page.get_by_label("新密码").fill(PASSWORD)
    await page.get_by_label("再次输入").fill(PASSWORD)
    await page.get_by_role("button", name="激活并登录").click()
    if second_factor:
        secret = await page.locator(".code").inner_text()
        now = world.identity.clock.now()
        await page.get_by_label("验证码").fill(pyotp.TOTP(secret.strip()).at(now))
        await page.get_by_role("button", name="确认").click()
    await expect(page.locator("h2")).to_contain_text("已登录")


async def sign_in(
    page: Page,
    world: SignInWorld,
    person_id: str,
    login: str,
    console: str | None = None,
    *,
    by: str = "township_office",
    second_factor: bool = False,
) -> None:
    """The office (or `by`) issues the person's activation code, they activate their account
    and, given the console's address, sign in to it."""
    code = await world.activation_code(person_id, login, by=by)
    await activate(page, world, login, code, second_factor)
    if console is not None:
        await page.goto(f"{console}/signin")


class Console:
    """The console in this process (no browser), against the real services: a person's
    session is sealed with a token the services trust, as signing in would leave it."""

    def __init__(self, servers: Servers, tmp_path: Path, **urls: Any) -> None:
        settings = ConsoleSettings(
            session_key_file=tmp_path / "console.key",
            identity_url=NOWHERE,
            **({"notification_url": NOWHERE} | urls),
        )
        app = create_app(settings)
        self.sealer = Sealer(load_key(settings.session_key_file))
        self.http = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://c")
        self.servers = servers
        self.csrf = ""

    def as_(self, role: str, org: str, subject: str | None = None, name: str = "测试") -> None:
        session = Session(
            access_token=self.servers.token(role, org, subject),
            refresh_token="unused",
            expires_at=time.time() + 600,
            id_token=None,
            person=subject or f"{role}-{org}",
            name=name,
            role=role,
            org=org,
        )
        self.http.cookies.clear()  # the last person's session, as the console re-sealed it
        self.http.cookies.set(SESSION_COOKIE, self.sealer.seal_session(session))
        self.csrf = session.csrf

    async def post(self, path: str, **form: str) -> httpx.Response:
        data = {"csrf": self.csrf, "key": secrets.token_urlsafe(12)} | form
        return await self.http.post(path, data=data)
