"""Tokens verified against the identity JWKS by key id (rotation, an identity that is down),
and the revocation rule: a post ended or a person locked after a token was issued ends it."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from fastapi import APIRouter, FastAPI

from shared.auth import JwksKeys, LocalSigningKey, Principal, Role, TokenVerifier
from shared.errors import AccessRevoked, Unauthenticated, Unavailable
from shared.http import RequestContextMiddleware, SignedIn, install_error_handlers
from shared.revocations import Revocations
from shared.settings import ServiceSettings

OLD, NEW = LocalSigningKey.generate(), LocalSigningKey.generate()


def jwk(key: LocalSigningKey, kid: str) -> dict[str, Any]:
    return {**key.jwk(), "kid": kid}


def token(key: LocalSigningKey, kid: str | None, **claims: Any) -> str:
    now = int(time.time())
    body = {
        "iss": "gongkai-local",
        "aud": "gongkai",
        "sub": "p-1",
        "role": "member",
        "org": "b-1",
        "iat": now,
        "exp": now + 300,
        **claims,
    }
    private = serialization.load_pem_private_key(key.private_pem, password=None)
    headers = {"kid": kid} if kid is not None else {}
    return jwt.encode(
        {k: v for k, v in body.items() if v is not None},
        private,
        algorithm="EdDSA",
        headers=headers,
    )


class Provider:
    """What the identity JWKS answers, and how often it was asked."""

    def __init__(self, *keys: dict[str, Any]) -> None:
        self.keys = list(keys)
        self.down = False
        self.asked = 0

    def __call__(self, url: str) -> Any:
        self.asked += 1
        if self.down:
            raise ConnectionRefusedError("identity is down")
        return {"keys": self.keys}


def verifier(provider: Provider, **options: Any) -> TokenVerifier:
    jwks = JwksKeys("http://identity/.well-known/jwks.json", fetch=provider, **options)
    return TokenVerifier(issuer="gongkai-local", audience="gongkai", jwks=jwks)


def test_a_rotated_in_key_is_fetched_once_and_made_up_kids_cost_nothing() -> None:
    provider = Provider(jwk(OLD, "k1"))
    check = verifier(provider, refetch_seconds=3600)
    assert check.verify(token(OLD, "k1")).subject == "p-1"
    assert provider.asked == 1
    provider.keys.append(jwk(NEW, "k2"))  # rotated in after the last fetch
    check = verifier(provider, refetch_seconds=0)  # (throttle off: the kid fetches again)
    assert check.verify(token(NEW, "k2", sub="p-2")).subject == "p-2"
    throttled = verifier(Provider(jwk(OLD, "k1")), refetch_seconds=3600)
    throttled.verify(token(OLD, "k1"))
    for n in range(20):  # unknown kids: refused, the JWKS asked no more within the window
        with pytest.raises(Unauthenticated, match="签名密钥未知"):
            throttled.verify(token(NEW, f"made-up-{n}"))
    assert throttled.jwks is not None
    assert throttled.jwks.fetches == 1


def test_the_key_named_must_be_the_key_that_signed() -> None:
    check = verifier(Provider(jwk(OLD, "k1"), jwk(NEW, "k2")))
    with pytest.raises(Unauthenticated):
        check.verify(token(NEW, "k1"))
    with pytest.raises(Unauthenticated, match="缺少密钥编号"):
        check.verify(token(OLD, None))  # the JWKS mode needs the key id


def test_identity_down_is_503_and_keys_already_fetched_keep_working() -> None:
    provider = Provider(jwk(OLD, "k1"))
    provider.down = True
    check = verifier(provider, refetch_seconds=0)
    with pytest.raises(Unavailable):
        check.verify(token(OLD, "k1"))
    provider.down = False
    assert check.verify(token(OLD, "k1", sub="p-3")).subject == "p-3"
    provider.down = True  # stale keys are still used while it is down
    stale = verifier(provider, refetch_seconds=0, max_age_seconds=0)
    provider.down = False
    stale.verify(token(OLD, "k1"))
    provider.down = True
    assert stale.verify(token(OLD, "k1", sub="p-4")).subject == "p-4"
    with pytest.raises(Unavailable):  # an unknown kid while down: cannot tell, so 503
        stale.verify(token(NEW, "k2"))


def test_a_withdrawn_key_stops_vouching_once_the_set_is_fetched_again() -> None:
    provider = Provider(jwk(OLD, "k1"))
    check = verifier(provider, refetch_seconds=0, max_age_seconds=0)
    check.verify(token(OLD, "k1"))
    provider.keys = [jwk(NEW, "k2")]
    with pytest.raises(Unauthenticated):
        check.verify(token(OLD, "k1", sub="p-5"))


def test_garbage_in_the_jwks_is_skipped_and_a_non_jwks_is_unavailable() -> None:
    provider = Provider({"kty": "oct", "k": "c2VjcmV0", "kid": "hmac"}, {"kty": "OKP"}, "x")
    provider.keys.append(jwk(OLD, "k1"))
    check = verifier(provider, refetch_seconds=0)
    assert check.verify(token(OLD, "k1")).subject == "p-1"
    with pytest.raises(Unauthenticated):
        check.verify(token(OLD, "hmac"))
    broken = JwksKeys("http://x", fetch=lambda url: {"not": "a jwks"})
    with pytest.raises(Unavailable):
        TokenVerifier(issuer="gongkai-local", audience="gongkai", jwks=broken).verify(
            token(OLD, "k1")
        )


def test_iat_is_required_and_lifetimes_are_bounded() -> None:
    check = TokenVerifier(
        issuer="gongkai-local",
        audience="gongkai",
        public_key_pem=OLD.public_pem,
        longest_lifetime_seconds=600,
    )
    with pytest.raises(Unauthenticated, match="登录凭证无效"):
        check.verify(token(OLD, "local-dev", iat=None))
    with pytest.raises(Unauthenticated, match="有效期超过"):
        check.verify(token(OLD, "local-dev", exp=int(time.time()) + 601))
    assert check.verify(token(OLD, "local-dev")).subject == "p-1"


def test_development_tokens_name_the_local_key() -> None:
    minted = OLD.issue(issuer="gongkai-local", audience="gongkai", subject="m-1", role="member")
    assert jwt.get_unverified_header(minted)["kid"] == "local-dev"
    claims = jwt.decode(minted, options={"verify_signature": False})
    assert {"iat", "exp", "jti"} <= set(claims)
    check = verifier(Provider(OLD.jwk()))
    assert check.verify(minted).subject == "m-1"


def test_the_longest_token_lifetime_defaults_per_environment() -> None:
    jwks = {"jwks_url": "https://id.example/.well-known/jwks.json"}
    assert ServiceSettings(environment="production", **jwks).longest_token_minutes == 60
    assert ServiceSettings(**jwks).longest_token_minutes == 30 * 24 * 60
    assert ServiceSettings(longest_token_minutes=10, **jwks).longest_token_minutes == 10


# The revocation rule -------------------------------------------------------------------

T0 = datetime(2026, 1, 5, 8, 0, tzinfo=UTC).timestamp()
MEMBER = Principal(subject="p-1", role=Role.MEMBER, org="b-1")
SECRETARY = Principal(subject="p-1", role=Role.BRANCH_SECRETARY, org="b-1")


def at(seconds: float) -> str:
    return datetime.fromtimestamp(T0 + seconds, tz=UTC).isoformat().replace("+00:00", "Z")


def memory() -> Revocations:
    return Revocations(window_seconds=300, now=lambda: T0 + 60)


def test_a_post_ended_after_issue_refuses_that_post_only() -> None:
    revocations = memory()
    ended = {"person_id": "p-1", "role": "branch_secretary", "org": "b-1", "reason": "replaced"}
    revocations.record("PostEnded", {**ended, "at": at(10)})
    assert revocations.refused(SECRETARY, T0) is not None  # issued before: refused
    assert revocations.refused(SECRETARY, T0 + 10) is not None  # the same second: refused
    assert revocations.refused(SECRETARY, T0 + 11) is None  # a new grant's token: fine
    assert revocations.refused(MEMBER, T0) is None  # the member's hat is untouched
    other_branch = Principal(subject="p-1", role=Role.BRANCH_SECRETARY, org="b-2")
    assert revocations.refused(other_branch, T0) is None


def test_a_lock_refuses_every_hat_until_an_unlock_and_a_new_token() -> None:
    revocations = memory()
    revocations.record("PersonLocked", {"person_id": "p-1", "at": at(10), "reason": "admin"})
    assert revocations.refused(MEMBER, T0) is not None
    assert revocations.refused(SECRETARY, T0) is not None
    assert revocations.refused(MEMBER, T0 + 20) is not None  # issued while locked
    revocations.record("PersonUnlocked", {"person_id": "p-1", "at": at(30)})
    assert revocations.refused(MEMBER, T0) is not None  # still: the lock came after it
    assert revocations.refused(MEMBER, T0 + 20) is not None
    assert revocations.refused(MEMBER, T0 + 31) is None  # after the unlock: fine
    assert revocations.refused(Principal(subject="p-2", role=Role.MEMBER), T0) is None


def test_a_lock_that_ends_by_itself_needs_no_unlock() -> None:
    revocations = memory()
    lock = {"person_id": "p-1", "at": at(10), "until": at(1810), "reason": "brute force"}
    revocations.record("PersonLocked", lock)
    assert revocations.refused(MEMBER, T0) is not None
    assert revocations.refused(MEMBER, T0 + 100) is not None  # while locked
    assert revocations.refused(MEMBER, T0 + 1811) is None  # after it ended


def test_other_identity_events_are_ignored_and_old_ones_forgotten() -> None:
    revocations = memory()
    revocations.record("PostGranted", {"person_id": "p-1"})
    revocations.record("PersonLocked", {"person_id": "p-9", "at": at(-400)})
    revocations.record("PersonUnlocked", {"person_id": "p-8", "at": at(-390)})
    revocations.record("PersonLocked", {"person_id": "p-8", "at": at(-400)})
    revocations.record(
        "PostEnded", {"person_id": "p-1", "role": "member", "org": "b-1", "at": at(-350)}
    )
    revocations.forget_old()
    assert revocations.posts == {}
    assert "p-8" not in revocations.locks  # unlocked long ago
    assert revocations.locks["p-9"]  # still locked: a token issued now is refused
    locked_long_ago = Principal(subject="p-9", role=Role.MEMBER)
    assert revocations.refused(locked_long_ago, T0 + 50) is not None


async def test_a_revoked_token_is_a_401_problem_and_identity_down_a_503() -> None:
    provider = Provider(OLD.jwk())
    revocations = memory()
    check = TokenVerifier(
        issuer="gongkai-local",
        audience="gongkai",
        jwks=JwksKeys("http://identity", fetch=provider, refetch_seconds=0),
        revocations=revocations,
    )
    app = FastAPI()
    app.state.runtime = SimpleNamespace(verifier=check)
    install_error_handlers(app)
    app.add_middleware(RequestContextMiddleware, service="pledge", max_body_bytes=10_000)
    router = APIRouter()

    @router.get("/v1/me")
    async def me(who: SignedIn) -> dict[str, str]:
        return {"subject": who.subject}

    app.include_router(router)
    minted = OLD.issue(issuer="gongkai-local", audience="gongkai", subject="p-1", role="member")
    auth = {"Authorization": f"Bearer {minted}"}
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        assert (await client.get("/v1/me", headers=auth)).json() == {"subject": "p-1"}
        revocations.record("PersonLocked", {"person_id": "p-1", "at": datetime.now(UTC)})
        refused = await client.get("/v1/me", headers=auth)  # remembered as verified: still
        assert refused.status_code == 401
        assert refused.headers["content-type"] == "application/problem+json"
        assert refused.json()["detail"].startswith("访问权限已被撤销")
        assert refused.json()["type"].endswith("access-revoked")
        provider.down = True
        other = token(NEW, "rotated-in", sub="p-2")  # a kid it would have to fetch
        down = await client.get("/v1/me", headers={"Authorization": f"Bearer {other}"})
        assert down.status_code == 503
        assert down.headers["content-type"] == "application/problem+json"
        assert down.headers["retry-after"]


def test_revocations_raise_access_revoked() -> None:
    revocations = memory()
    check = TokenVerifier(
        issuer="gongkai-local",
        audience="gongkai",
        public_key_pem=OLD.public_pem,
        revocations=revocations,
    )
    minted = token(OLD, "local-dev", iat=int(T0), exp=int(time.time()) + 60)
    assert check.verify(minted).subject == "p-1"
    revocations.record(
        "PostEnded", {"person_id": "p-1", "role": "member", "org": "b-1", "at": at(1)}
    )
    with pytest.raises(AccessRevoked):
        check.verify(minted)
