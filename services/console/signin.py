"""Signing in through the identity service: OpenID Connect authorization code with PKCE.

authlib makes the PKCE verifier and its S256 challenge (RFC 7636); the requests are plain
OAuth 2.0 form posts over httpx (authlib's httpx integration is deprecated). PyJWT checks the
ID token and the access token against the identity service's JWKS (signature, issuer,
audience, expiry, and the nonce this browser was given), as every service checks the access
token.
"""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import httpx
import jwt
import structlog
from authlib.common.security import generate_token
from authlib.oauth2.rfc7636 import create_s256_code_challenge

from services.console.session import Session
from services.console.settings import ConsoleSettings

ALGORITHMS = ["EdDSA"]
REFRESHED_FOR_SECONDS = 60.0
log = structlog.get_logger()


class SignInFailed(Exception):
    """The sign-in could not be completed; the message is shown to the person (Chinese)."""


@dataclass(frozen=True)
class Provider:
    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    jwks_uri: str
    end_session_endpoint: str | None
    revocation_endpoint: str | None


class Identity:
    """The console's side of the sign-in, one per process."""

    def __init__(self, settings: ConsoleSettings, audience: str = "gongkai") -> None:
        self.settings = settings
        self.audience = audience
        self.redirect_uri = settings.public_url.rstrip("/") + "/callback"
        self._secret = (
            settings.client_secret_file.read_text().strip() if settings.client_secret_file else None
        )
        self._provider: Provider | None = None
        self._refreshing: dict[str, asyncio.Future[Session | None]] = {}
        self._refreshed: dict[str, tuple[float, Session]] = {}
        self._jwks: jwt.PyJWKClient | None = None

    def _http(self) -> httpx.AsyncClient:
        """A client for the identity service, with a confidential client's credentials (HTTP
        Basic), or none for a public client."""
        auth = httpx.BasicAuth(self.settings.client_id, self._secret) if self._secret else None
        return httpx.AsyncClient(timeout=10.0, auth=auth)

    def _authenticated(self, form: dict[str, str]) -> dict[str, str]:
        """The client names itself in the form (a confidential one authenticates as well)."""
        return form | {"client_id": self.settings.client_id}

    async def _token(self, endpoint: str, form: dict[str, str]) -> dict[str, Any]:
        """A token endpoint's answer to `form` (client authentication by secret, or by the
        PKCE verifier alone for a public client)."""
        async with self._http() as http:
            answer = await http.post(endpoint, data=self._authenticated(form))
        if answer.status_code != 200:
            raise SignInFailed("登录未能完成（授权码无效或已使用），请重新登录。")
        token: dict[str, Any] = answer.json()
        return token

    async def provider(self) -> Provider:
        """The identity service's endpoints, from its discovery document (read once). The
        browser is sent to the authorization endpoint as published (the issuer's, public);
        what the console calls itself (token, revocation, JWKS) it calls at
        `identity_internal_url` when one is set: behind a reverse proxy the public host need
        not be reachable from the console's own network."""
        if self._provider is None:
            url = self.settings.identity_backchannel + "/.well-known/openid-configuration"
            try:
                async with httpx.AsyncClient(timeout=10.0) as http:
                    answer = await http.get(url)
                answer.raise_for_status()
                d = answer.json()
                inside = self._inside(str(d["issuer"]))
                self._provider = Provider(
                    issuer=d["issuer"],
                    authorization_endpoint=d["authorization_endpoint"],
                    token_endpoint=inside(d["token_endpoint"]),
                    jwks_uri=inside(d["jwks_uri"]),
                    end_session_endpoint=d.get("end_session_endpoint"),
                    revocation_endpoint=(
                        inside(d["revocation_endpoint"]) if d.get("revocation_endpoint") else None
                    ),
                )
            except (httpx.HTTPError, KeyError, ValueError) as e:
                log.error("identity_discovery_failed", url=url, error=str(e))
                raise SignInFailed("统一身份认证服务暂时无法访问，请稍后再试。") from e
            self._jwks = jwt.PyJWKClient(self._provider.jwks_uri, cache_keys=True)
        return self._provider

    def _inside(self, issuer: str) -> Callable[[str], str]:
        """An endpoint under the issuer's (public) address, moved to the internal one. With an
        internal address, the issuer must be the configured identity_url (what OpenID Connect
        Discovery 4.3 asks of the address discovery is read at): otherwise browsers would be
        sent where the tokens do not come from."""
        if self.settings.identity_internal_url is None:
            return lambda endpoint: endpoint
        public = self.settings.identity_url.rstrip("/")
        if issuer.rstrip("/") != public:
            raise ValueError(f"the identity service names itself {issuer!r}, not {public!r}")
        internal = self.settings.identity_backchannel

        def moved(endpoint: str) -> str:
            if endpoint.startswith(public + "/"):
                return internal + endpoint[len(public) :]
            return endpoint

        return moved

    async def begin(self, prompt: str | None = None) -> tuple[str, dict[str, Any]]:
        """The identity service's authorization address, and what /callback must get back."""
        provider = await self.provider()
        verifier = generate_token(64)
        nonce = secrets.token_urlsafe(24)
        state = secrets.token_urlsafe(24)
        query = {
            "response_type": "code",
            "client_id": self.settings.client_id,
            "redirect_uri": self.redirect_uri,
            "scope": "openid profile",
            "state": state,
            "nonce": nonce,
            "code_challenge": create_s256_code_challenge(verifier),
            "code_challenge_method": "S256",
        } | ({"prompt": prompt} if prompt else {})
        url = provider.authorization_endpoint + "?" + urlencode(query)
        return url, {"state": state, "nonce": nonce, "verifier": verifier}

    async def finish(self, code: str, state: str, pending: dict[str, Any]) -> Session:
        if not secrets.compare_digest(str(pending.get("state", "")), state):
            raise SignInFailed("登录请求已失效，请重新登录。")
        provider = await self.provider()
        try:
            token = await self._token(
                provider.token_endpoint,
                {
                    "grant_type": "authorization_code",
                    "code": code,
                    "code_verifier": str(pending["verifier"]),
                    "redirect_uri": self.redirect_uri,
                },
            )
        except (httpx.HTTPError, ValueError) as e:
            raise SignInFailed("统一身份认证服务暂时无法访问，请稍后再试。") from e
        id_token = token.get("id_token")
        if not id_token:
            raise SignInFailed("登录未能完成（身份令牌缺失），请重新登录。")
        claims = await self._decode(id_token, audience=self.settings.client_id)
        if claims.get("nonce") != pending.get("nonce"):
            raise SignInFailed("登录请求已失效，请重新登录。")
        return await self._session(token)

    async def refresh(self, session: Session) -> Session | None:
        """A fresh access token from the refresh token (the identity service rotates it and
        revokes the whole family if a used one comes back), or None when the person must sign
        in again. Several requests carrying the same refresh token (two tabs, a double tap, a
        response whose new cookie the browser has not stored yet) share one refresh, and for
        a minute after it get its result instead of a second one. In this process only: with
        several replicas the reverse proxy keeps a browser on one (by the ROUTE_COOKIE set at
        sign-in), else two replicas refreshing the same token at once would be a reuse, and
        the identity service would end the person's whole token family."""
        old = session.refresh_token
        if not old:
            return None
        now = time.monotonic()
        self._refreshed = {k: v for k, v in self._refreshed.items() if v[0] > now}
        if old in self._refreshed:
            return self._refreshed[old][1]
        running = self._refreshing.get(old)
        if running is None:
            running = asyncio.ensure_future(self._refresh(session))
            self._refreshing[old] = running
            try:
                fresh = await running
            finally:
                self._refreshing.pop(old, None)
            if fresh is not None:
                self._refreshed[old] = (time.monotonic() + REFRESHED_FOR_SECONDS, fresh)
            return fresh
        return await running

    async def _refresh(self, session: Session) -> Session | None:
        assert session.refresh_token is not None
        try:
            provider = await self.provider()
            token = await self._token(
                provider.token_endpoint,
                {"grant_type": "refresh_token", "refresh_token": session.refresh_token},
            )
            return await self._session(token, keep=session)
        except (SignInFailed, httpx.HTTPError, ValueError, KeyError):
            return None

    async def sign_out(self, session: Session) -> None:
        """The refresh token's family revoked at the identity service, which ends the
        person's sign-in there too; the console's cookie is cleared whatever happens here."""
        try:
            provider = await self.provider()
        except SignInFailed:
            return
        if not provider.revocation_endpoint or not session.refresh_token:
            return
        form = {"token": session.refresh_token, "token_type_hint": "refresh_token"}
        try:
            async with self._http() as http:
                await http.post(provider.revocation_endpoint, data=self._authenticated(form))
        except httpx.HTTPError:  # the session cookie is cleared whatever the answer
            return

    async def _decode(self, token: str, *, audience: str) -> dict[str, Any]:
        provider = await self.provider()
        assert self._jwks is not None
        try:
            key = await asyncio.to_thread(self._jwks.get_signing_key_from_jwt, token)
            claims: dict[str, Any] = jwt.decode(
                token,
                key=key,
                algorithms=ALGORITHMS,
                audience=audience,
                issuer=provider.issuer,
                options={"require": ["exp", "iss", "aud", "sub"]},
            )
        except jwt.PyJWTError as e:
            raise SignInFailed("身份令牌校验失败，请重新登录。") from e
        return claims

    async def _session(self, token: dict[str, Any], keep: Session | None = None) -> Session:
        access = token["access_token"]
        claims = await self._decode(access, audience=self.audience)
        fresh = Session(
            access_token=access,
            refresh_token=token.get("refresh_token") or (keep.refresh_token if keep else None),
            expires_at=float(claims["exp"]),
            id_token=token.get("id_token") or (keep.id_token if keep else None),
            person=str(claims["sub"]),
            name=str(claims.get("name") or claims["sub"]),
            role=str(claims["role"]),
            org=claims.get("org"),
        )
        if keep is not None:
            fresh.csrf = keep.csrf  # forms already on the person's screen stay valid
        return fresh


def needs_refresh(session: Session, now: float | None = None, margin: float = 30.0) -> bool:
    return (now or time.time()) > session.expires_at - margin
