"""The OpenID Connect provider's protocol work: signing keys and the JWKS, sessions,
authorization codes (PKCE S256 only), rotating refresh tokens with family revocation on
reuse, client credentials. Codes, refresh tokens and session ids are kept only as hashes.

authlib supplies the protocol pieces (PKCE's S256 transform, the OAuth error codes, JWK
export); its `AuthorizationServer` is not used: its grants call storage synchronously, and
every store here is asyncpg inside a transaction.
"""

from __future__ import annotations

import asyncio
import base64
import hmac
import secrets
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from hashlib import sha256
from pathlib import Path
from typing import Any

import asyncpg
import jwt
from authlib.oauth2.rfc6749.errors import (
    InvalidClientError,
    InvalidGrantError,
    InvalidRequestError,
    OAuth2Error,
    UnsupportedGrantTypeError,
)
from authlib.oauth2.rfc7636 import create_s256_code_challenge
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from joserfc.jwk import OKPKey

from services.identity.oidc.config import IdentitySettings
from services.identity.oidc.passwords import Hasher, token_hash
from shared.auth import Principal, Role, algorithm_of
from shared.clock import Clock
from shared.errors import Unauthenticated
from shared.eventstore.base import CommandContext
from shared.unit_of_work import CommandExecutor, Work

SYSTEM = "system:identity"  # the actor of what the service does by itself

LOCAL_DEV_KID = "local-dev"
KEYS_REREAD_SECONDS = 300.0  # every replica reads the signing keys again this often
CONSOLE = "console"
VERIFIER_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")

__all__ = [
    "InvalidClientError",
    "InvalidGrantError",
    "InvalidRequestError",
    "OAuth2Error",
    "Provider",
    "UnsupportedGrantTypeError",
]


@dataclass(frozen=True)
class Hat:
    """The post a token is for: one role at one place."""

    person_id: str
    role: str
    org: str
    name: str | None = None


@dataclass(frozen=True)
class Session:
    person_id: str
    stage: str  # second_factor, enrol, password, signed_in
    pending: str | None


