"""A county's own identity provider (issue 16, item 4): a real OpenID Connect provider process
(the npm package oidc-provider, tests/support/upstream_oidc.py) signs a person in through its
own pages; identity's upstream client (services/identity/upstream.py) gets the person it
vouches for, and refuses what does not belong to that sign-in."""

from __future__ import annotations

import json
import tempfile
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from services.identity.upstream import (
    Upstream,
    UpstreamRefused,
    UpstreamSettings,
    VerifiedPerson,
)
from tests.support.upstream_oidc import (
    UpstreamProvider,
    install_provider,
    sign_in,
    upstream_provider,
)

REDIRECT = "http://127.0.0.1:8105/upstream/callback"
ACCOUNTS = {
    "zhang-wei": {
        "name": "张伟",
        "phone_number": "+8613800000001",
        "phone_number_verified": True,
        "id_number": "62062119800101001x",
    },
    "unverified": {"phone_number": "+8613800000002", "phone_number_verified": False},
}


@pytest.fixture(scope="module")
def provider(pytestconfig: pytest.Config) -> Iterator[UpstreamProvider]:
    cache = getattr(pytestconfig, "cache", None)  # None under -p no:cacheprovider
    root = cache.mkdir("oidc-provider") if cache else Path(tempfile.gettempdir()) / "gongkai-npm"
    home = install_provider(Path(root))
    with upstream_provider(home, ACCOUNTS, redirect_uri=REDIRECT) as running:
        yield running


def upstream(provider: UpstreamProvider, **changes: object) -> Upstream:
    settings = UpstreamSettings(
        issuer=provider.issuer,
        client_id=provider.client_id,
        client_secret=provider.client_secret,
        scopes="openid profile phone id_card",
        id_number_claim="id_number",
    )
    return Upstream(settings.model_copy(update=changes))


async def test_a_person_signs_in_at_the_county_provider(provider: UpstreamProvider) -> None:
    client = upstream(provider)
    url, blob = await client.begin(REDIRECT)
    assert "code_challenge_method=S256" in url
    assert "verifier" not in url
    async with httpx.AsyncClient() as browser:
        callback = await sign_in(browser, url, REDIRECT, "zhang-wei", "any password")
    person = await client.finish(callback, blob)
    assert person == VerifiedPerson(
        issuer=provider.issuer,
        subject="zhang-wei",
        phone="+8613800000001",
        id_number="62062119800101001X",
        name="张伟",
    )

    # the same code again (a replay): the provider refuses it, nothing is vouched for
    with pytest.raises(UpstreamRefused, match="code was not accepted"):
        await client.finish(callback, blob)


async def test_what_does_not_belong_to_the_sign_in_is_refused(provider: UpstreamProvider) -> None:
    client = upstream(provider)
    url, blob = await client.begin(REDIRECT)
    _, other_blob = await client.begin(REDIRECT)
    async with httpx.AsyncClient() as browser:
        callback = await sign_in(browser, url, REDIRECT, "zhang-wei", "any password")
    with pytest.raises(UpstreamRefused, match="state"):  # another sign-in's state
        await client.finish(callback, other_blob)
    with pytest.raises(UpstreamRefused, match="iss"):
        await client.finish({**callback, "iss": "http://evil.example"}, blob)
    with pytest.raises(UpstreamRefused, match="state was lost"):
        await client.finish(callback, "not a blob")
    with pytest.raises(UpstreamRefused, match="access_denied"):
        await client.finish({"state": callback["state"], "error": "access_denied"}, blob)
    # a client the provider does not know under that id: the code is not redeemed
    stranger = upstream(provider, client_secret="wrong")
    with pytest.raises(UpstreamRefused, match="code was not accepted"):
        await stranger.finish(callback, blob)
    # an ID token minted for another sign-in (its nonce): refused after the code is redeemed
    kept = json.loads(blob)
    with pytest.raises(UpstreamRefused, match=r"ID token is not valid.*nonce"):
        await client.finish(callback, json.dumps({**kept, "nonce": "another-sign-in"}))


async def test_an_unverified_phone_matches_no_one(provider: UpstreamProvider) -> None:
    client = upstream(provider)
    url, blob = await client.begin(REDIRECT)
    async with httpx.AsyncClient() as browser:
        callback = await sign_in(browser, url, REDIRECT, "unverified", "any password")
    with pytest.raises(UpstreamRefused, match="neither"):
        await client.finish(callback, blob)


async def test_a_provider_naming_another_issuer_is_refused(provider: UpstreamProvider) -> None:
    client = upstream(provider, issuer=provider.issuer + "/")  # not exactly as it names itself
    with pytest.raises(UpstreamRefused, match="names itself"):
        await client.begin(REDIRECT)
