"""Bearer JWTs: verified signature, issuer, audience and expiry; roles scoped to a place.

The embedded default signs with a local Ed25519 key kept in the data directory; production
verifies against the identity provider's JWKS URL. Whether a role at a place may act on a
given subject is the service's decision (it knows the hierarchy); here we only establish
who is calling, in which role, at which place.
"""

from __future__ import annotations

import json
import math
import threading
import time
import urllib.request
import uuid
from collections import OrderedDict
from collections.abc import Callable
from enum import StrEnum
from pathlib import Path
from typing import Any, Protocol

import jwt
import structlog
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ec import EllipticCurvePublicKey
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey
from pydantic import BaseModel, ConfigDict

from shared.errors import AccessRevoked, Forbidden, NotFound, Unauthenticated, Unavailable

log = structlog.get_logger()

ALGORITHMS = ["EdDSA", "RS256", "ES256"]  # never "none", never HMAC with a public key


def algorithm_of(key: Any) -> str:
    """The one algorithm a public key verifies: a token naming another is refused before its
    signature is looked at (PyJWT would try to load the key for the named one, and fail)."""
    for kind, algorithm in (
        (Ed25519PublicKey, "EdDSA"),
        (RSAPublicKey, "RS256"),
        (EllipticCurvePublicKey, "ES256"),
    ):
        if isinstance(key, kind):
            return algorithm
    raise ValueError(f"a public key for one of {ALGORITHMS} is needed, not {type(key).__name__}")


class Role(StrEnum):
    COUNTY_ADMIN = "county_admin"
    TOWNSHIP_COMMITTEE = "township_committee"
    TOWNSHIP_OFFICE = "township_office"
    BRANCH_SECRETARY = "branch_secretary"
    MEMBER = "member"
    RATER = "rater"
    AUDITOR = "auditor"
    INTEGRATION = "integration"
    PUBLIC = "public"


class Principal(BaseModel):
    model_config = ConfigDict(frozen=True)

    subject: str
    role: Role
    org: str | None = None  # the place: county, township, branch or member id
    name: str | None = None

    def is_(self, role: Role, org: str | None = None) -> bool:
        return self.role == role and (org is None or self.org == org)


PUBLIC = Principal(subject="public", role=Role.PUBLIC)


def require(allowed: bool, why: str) -> None:
    """Refuse (403, nothing appended) unless the caller's role and place allow it."""
    if not allowed:
        raise Forbidden(why)


def of_another_county(principal: Principal, county_id: str | None) -> bool:
    """The caller's post is held at a county (an auditor's, a county administrator's) and the
    record is not of it (X1)."""
    return principal.role in (Role.AUDITOR, Role.COUNTY_ADMIN) and principal.org != county_id


def require_seen(
    principal: Principal, allowed: bool, county_id: str | None, why: str, missing: NotFound
) -> None:
    """As `require`, for a record read by its id: a caller of another county is answered
    `missing`, the very answer an id that does not exist gets (404, the same body), so that
    whether the record exists there is not learnt from the answer; others 403 `why`."""
    if allowed:
        return
    if of_another_county(principal, county_id):
        raise missing
    raise Forbidden(why)


# The roles held at a place, as every service checks them.
def county_admin(principal: Principal, county_id: str) -> bool:
    return principal.is_(Role.COUNTY_ADMIN, county_id)


def township_committee(principal: Principal, township_id: str) -> bool:
    return principal.is_(Role.TOWNSHIP_COMMITTEE, township_id)


def township_office(principal: Principal, township_id: str) -> bool:
    return principal.is_(Role.TOWNSHIP_OFFICE, township_id)


def auditor_of(principal: Principal, county_id: str | None) -> bool:
    """An auditor reads the records of the county their post is held at, and no other's (X1).
    A token naming no county is refused everywhere, not read as "every county": the identity
    service grants the post only at a county, so a county-less token is a mistake or a forgery
    of intent, and a missing claim must not widen access (docs/security.md)."""
    return (
        principal.role is Role.AUDITOR
        and principal.org is not None
        and county_id is not None
        and principal.org == county_id
    )