class Provider:
    def __init__(
        self,
        pool: asyncpg.Pool,
        settings: IdentitySettings,
        clock: Clock,
        *,
        issuer: str,
        audience: str,
        dev_public_pem: bytes | None = None,
    ) -> None:
        self.pool = pool
        self.settings = settings
        self.clock = clock
        self.issuer = issuer
        self.audience = audience
        self.hasher = Hasher(settings.identity_argon2_profile)
        self.keys: list[tuple[str, Ed25519PrivateKey]] = []  # newest first
        self.dev_key = serialization.load_pem_public_key(dev_public_pem) if dev_public_pem else None
        self._form_key = b""
        self.loaded = asyncio.Event()  # the keys are read (the first pass at start)
        self._reading = asyncio.Lock()
        self._read_at = -float("inf")
        # the runtime's record of posts ended and people locked, where it keeps one: a
        # token issued before either is refused here too, as in every service
        self.revocations: Any = None

    # --- keys -------------------------------------------------------------------------

    async def load_keys(self) -> None:
        """The signing keys, a new one made when the newest is older than the rotation
        period. The JWKS publishes a new key before it signs anything (replicas re-read the
        keys every few minutes: none meets a token signed by a key it has not read) and keeps
        the one before it (tokens it signed are still live)."""
        async with self.pool.acquire() as conn, conn.transaction():
            await conn.execute("SELECT pg_advisory_xact_lock(8105)")
            now = self.clock.now()
            newest = await conn.fetchval(
                "SELECT max(created_at) FROM signing_keys WHERE retired_at IS NULL"
            )
            if newest is None or now - newest > timedelta(
                days=self.settings.identity_key_rotation_days
            ):
                pem = Ed25519PrivateKey.generate().private_bytes(
                    serialization.Encoding.PEM,
                    serialization.PrivateFormat.PKCS8,
                    serialization.NoEncryption(),
                )
                kid = f"k-{now:%Y%m%d}-{secrets.token_hex(3)}"
                await conn.execute(
                    "INSERT INTO signing_keys VALUES ($1, $2, $3, NULL)", kid, pem, now
                )
            rows = await conn.fetch(
                "SELECT kid, private_pem, created_at FROM signing_keys"
                " WHERE retired_at IS NULL ORDER BY created_at DESC LIMIT 3"
            )
            await conn.execute(
                "INSERT INTO identity_pepper VALUES ('forms', $1) ON CONFLICT DO NOTHING",
                secrets.token_bytes(32),
            )
            self._form_key = await conn.fetchval(
                "SELECT key FROM identity_pepper WHERE name = 'forms'"
            )
        loaded = []
        for row in rows:
            private = serialization.load_pem_private_key(bytes(row["private_pem"]), password=None)
            assert isinstance(private, Ed25519PrivateKey)
            loaded.append((row["kid"], private))
        published = now - timedelta(seconds=2 * KEYS_REREAD_SECONDS)
        ready = [i for i, row in enumerate(rows) if row["created_at"] <= published]
        # the signing key first: the newest published long enough (the only one, at first)
        first = ready[0] if ready else 0
        self.keys = [loaded[first], *loaded[:first], *loaded[first + 1 :]][:3]
        self._read_at = time.monotonic()
        self.loaded.set()

    async def ensure_keys(self) -> None:
        """The keys read, and read again when a few minutes old (on every replica: the
        periodic pass that rotates them runs on one only)."""
        if self.loaded.is_set() and time.monotonic() - self._read_at < KEYS_REREAD_SECONDS:
            return
        async with self._reading:
            if not self.loaded.is_set() or time.monotonic() - self._read_at >= KEYS_REREAD_SECONDS:
                await self.load_keys()

    def jwks(self) -> dict[str, Any]:
        publics: list[tuple[str, Any]] = [(kid, key.public_key()) for kid, key in self.keys]
        if self.dev_key is not None:
            publics.append((LOCAL_DEV_KID, self.dev_key))
        keys = []
        for kid, public in publics:
            pem = public.public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
            )
            jwk = OKPKey.import_key(pem).as_dict(private=False)
            keys.append({**jwk, "kid": kid, "alg": "EdDSA", "use": "sig"})
        return {"keys": keys}

    def verify(self, token: str) -> Principal:
        """A token this provider (or the development key) signed: the identity service's own
        verifier (it cannot fetch its own JWKS over HTTP while serving the request)."""
        try:
            kid = jwt.get_unverified_header(token).get("kid")
            public: Any = next((k.public_key() for i, k in self.keys if i == kid), None)
            if public is None and self.dev_key is not None and kid in (LOCAL_DEV_KID, None):
                public = self.dev_key
            if public is None:
                raise Unauthenticated("登录凭证无效：请重新登录。")
            claims = jwt.decode(
                token,
                key=public,
                algorithms=[algorithm_of(public)],
                audience=self.audience,
                issuer=self.issuer,
                options={"require": ["exp", "iss", "aud", "sub"]},
            )
            principal = Principal(
                subject=claims["sub"],
                role=Role(claims["role"]),
                org=claims.get("org"),
                name=claims.get("name"),
            )
        except (jwt.PyJWTError, KeyError, ValueError, TypeError) as error:
            raise Unauthenticated("登录凭证无效或已过期：请重新登录。") from error
        if self.revocations is not None:
            why = self.revocations.refused(principal, float(claims.get("iat") or 0))
            if why is not None:
                raise Unauthenticated(why)
        return principal

    def _sign(self, claims: dict[str, Any]) -> str:
        kid, key = self.keys[0]
        return jwt.encode(claims, key, algorithm="EdDSA", headers={"kid": kid})

    def access_token(self, hat: Hat, client_id: str) -> str:
        now = int(time.time())
        claims = {
            "iss": self.issuer,
            "aud": self.audience,
            "sub": hat.person_id,
            "role": hat.role,
            "org": hat.org,
            "name": hat.name,
            "client_id": client_id,
            "iat": now,
            "exp": now + 60 * self.settings.access_token_minutes,
            "jti": str(uuid.uuid4()),
        }
        return self._sign(claims)

    def id_token(self, hat: Hat, client_id: str, nonce: str | None) -> str:
        now = int(time.time())
        claims = {
            "iss": self.issuer,
            "aud": client_id,
            "sub": hat.person_id,
            "name": hat.name,
            "role": hat.role,
            "org": hat.org,
            "iat": now,
            "exp": now + 60 * self.settings.access_token_minutes,
            **({"nonce": nonce} if nonce else {}),
        }
        return self._sign(claims)

    # --- forms: CSRF tokens and carried requests ----------------------------------------

    def sign(self, value: str) -> str:
        """`value` with a MAC under the service's form key (a CSRF token, a carried request)."""
        mac = hmac.new(self._form_key, value.encode(), sha256).digest()
        return value + "." + base64.urlsafe_b64encode(mac).decode().rstrip("=")

    def unsign(self, signed: str) -> str | None:
        value, _, _ = signed.rpartition(".")
        return value if value and hmac.compare_digest(self.sign(value), signed) else None

    # --- clients ----------------------------------------------------------------------

    def registered_redirect(self, client_id: str, redirect_uri: str) -> bool:
        return client_id == CONSOLE and redirect_uri in self.settings.redirect_uris

    async def register_client(self, name: str, county_id: str) -> tuple[str, str]:
        """An integration client (another government system): its id and secret, once."""
        client_id = f"c-{secrets.token_hex(4)}"
        secret = secrets.token_urlsafe(32)
        await self.pool.execute(
            "INSERT INTO clients VALUES ($1, $2, $3, $4, $5, NULL)",
            client_id,
            await self.hasher.hash(secret),
            county_id,
            name,
            self.clock.now(),
        )
        return client_id, secret

    async def client_credentials(self, client_id: str, secret: str) -> dict[str, Any]:
        row = await self.pool.fetchrow(
            "SELECT secret_hash, county_id, name FROM clients"
            " WHERE client_id = $1 AND revoked_at IS NULL",
            client_id,
        )
        if not await self.hasher.verify(row["secret_hash"] if row else None, secret) or not row:
            raise InvalidClientError(description="unknown client or wrong secret")
        hat = Hat(client_id, Role.INTEGRATION.value, row["county_id"], row["name"])
        return self._tokens(hat, client_id, refresh=None)

    def _tokens(self, hat: Hat, client_id: str, refresh: str | None) -> dict[str, Any]:
        answer: dict[str, Any] = {
            "access_token": self.access_token(hat, client_id),
            "token_type": "Bearer",
            "expires_in": 60 * self.settings.access_token_minutes,
        }
        if refresh is not None:
            answer["refresh_token"] = refresh
        return answer

    # --- sessions ---------------------------------------------------------------------

    async def start_session(self, person_id: str, stage: str, pending: str | None = None) -> str:
        sid = secrets.token_urlsafe(32)
        now = self.clock.now()
        await self.pool.execute(
            "INSERT INTO sessions VALUES ($1, $2, $3, $4, $5, $5)",
            token_hash(sid),
            person_id,
            stage,
            pending,
            now,
        )
        return sid

    async def session(self, sid: str | None) -> Session | None:
        """The session, if it has not been idle longer than the timeout (and touched now)."""
        if not sid:
            return None
        now = self.clock.now()
        idle = timedelta(minutes=self.settings.identity_session_idle_minutes)
        row = await self.pool.fetchrow(
            "UPDATE sessions SET last_seen = $2 WHERE session_hash = $1 AND last_seen > $3"
            " RETURNING person_id, stage, pending",
            token_hash(sid),
            now,
            now - idle,
        )
        return None if row is None else Session(row["person_id"], row["stage"], row["pending"])

    async def advance_session(self, sid: str, stage: str, pending: str | None = None) -> None:
        await self.pool.execute(
            "UPDATE sessions SET stage = $2, pending = $3 WHERE session_hash = $1",
            token_hash(sid),
            stage,
            pending,
        )

    async def end_session(self, sid: str | None) -> None:
        if sid:
            await self.pool.execute("DELETE FROM sessions WHERE session_hash = $1", token_hash(sid))

    # --- a sign-in at a county's own provider, between its two halves -----------------

    async def keep_pending(self, state_blob: str, request_token: str) -> str:
        pending = secrets.token_urlsafe(32)
        now = self.clock.now()
        await self.pool.execute("DELETE FROM upstream_pending WHERE expires_at < $1", now)
        await self.pool.execute(
            "INSERT INTO upstream_pending VALUES ($1, $2, $3, $4)",
            token_hash(pending),
            state_blob,
            request_token,
            now + timedelta(minutes=10),
        )
        return pending

    async def take_pending(self, pending: str | None) -> tuple[str, str] | None:
        """The state and the carried request of a sign-in begun at the county's provider,
        once (a callback replayed finds nothing)."""
        if not pending:
            return None
        row = await self.pool.fetchrow(
            "DELETE FROM upstream_pending WHERE pending_hash = $1 AND expires_at > $2"
            " RETURNING state_blob, request_token",
            token_hash(pending),
            self.clock.now(),
        )
        return None if row is None else (row["state_blob"], row["request_token"])

    # --- authorization codes and refresh tokens ---------------------------------------

    async def issue_code(
        self, hat: Hat, client_id: str, redirect_uri: str, challenge: str, nonce: str | None
    ) -> str:
        code = secrets.token_urlsafe(32)
        await self.pool.execute(
            "INSERT INTO authorization_codes VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, NULL,"
            " NULL)",
            token_hash(code),
            client_id,
            redirect_uri,
            challenge,
            nonce,
            hat.person_id,
            hat.role,
            hat.org,
            self.clock.now() + timedelta(seconds=self.settings.identity_code_seconds),
        )
        return code

    async def exchange_code(
        self,
        code: str,
        client_id: str,
        redirect_uri: str,
        verifier: str,
    ) -> dict[str, Any]:
        """Tokens for a code, once. A replayed code is refused and the tokens it gave are
        revoked (RFC 6749 4.1.2). The person must still hold the post, unlocked."""
        if not 43 <= len(verifier) <= 128 or not set(verifier) <= VERIFIER_CHARS:
            raise InvalidRequestError(description="code_verifier must be 43-128 characters")
        now = self.clock.now()
        seen = await self.pool.fetchrow(
            "SELECT used_at, family_id FROM authorization_codes WHERE code_hash = $1",
            token_hash(code),
        )
        if seen is None:
            raise InvalidGrantError(description="unknown authorization code")
        if seen["used_at"] is not None:  # revoked before the refusal, not undone by it
            if seen["family_id"]:
                await self._revoke_family(self.pool, seen["family_id"], now)
            raise InvalidGrantError(description="authorization code already used")
        async with self.pool.acquire() as conn, conn.transaction():
            row = await conn.fetchrow(
                "SELECT * FROM authorization_codes WHERE code_hash = $1 FOR UPDATE",
                token_hash(code),
            )
            if row is None or row["used_at"] is not None:
                raise InvalidGrantError(description="authorization code already used")
            if now >= row["expires_at"]:
                raise InvalidGrantError(description="authorization code expired")
            if row["client_id"] != client_id or row["redirect_uri"] != redirect_uri:
                raise InvalidGrantError(description="client or redirect_uri does not match")
            if not hmac.compare_digest(create_s256_code_challenge(verifier), row["code_challenge"]):
                raise InvalidGrantError(description="code_verifier does not match")
            family = f"f-{secrets.token_hex(8)}"
            await conn.execute(
                "UPDATE authorization_codes SET used_at = $2, family_id = $3 WHERE code_hash = $1",
                token_hash(code),
                now,
                family,
            )
            hat = await held(conn, Hat(row["person_id"], row["role"], row["org"]))
            if hat is None:
                raise InvalidGrantError(description="the post has ended or the person is locked")
            refresh = await self._new_refresh(conn, hat, client_id, family, now)
        tokens = self._tokens(hat, client_id, refresh)
        tokens["id_token"] = self.id_token(hat, client_id, row["nonce"])
        tokens["scope"] = "openid"
        return tokens

    async def _new_refresh(
        self, conn: asyncpg.Connection, hat: Hat, client_id: str, family: str, now: datetime
    ) -> str:
        token = secrets.token_urlsafe(32)
        ends = await conn.fetchval(
            "SELECT min(issued_at) FROM refresh_tokens WHERE family_id = $1", family
        )
        expires = (ends or now) + timedelta(hours=self.settings.identity_refresh_token_hours)
        await conn.execute(
            "INSERT INTO refresh_tokens VALUES ($1, $2, $3, $4, $5, $6, $7, $8, NULL, NULL)",
            token_hash(token),
            family,
            client_id,
            hat.person_id,
            hat.role,
            hat.org,
            now,
            expires,
        )
        return token

    async def _revoke_family(self, conn: Any, family: str, now: datetime) -> None:
        await conn.execute(
            "UPDATE refresh_tokens SET revoked_at = $2 WHERE family_id = $1 AND revoked_at IS NULL",
            family,
            now,
        )

    async def refresh(self, token: str, client_id: str) -> dict[str, Any]:
        """A new access token and a new refresh token for a refresh token, once: a refresh
        token used twice revokes its whole family (the thief's copy and the owner's alike)."""
        now = self.clock.now()
        async with self.pool.acquire() as conn, conn.transaction():
            row = await conn.fetchrow(
                "SELECT * FROM refresh_tokens WHERE token_hash = $1 FOR UPDATE", token_hash(token)
            )
            if row is None or row["client_id"] != client_id:
                raise InvalidGrantError(description="unknown refresh token")
            if row["revoked_at"] is not None:
                raise InvalidGrantError(description="refresh token revoked")
            reused = row["family_id"] if row["used_at"] is not None else None
            if reused is None:
                if now >= row["expires_at"]:
                    raise InvalidGrantError(description="refresh token expired")
                await conn.execute(
                    "UPDATE refresh_tokens SET used_at = $2 WHERE token_hash = $1",
                    token_hash(token),
                    now,
                )
                hat = await held(conn, Hat(row["person_id"], row["role"], row["org"]))
                if hat is not None:
                    new = await self._new_refresh(conn, hat, client_id, row["family_id"], now)
                    return self._tokens(hat, client_id, new)
        # reused, or the post ended: the family ends, committed before the refusal
        await self._revoke_family(self.pool, row["family_id"], now)
        if reused is not None:
            raise InvalidGrantError(description="refresh token reused: its family is revoked")
        raise InvalidGrantError(description="the post has ended or the person is locked")

    async def revoke(self, token: str) -> None:
        """RFC 7009: a refresh token and its family end; anything else is ignored. A client
        revokes when the person signs out of it (the console's 退出), so the person's sign-in
        here ends too, on every browser: otherwise the next person at a shared office PC
        would be let in as them, without a password, by this service's session."""
        async with self.pool.acquire() as conn, conn.transaction():
            found = await conn.fetchrow(
                "SELECT family_id, person_id FROM refresh_tokens WHERE token_hash = $1",
                token_hash(token),
            )
            if found is not None:
                await self._revoke_family(conn, found["family_id"], self.clock.now())
                await conn.execute("DELETE FROM sessions WHERE person_id = $1", found["person_id"])


async def as_system(executor: CommandExecutor, work: Work) -> Any:
    """A sign-in step as a command of the service itself (nobody is signed in yet; what it
    records names its actor in the event: the person, or `system:identity` for a lock)."""
    context = CommandContext(actor=SYSTEM, role="public")
    return await executor.execute(work, context=context)


async def held(conn: asyncpg.Connection, hat: Hat) -> Hat | None:
    """The hat with the person's name, while they hold the post and are not locked."""
    name = await conn.fetchval(
        "SELECT pe.name FROM people pe JOIN posts po USING (person_id) WHERE pe.person_id = $1"
        " AND NOT pe.locked AND po.role = $2 AND po.org = $3 AND po.ended_at IS NULL",
        hat.person_id,
        hat.role,
        hat.org,
    )
    return None if name is None else Hat(hat.person_id, hat.role, hat.org, name)


def dev_public_pem(path: str | Path | None) -> bytes | None:
    return Path(path).read_bytes() if path else None


def public_key_of(pem: bytes) -> Ed25519PublicKey:
    key = serialization.load_pem_public_key(pem)
    assert isinstance(key, Ed25519PublicKey)
    return key
