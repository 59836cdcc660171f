"""Bearer JWTs: verified signature, issuer, audience and expiry; roles scoped to a place.

The embedded default signs with a local Ed25519 key kept in the data directory; production
verifies against the identity provider's JWKS URL. Whether a role at a place may act on a
given subject is the service's decision (it knows the hierarchy); here we only establish
who is calling, in which role, at which place.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from enum import StrEnum
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ec import EllipticCurvePublicKey
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey
from pydantic import BaseModel, ConfigDict

from shared.errors import Forbidden, Unauthenticated

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


# The roles held at a place, as every service checks them.
def county_admin(principal: Principal, county_id: str) -> bool:
    return principal.is_(Role.COUNTY_ADMIN, county_id)


def township_committee(principal: Principal, township_id: str) -> bool:
    return principal.is_(Role.TOWNSHIP_COMMITTEE, township_id)


def township_office(principal: Principal, township_id: str) -> bool:
    return principal.is_(Role.TOWNSHIP_OFFICE, township_id)


VERIFIED_TOKENS = 4096  # tokens remembered as verified, least recently used dropped first
VERIFIED_FOR_SECONDS = 60.0


class TokenVerifier:
    def __init__(
        self,
        *,
        issuer: str,
        audience: str,
        public_key_pem: bytes | None = None,
        jwks_url: str | None = None,
    ) -> None:
        if (public_key_pem is None) == (jwks_url is None):
            raise ValueError("give exactly one of public_key_pem and jwks_url")
        self.issuer = issuer
        self.audience = audience
        self._key = serialization.load_pem_public_key(public_key_pem) if public_key_pem else None
        self._algorithms = [algorithm_of(self._key)] if self._key else []
        self._jwks = jwt.PyJWKClient(jwks_url, cache_keys=True) if jwks_url else None
        self._verified: OrderedDict[str, tuple[Principal, float]] = OrderedDict()

    def verify(self, token: str) -> Principal:
        """The token's principal. A token verified in the last minute is not verified again
        (its signature cannot have changed; its expiry is checked on every use): the
        signature check is a tenth of a command's CPU, and a client sends the same token
        with every request. The minute bounds how long a key withdrawn from the JWKS still
        vouches for a token already seen."""
        now = time.time()
        cached = self._verified.get(token)
        if cached is not None and now < cached[1]:
            self._verified.move_to_end(token)
            return cached[0]
        principal, expires = self._verify(token)
        self._verified[token] = (principal, min(expires, now + VERIFIED_FOR_SECONDS))
        if len(self._verified) > VERIFIED_TOKENS:
            self._verified.popitem(last=False)
        return principal

    def _verify(self, token: str) -> tuple[Principal, float]:
        try:
            key: Any = self._key
            algorithms = self._algorithms
            if self._jwks:  # the key the token names, with the algorithm the JWKS gives it
                key = self._jwks.get_signing_key_from_jwt(token)
                algorithms = [key.algorithm_name] if key.algorithm_name in ALGORITHMS else []
            claims = jwt.decode(
                token,
                key=key,
                algorithms=algorithms,
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
            return principal, float(claims["exp"])
        except (jwt.PyJWTError, KeyError, ValueError) as error:
            raise Unauthenticated(f"invalid bearer token: {error}") from error


class LocalSigningKey:
    """The embedded default's key pair, created once in the data directory."""

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
        }
        return jwt.encode(claims, self._private, algorithm="EdDSA")
