"""Issue 18's done-when, kept: the demo county `gongkai up` loads gives each of its demo people
a working day in the console. Every service runs here with the demo county loaded exactly as
`gongkai up` loads it (`load_demos`: each service's part, then the accounts it prints); each
demo person signs in over HTTP as a browser would (password; the one-time code the county
administrator and the auditor enrol; the secretary's choice of post) and opens every page of
their post's menu: each answers 200 with no error page, and the pages the demo is meant to
fill are not empty. A demo-data or a page regression fails here, not in front of a county."""

from __future__ import annotations

import asyncio
import re
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from html import unescape
from pathlib import Path

import httpx
import pyotp
import pytest
from cryptography.hazmat.primitives import serialization

from gongkai.develop.commands import load_demos
from gongkai.develop.serving import serving
from services.console.app import create_app
from services.console.settings import ConsoleSettings
from services.console.web import MENUS
from services.evaluation.app import DEFINITION as EVALUATION
from services.identity.app import DEFINITION as IDENTITY
from services.notification.app import DEFINITION as NOTIFICATION
from services.pledge.app import DEFINITION as PLEDGE
from services.review.app import DEFINITION as REVIEW
from shared.auth import LocalSigningKey
from shared.clock import FixedClock
from shared.embedded import free_port
from tests.support import RunningService, Servers, running

# what the demo puts on a post's pages for it to work on (path -> a text the page shows); the
# secretary's 待办 on any day: the month's journal meeting of the member the demo left out
SOMETHING_TO_DO = {
    "county_admin": {"/deliveries": "短信", "/setup": "定诺截止"},
    "township_office": {
        "/checks": "完成支渠防渗改造3公里",
        "/selections": "优秀共产党员评选",
        "/bulletins": "承诺践诺推进情况督查通报",
        "/channels": "红沙梁镇短信提醒",
        "/roster": "已导入",  # the roster the demo's office imported from the template
    },
    "township_committee": {"/selections": "优秀共产党员评选"},
    "branch_secretary": {"/": "知道了", "/selections": "优秀共产党员评选"},
    "member": {"/pledge": "已公开", "/journal": "月度讲评"},
}


@dataclass
class Stack:
    identity: RunningService
    services: dict[str, RunningService]
    console_url: str
    sign_ins: list[tuple[str, str, str, str]] = field(default_factory=list)

    def url(self, service: str) -> str:
        return str(self.services[service].client.base_url).rstrip("/")


def provider_key(identity: RunningService) -> tuple[LocalSigningKey, bytes]:
    """The identity service's signing key as the demo loaders sign with it (every other
    service here trusts that key alone, as `gongkai up`'s trust the identity JWKS), and its
    public half."""
    kid, private = identity.runtime.components["provider"].keys[0]
    key = LocalSigningKey(
        private.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    key.kid = kid
    return key, key.public_pem


@asynccontextmanager
async def demo_stack(
    servers: Servers, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> AsyncIterator[Stack]:
    port = free_port()
    console_url = f"http://127.0.0.1:{port}"
    monkeypatch.setenv("GONGKAI_IDENTITY_ARGON2_PROFILE", "cheapest")
    monkeypatch.setenv("GONGKAI_IDENTITY_CONSOLE_REDIRECT_URIS", f"{console_url}/callback")
    clock = FixedClock(datetime.now(UTC))
    root = f"t{secrets.token_hex(4)}"
    async with running(servers, [IDENTITY], clock, nats_subject_root=root) as first:
        identity = first["identity"]
        await identity.runtime.components["provider"].loaded.wait()
        key, public = provider_key(identity)
        pem = tmp_path / "identity.pub.pem"
        pem.write_bytes(public)
        others = [PLEDGE, REVIEW, EVALUATION, NOTIFICATION]
        async with running(
            servers, others, clock, nats_subject_root=root, jwt_public_key_file=pem
        ) as started:
            stack = Stack(identity, started | first, console_url)
            urls = {name: stack.url(name) for name in stack.services}
            stack.sign_ins = await asyncio.to_thread(load_demos, urls, key)
            assert {row[0] for row in stack.sign_ins} == set(SOMETHING_TO_DO) | {"auditor"}
            worker = started["notification"].runtime.components["worker"]
            assert await worker.tick() > 0  # the reminders the demo calendar makes due now
            await worker.deliver_due()  # by SMS, with no SMS account here: given up at once
            settings = ConsoleSettings(
                port=port,
                public_url=console_url,
                identity_url=urls["identity"],
                pledge_url=urls["pledge"],
                review_url=urls["review"],
                evaluation_url=urls["evaluation"],
                notification_url=urls["notification"],
                session_key_file=tmp_path / "console.key",
            )
            async with serving(create_app(settings), port):
                yield stack


def form_fields(html: str) -> dict[str, str]:
    """The hidden fields of the page's first form (CSRF token, the sign-in request)."""
    return {
        name: unescape(value)
        for name, value in re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)"', html)
    }


async def sign_in(
    browser: httpx.AsyncClient, stack: Stack, role: str, login: str, password: str
) -> httpx.Response:
    """Through the identity service's pages, as a browser: password, the one-time code
    (enrolled now: the secret the page shows), the post to work in."""
    page = await browser.get(f"{stack.console_url}/signin")
    assert page.url.path == "/authorize", page.url
    base = stack.url("identity")
    fields = form_fields(page.text) | {"login_name": login, "password": password}
    page = await browser.post(f"{base}/signin", data=fields)
    if 'name="code"' in page.text:
        secret = re.search(r'<span class="code">([A-Z2-7]+)</span>', page.text)
        assert secret, "the county administrator and the auditor enrol a code"
        code = pyotp.TOTP(secret.group(1)).at(stack.identity.clock.now())
        page = await browser.post(
            f"{base}/signin/code", data=form_fields(page.text) | {"code": code}
        )
    if "选择身份" in page.text:  # the secretary is a member too: works as secretary
        hats = re.findall(
            r'name="role" value="(\w+)">\s*<input type="hidden" name="org" value="([^"]*)"',
            page.text,
        )
        org = next(o for r, o in hats if r == role)
        chosen = form_fields(page.text) | {"role": role, "org": org}
        page = await browser.post(f"{base}/authorize/hat", data=chosen)
    assert str(page.url).startswith(stack.console_url), (role, page.url, page.text[:500])
    return page


async def test_every_demo_person_signs_in_and_every_page_of_their_menu_answers(
    servers: Servers, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    async with demo_stack(servers, monkeypatch, tmp_path) as stack:
        for role, _, login, password in stack.sign_ins:
            async with httpx.AsyncClient(follow_redirects=True, timeout=30) as browser:
                home = await sign_in(browser, stack, role, login, password)
                assert "退出" in home.text, (role, home.text[:500])
                for path, label in MENUS[role]:
                    page = await browser.get(f"{stack.console_url}{path}")
                    assert page.status_code == 200, (role, path, page.text[:500])
                    assert "出错了" not in page.text, (role, path)
                    assert f">{label}" in page.text  # the menu is there
                    wanted = SOMETHING_TO_DO.get(role, {}).get(path)
                    assert wanted is None or wanted in page.text, (role, label, wanted)
