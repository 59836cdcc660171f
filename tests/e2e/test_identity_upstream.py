"""Issue 16, item 4, end to end: a county's own identity provider signs people in through the
identity service's own routes. The county's provider is a real OpenID Connect provider process
(the npm package oidc-provider, tests/support/upstream_oidc.py); identity is linked to it by
its `GONGKAI_IDENTITY_UPSTREAM_*` settings. A member whose login name (a phone number) the
office issued signs in there from identity's sign-in page (`/upstream/begin`), comes back to
`/upstream/callback`, and the console gets our tokens by authorization code with PKCE; the link
is an event. Someone the county's provider knows but identity does not, and someone whose phone
the provider did not verify, are refused in Chinese and get no code."""

from __future__ import annotations

import re
from collections.abc import Iterator
from html import unescape
from pathlib import Path

import httpx
import jwt
import pytest

from services.identity.api.pages import REFUSED
from shared.embedded import free_port
from tests.e2e.helpers import ok
from tests.e2e.identity_helpers import (
    LOGIN,
    SignInWorld,
    authorize_url,
    exchange,
    identity_beside_pledge,
    pkce,
)
from tests.support import Servers
from tests.support.upstream_oidc import (
    UpstreamProvider,
    provider_home,
    sign_in,
    upstream_provider,
)

IDENTITY_PORT = free_port()
CALLBACK = f"http://127.0.0.1:{IDENTITY_PORT}/upstream/callback"
ACCOUNTS = {
    "li-na": {"name": "李娜", "phone_number": "+86 138 0000 1111", "phone_number_verified": True},
    "stranger": {"phone_number": "+8613900009999", "phone_number_verified": True},
    "unverified": {"phone_number": "+8613800001111", "phone_number_verified": False},
}


@pytest.fixture(scope="module")
def county_provider(pytestconfig: pytest.Config) -> Iterator[UpstreamProvider]:
    with upstream_provider(provider_home(pytestconfig), ACCOUNTS, redirect_uri=CALLBACK) as up:
        yield up


async def at_the_county_provider(
    world: SignInWorld, browser: httpx.AsyncClient, account: str
) -> tuple[httpx.Response, str]:
    """A browser opens the console's sign-in (identity's page), follows 使用本县统一身份认证登录,
    signs in at the county's provider as `account` and comes back to identity's callback:
    identity's answer, and the PKCE verifier."""
    verifier, challenge = pkce()
    page = await browser.get(authorize_url(world.base, challenge))
    assert page.status_code == 200
    link = re.search(r'<a href="(/upstream/begin\?[^"]+)">使用本县统一身份认证登录</a>', page.text)
    assert link, page.text
    back = await sign_in(browser, world.base + unescape(link.group(1)), CALLBACK, account, "pw")
    assert set(back) >= {"code", "state"}  # the county's provider vouched for someone
    return await browser.get("/upstream/callback", params=back), verifier


async def test_the_county_provider_signs_a_member_in_and_strangers_are_refused(
    servers: Servers,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    county_provider: UpstreamProvider,
) -> None:
    monkeypatch.setenv("GONGKAI_IDENTITY_UPSTREAM_ISSUER", county_provider.issuer)
    monkeypatch.setenv("GONGKAI_IDENTITY_UPSTREAM_CLIENT_ID", county_provider.client_id)
    monkeypatch.setenv("GONGKAI_IDENTITY_UPSTREAM_CLIENT_SECRET", county_provider.client_secret)
    monkeypatch.setenv("GONGKAI_IDENTITY_UPSTREAM_SCOPES", "openid profile phone")
    async with identity_beside_pledge(
        servers, monkeypatch, tmp_path, identity_port=IDENTITY_PORT
    ) as world:
        member, pool = world.directory.member, world.identity.runtime.pool
        await world.activation_code(member, LOGIN)  # the office issued her login name

        # the member signs in at the county's provider and the console gets our tokens
        async with httpx.AsyncClient(base_url=world.base) as browser:
            answer, verifier = await at_the_county_provider(world, browser, "li-na")
            tokens = await exchange(browser, answer, verifier)
        claims = jwt.decode(tokens["access_token"], options={"verify_signature": False})
        assert (claims["sub"], claims["role"], claims["org"]) == (
            member,
            "member",
            world.directory.branch,
        )
        bearer = {"Authorization": f"Bearer {tokens['access_token']}"}
        assert ok(await world.identity.client.get(f"/v1/people/{member}", headers=bearer))
        links = await pool.fetch("SELECT body FROM events WHERE type = 'UpstreamLinked'")
        assert len(links) == 1
        link = bytes(links[0]["body"]).decode()
        assert member in link
        assert "li-na" not in link  # the provider's subject only as a hash

        # someone the county's provider knows and identity does not: refused, no code
        async with httpx.AsyncClient(base_url=world.base) as browser:
            answer, _ = await at_the_county_provider(world, browser, "stranger")
            assert answer.status_code == 401
            assert REFUSED in answer.text
            assert "location" not in answer.headers
        # a phone number the county's provider did not verify matches no one
        async with httpx.AsyncClient(base_url=world.base) as browser:
            answer, _ = await at_the_county_provider(world, browser, "unverified")
            assert answer.status_code == 401
            assert "县统一身份认证未能确认您的身份" in answer.text
            assert "location" not in answer.headers
        assert len(await pool.fetch("SELECT 1 FROM events WHERE type = 'UpstreamLinked'")) == 1