VERIFIED_TOKENS = 4096  # tokens remembered as verified, least recently used dropped first
VERIFIED_FOR_SECONDS = 60.0
JWKS_REFETCH_SECONDS = 5.0  # an unknown kid fetches the JWKS again at most this often
JWKS_MAX_AGE_SECONDS = 300.0  # keys are fetched again after this (a key withdrawn stops)
JWKS_TIMEOUT_SECONDS = 2.0
LOCAL_KID = "local-dev"  # the data directory's development key, as the JWKS names it


class RevocationCheck(Protocol):
    def refused(self, principal: Principal, issued_at: float) -> str | None:
        """Why a genuine token of this principal issued then no longer gives access."""


def _fetch_json(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=JWKS_TIMEOUT_SECONDS) as response:  # noqa: S310
        return json.loads(response.read())


class JwksKeys:
    """The identity provider's signing keys by `kid`, from its JWKS URL. A kid not among them
    fetches the set again, at most once every few seconds (a rotated-in key is found, a
    stream of made-up kids costs the provider nothing); the set is also fetched again when
    older than a few minutes (a withdrawn key stops vouching). A provider that does not
    answer leaves the keys already fetched in use; without them: 503, not 401 or 500."""

    def __init__(
        self,
        url: str,
        *,
        fetch: Callable[[str], Any] = _fetch_json,
        refetch_seconds: float = JWKS_REFETCH_SECONDS,
        max_age_seconds: float = JWKS_MAX_AGE_SECONDS,
    ) -> None:
        self.url = url
        self._fetch = fetch
        self.refetch_seconds = refetch_seconds
        self.max_age_seconds = max_age_seconds
        self._keys: dict[str, jwt.PyJWK] = {}
        self._fetched = -math.inf  # monotonic time of the last good fetch
        self._tried = -math.inf  # ... and of the last attempt
        self._failure: str | None = None  # why the last attempt failed
        self._lock = threading.Lock()
        self.fetches = 0

    def key(self, kid: str) -> jwt.PyJWK:
        with self._lock:
            now = time.monotonic()
            key = self._keys.get(kid)
            if key is not None and now - self._fetched < self.max_age_seconds:
                return key
            if now - self._tried >= self.refetch_seconds:
                self._refresh(now)
                key = self._keys.get(kid)
            if key is not None:
                return key
            if self._failure is not None:
                raise Unavailable("暂时无法取得身份服务的密钥：请稍后再试。")
            raise Unauthenticated("登录凭证无效（签名密钥未知）：请重新登录。")

    def _refresh(self, now: float) -> None:
        self._tried = now
        self.fetches += 1
        try:
            document = self._fetch(self.url)
            keys = {}
            for entry in document["keys"]:
                if not isinstance(entry, dict) or not isinstance(entry.get("kid"), str):
                    continue
                if entry.get("use", "sig") != "sig":
                    continue
                try:
                    key = jwt.PyJWK(entry)
                except jwt.PyJWTError:
                    continue  # a key type or algorithm this side does not use
                if key.algorithm_name in ALGORITHMS:
                    keys[entry["kid"]] = key
        except Exception as error:  # down, slow, or not a JWKS: keep what we had
            self._failure = type(error).__name__
            log.warning("jwks_unavailable", url=self.url, error=repr(error))
            return
        self._keys, self._fetched, self._failure = keys, now, None


