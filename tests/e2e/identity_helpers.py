"""The identity service beside the pledge service, for the sign-in tests: the directory is
built in the pledge service, the identity service learns it from the events, the office
issues an activation code, and a person signs in through the provider."""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from cryptography.hazmat.primitives import serialization

from services.identity.app import DEFINITION as IDENTITY
from services.identity.oidc.provider import Hat, Provider
from services.pledge.app import DEFINITION as PLEDGE
from shared.clock import FixedClock
from shared.runtime import ServiceDefinition
from tests.e2e.helpers import Directory, eventually, ok
from tests.support import RunningService, Servers, running

REDIRECT = "http://127.0.0.1:9/callback"  # the console's, registered; nothing listens there
PASSWORD = "Minqin-2027"
LOGIN = "13800001111"


def pkce() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    digest = hashlib.sha256(verifier.encode()).digest()
    return verifier, base64.urlsafe_b64encode(digest).decode().rstrip("=")


def authorize_url(base: str, challenge: str, state: str = "s1") -> str:
    query = httpx.QueryParams(
        response_type="code",
        client_id="console",
        redirect_uri=REDIRECT,
        code_challenge=challenge,
        code_challenge_method="S256",
        state=state,
        scope="openid",
        nonce="n1",
    )
    return f"{base}/authorize?{query}"


async def exchange(http: httpx.AsyncClient, back: httpx.Response, verifier: str) -> dict[str, str]:
    """The tokens for the code the provider sent the browser back with (`back`, its
    redirect to the client)."""
    assert back.status_code == 303, back.text
    location = back.headers["location"]
    assert location.startswith(REDIRECT), location
    code = httpx.URL(location).params["code"]
    form = {"grant_type": "authorization_code", "code": code, "client_id": "console"}
    form |= {"redirect_uri": REDIRECT, "code_verifier": verifier}
    tokens: dict[str, str] = ok(await http.post("/token", data=form))
    return tokens


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found, html
    return found.group(1)


@dataclass
class SignInWorld:
    identity: RunningService
    pledge: RunningService
    directory: Directory
    servers: Servers
    services: dict[str, RunningService] = field(default_factory=dict)  # pledge and `beside`
    signer: SignedByIdentity | None = None  # officials' tokens where the issuer is not Servers'

    @property
    def base(self) -> str:
        return str(self.identity.client.base_url).rstrip("/")

    async def activation_code(
        self, person_id: str, login: str = LOGIN, by: str = "township_office"
    ) -> str:
        """The township office (or `by`) issues the person's login name and activation code."""
        place = self.directory.county if by == "county_admin" else self.directory.township
        office = (self.signer or self.servers).auth(by, place)
        issued = ok(
            await self.identity.client.post(
                f"/v1/people/{person_id}/activation", json={"login_name": login}, headers=office
            ),
            201,
        )
        return str(issued["activation_code"])

    async def tokens(self, person_id: str, login: str) -> dict[str, str]:
        """What a client gets for a person of one post, through the provider as a browser
        would: the office's activation code, the person's own password, then authorization
        code with PKCE and the code exchanged at /token."""
        code = await self.activation_code(person_id, login)
        async with httpx.AsyncClient(base_url=self.base) as browser:
            form = {"csrf": csrf_of((await browser.get("/activate")).text), "code": code}
            form |= {"login_name": login, "password": PASSWORD, "password2": PASSWORD}
            activated = await browser.post("/activate", data=form)
            assert activated.status_code == 200, activated.text
            verifier, challenge = pkce()
            back = await browser.get(authorize_url(self.base, challenge))
            return await exchange(browser, back, verifier)


@dataclass
class SignedByIdentity:
    """Tokens for the directory's setup, signed with identity's key (as `Servers.auth`
    signs with the development key): the pledge service here trusts identity's key only."""

    provider: Provider

    def auth(self, role: str, org: str | None = None, subject: str | None = None) -> dict[str, str]:
        hat = Hat(subject or f"{role}-{org}", role, org or "")
        return {"Authorization": f"Bearer {self.provider.access_token(hat, 'tests')}"}


@asynccontextmanager
async def identity_beside_pledge(
    servers: Servers,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    redirect: str = REDIRECT,
    beside: tuple[ServiceDefinition, ...] = (),
    identity_port: int | None = None,
    issuer: str | None = None,
    start: datetime | None = None,
) -> AsyncIterator[SignInWorld]:
    """Identity, then the pledge service verifying with the key identity signs with (the
    stack points every service at identity's JWKS; in one process a blocking JWKS fetch
    would wait on the very loop that serves it), one NATS subject root, one clock. Identity
    on `identity_port` when given (a county's provider must know its callback beforehand),
    naming itself `issuer` when given (its public address behind a proxy; the officials'
    tokens are then identity's own). The services' clock from `start` when given (a walk
    through a year), else now."""
    monkeypatch.setenv("GONGKAI_IDENTITY_ARGON2_PROFILE", "cheapest")
    monkeypatch.setenv("GONGKAI_IDENTITY_CONSOLE_REDIRECT_URIS", redirect)
    clock = FixedClock(start or datetime.now(UTC))
    root = f"t{secrets.token_hex(4)}"
    port: dict[str, object] = {} if identity_port is None else {"port": identity_port}
    named = {} if issuer is None else {"jwt_issuer": issuer}
    async with running(
        servers, [IDENTITY], clock, nats_subject_root=root, **port, **named
    ) as first:
        identity = first["identity"]
        provider = identity.runtime.components["provider"]
        await provider.loaded.wait()
        pem = tmp_path / "identity.pub.pem"
        pem.write_bytes(
            provider.keys[0][1]
            .public_key()
            .public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
            )
        )
        async with running(
            servers,
            [PLEDGE, *beside],
            clock,
            nats_subject_root=root,
            jwt_public_key_file=pem,
            **named,
        ) as second:
            pledge = second["pledge"]
            directory = await Directory(pledge.client, SignedByIdentity(provider)).build()
            signer = SignedByIdentity(provider) if issuer else None
            admin = (signer or servers).auth("county_admin", directory.county)

            async def learned() -> bool:
                answer = await identity.client.get(
                    f"/v1/people/{directory.secretary}/posts", headers=admin
                )
                return answer.status_code == 200 and len(answer.json()["posts"]) == 2

            await eventually(learned)
            yield SignInWorld(identity, pledge, directory, servers, second, signer)