class TokenVerifier:
    def __init__(
        self,
        *,
        issuer: str,
        audience: str,
        public_key_pem: bytes | None = None,
        jwks_url: str | None = None,
        jwks: JwksKeys | None = None,
        revocations: RevocationCheck | None = None,
        longest_lifetime_seconds: float | None = None,
    ) -> None:
        if jwks is None and jwks_url is not None:
            jwks = JwksKeys(jwks_url)
        if (public_key_pem is None) == (jwks is None):
            raise ValueError("give exactly one of public_key_pem and jwks_url")
        self.issuer = issuer
        self.audience = audience
        self._key = serialization.load_pem_public_key(public_key_pem) if public_key_pem else None
        self._algorithms = [algorithm_of(self._key)] if self._key else []
        self.jwks = jwks
        self.revocations = revocations
        # a token living longer than this is refused: revocations are remembered this long
        self.longest_lifetime_seconds = longest_lifetime_seconds
        self._verified: OrderedDict[str, tuple[Principal, float, float]] = OrderedDict()

    def verify(self, token: str) -> Principal:
        """The token's principal. A token verified in the last minute is not verified again
        (its signature cannot have changed; its expiry is checked on every use): the
        signature check is a tenth of a command's CPU, and a client sends the same token
        with every request. The minute bounds how long a key withdrawn from the JWKS still
        vouches for a token already seen. Revocations are checked on every use."""
        now = time.time()
        cached = self._verified.get(token)
        if cached is not None and now < cached[1]:
            self._verified.move_to_end(token)
            principal, issued_at = cached[0], cached[2]
        else:
            principal, expires, issued_at = self._verify(token)
            self._verified[token] = (principal, min(expires, now + VERIFIED_FOR_SECONDS), issued_at)
            if len(self._verified) > VERIFIED_TOKENS:
                self._verified.popitem(last=False)
        if self.revocations is not None:
            why = self.revocations.refused(principal, issued_at)
            if why is not None:
                raise AccessRevoked(why)
        return principal

    def _verify(self, token: str) -> tuple[Principal, float, float]:
        try:
            key: Any = self._key
            algorithms = self._algorithms
            if self.jwks is not None:  # the key the token names, with the algorithm it has
                kid = jwt.get_unverified_header(token).get("kid")
                if not isinstance(kid, str) or not kid:
                    raise Unauthenticated("登录凭证无效（缺少密钥编号）：请重新登录。")
                found = self.jwks.key(kid)
                key, algorithms = found, [found.algorithm_name]
            claims = jwt.decode(
                token,
                key=key,
                algorithms=algorithms,
                audience=self.audience,
                issuer=self.issuer,
                options={"require": ["exp", "iat", "iss", "aud", "sub"]},
            )
            issued_at, expires = float(claims["iat"]), float(claims["exp"])
            longest = self.longest_lifetime_seconds
            if longest is not None and expires - issued_at > longest:
                raise Unauthenticated(
                    f"登录凭证无效（有效期超过本服务允许的 {longest:.0f} 秒）：请重新登录。"
                )
            principal = Principal(
                subject=claims["sub"],
                role=Role(claims["role"]),
                org=claims.get("org"),
                name=claims.get("name"),
            )
            return principal, expires, issued_at
        except (jwt.PyJWTError, KeyError, ValueError, TypeError) as error:
            raise Unauthenticated("登录凭证无效或已过期：请重新登录。") from error


class LocalSigningKey:
    """The embedded default's key pair, created once in the data directory."""

    kid = LOCAL_KID  # the JWKS of the embedded default publishes it under this key id

    def __init__(self, private_pem: bytes) -> None:
        loaded = serialization.load_pem_private_key(private_pem, password=None)
        assert isinstance(loaded, Ed25519PrivateKey)
        self._private = loaded
        self.private_pem = private_pem

    @classmethod
    def generate(cls) -> LocalSigningKey:
        pem = Ed25519PrivateKey.generate().private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        return cls(pem)

    @classmethod
    def load_or_create(cls, path: Path) -> LocalSigningKey:
        if path.exists():
            return cls(path.read_bytes())
        key = cls.generate()
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(key.private_pem)
        path.chmod(0o600)
        return key

    @property
    def public_pem(self) -> bytes:
        return self._private.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )

    def issue(
        self,
        *,
        issuer: str,
        audience: str,
        subject: str,
        role: Role | str,
        org: str | None = None,
        name: str | None = None,
        ttl_seconds: int = 8 * 3600,
    ) -> str:
        now = int(time.time())
        claims = {
            "iss": issuer,
            "aud": audience,
            "sub": subject,
            "role": str(role),
            "org": org,
            "name": name,
            "iat": now,
            "exp": now + ttl_seconds,
            "jti": uuid.uuid4().hex,
        }
        return jwt.encode(claims, self._private, algorithm="EdDSA", headers={"kid": self.kid})

    def jwk(self) -> dict[str, Any]:
        """The public key as a JWKS entry (kid "local-dev")."""
        public = jwt.algorithms.OKPAlgorithm.to_jwk(self._private.public_key(), as_dict=True)
        return {**public, "kid": self.kid, "alg": "EdDSA", "use": "sig"}
