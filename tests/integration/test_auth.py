"""Bearer tokens: what is accepted and what is refused (local key and JWKS URL)."""

from __future__ import annotations

import base64
import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from jwt.algorithms import OKPAlgorithm

from shared.auth import LocalSigningKey, Role, TokenVerifier
from shared.errors import Unauthenticated

KEY = LocalSigningKey.generate()
VERIFIER = TokenVerifier(issuer="gongkai-local", audience="gongkai", public_key_pem=KEY.public_pem)


def claims(**overrides: object) -> dict[str, object]:
    now = int(time.time())
    return {
        "iss": "gongkai-local",
        "aud": "gongkai",
        "sub": "m-1",
        "role": "member",
        "org": "b-1",
        "iat": now,
        "exp": now + 60,
        **overrides,
    }


def private(key: LocalSigningKey) -> Any:
    return serialization.load_pem_private_key(key.private_pem, password=None)


def signed(key: LocalSigningKey, **overrides: object) -> str:
    return jwt.encode(claims(**overrides), private(key), algorithm="EdDSA")


def with_header(header: object, signature: bytes = b"junk") -> str:
    """A token with this header (a dict as JSON, bytes as they are), good claims and a made-up
    signature: what anyone can send without any key."""

    def part(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

    head = header if isinstance(header, bytes) else json.dumps(header).encode()
    return f"{part(head)}.{part(json.dumps(claims()).encode())}.{part(signature)}"


# headers naming algorithms and keys the service does not have, or not a header at all
FORGED_HEADERS = {
    "rs256": {"alg": "RS256", "typ": "JWT"},
    "es256": {"alg": "ES256", "typ": "JWT"},
    "ps256": {"alg": "PS256"},
    "es384": {"alg": "ES384", "kid": "k1"},
    "rs256-kid": {"alg": "RS256", "kid": "k1"},
    "hs256": {"alg": "HS256"},
    "none": {"alg": "none"},
    "no-alg": {"typ": "JWT"},
    "empty-alg": {"alg": ""},
    "alg-null": {"alg": None},
    "alg-number": {"alg": 5},
    "alg-list": {"alg": ["EdDSA"]},
    "kid-object": {"alg": "EdDSA", "kid": {}},
    "unknown-kid": {"alg": "EdDSA", "kid": "k9"},
    "b64-false": {"alg": "EdDSA", "b64": False},
    "crit": {"alg": "EdDSA", "crit": ["exp"]},
    "header-array": [],
    "header-not-json": b"not json",
    "header-not-utf8": b"\xff\xfe",
}
MALFORMED = ["", ".", "..", "a.b", "a.b.c.d", "!!!.b.c", "not.a.token"]


def test_a_good_token_gives_role_and_place() -> None:
    principal = VERIFIER.verify(signed(KEY))
    assert (principal.subject, principal.role, principal.org) == ("m-1", Role.MEMBER, "b-1")


@pytest.mark.parametrize(
    "token",
    [
        pytest.param(jwt.encode(claims(), key=None, algorithm="none"), id="alg-none"),
        pytest.param(signed(LocalSigningKey.generate()), id="wrong-key"),
        pytest.param(signed(KEY, exp=int(time.time()) - 5), id="expired"),
        pytest.param(signed(KEY, aud="someone-else"), id="wrong-audience"),
        pytest.param(signed(KEY, iss="evil"), id="wrong-issuer"),
        pytest.param(signed(KEY, role="emperor"), id="unknown-role"),
        pytest.param(
            jwt.encode(claims(), "a-shared-secret-of-thirty-two-bytes!", algorithm="HS256"),
            id="hmac",
        ),
        pytest.param("not.a.token", id="garbage"),
    ],
)
def test_bad_tokens_are_refused(token: str) -> None:
    with pytest.raises(Unauthenticated):
        VERIFIER.verify(token)


@pytest.mark.parametrize("signature", [b"junk", b""], ids=["junk", "empty"])
@pytest.mark.parametrize("header", list(FORGED_HEADERS))
def test_a_forged_header_is_refused_whatever_it_names(header: str, signature: bytes) -> None:
    """RS256 or ES256 against an Ed25519 key made PyJWT raise a TypeError (a 500 on every
    request): an algorithm the key does not sign with is refused like any bad token."""
    with pytest.raises(Unauthenticated):
        VERIFIER.verify(with_header(FORGED_HEADERS[header], signature))


@pytest.mark.parametrize("token", MALFORMED)
def test_a_malformed_token_is_refused(token: str) -> None:
    with pytest.raises(Unauthenticated):
        VERIFIER.verify(token)


@pytest.fixture
def jwks_url() -> Iterator[str]:
    public = OKPAlgorithm.to_jwk(serialization.load_pem_public_key(KEY.public_pem), as_dict=True)
    body = json.dumps({"keys": [{**public, "kid": "k1", "alg": "EdDSA", "use": "sig"}]})

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(body.encode())

        def log_message(self, *args: object) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}/.well-known/jwks.json"
    server.shutdown()


def test_production_verifies_against_a_jwks_url(jwks_url: str) -> None:
    verifier = TokenVerifier(issuer="gongkai-local", audience="gongkai", jwks_url=jwks_url)
    token = jwt.encode(claims(), private(KEY), algorithm="EdDSA", headers={"kid": "k1"})
    assert verifier.verify(token).subject == "m-1"
    forged = jwt.encode(
        claims(), private(LocalSigningKey.generate()), algorithm="EdDSA", headers={"kid": "k1"}
    )
    with pytest.raises(Unauthenticated):
        verifier.verify(forged)


def test_a_jwks_verifier_refuses_forged_headers_too(jwks_url: str) -> None:
    verifier = TokenVerifier(issuer="gongkai-local", audience="gongkai", jwks_url=jwks_url)
    for header in FORGED_HEADERS.values():
        with pytest.raises(Unauthenticated):
            verifier.verify(with_header(header))
        if isinstance(header, dict):  # and the same naming the key the JWKS has
            with pytest.raises(Unauthenticated):
                verifier.verify(with_header({**header, "kid": "k1"}))
    for token in MALFORMED:
        with pytest.raises(Unauthenticated):
            verifier.verify(token)


def test_a_token_seen_before_is_not_trusted_past_its_expiry(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Verified tokens are remembered for a minute at most, and never past their `exp`."""
    verifier = TokenVerifier(
        issuer="gongkai-local", audience="gongkai", public_key_pem=KEY.public_pem
    )
    expiry = int(time.time()) + 1
    short = jwt.encode(claims(exp=expiry), private(KEY), algorithm="EdDSA")
    assert verifier.verify(short).subject == "m-1"
    assert verifier.verify(short).subject == "m-1"  # remembered
    time.sleep(max(0.0, expiry - time.time()) + 0.05)  # past its exp
    with pytest.raises(Unauthenticated):
        verifier.verify(short)
    now = time.time()

    # a long-lived token is checked again after the minute (a key withdrawn from the JWKS
    # stops vouching for it), and the memory stays bounded
    monkeypatch.setattr(time, "time", lambda: now)
    long = jwt.encode(claims(exp=int(now) + 3600), private(KEY), algorithm="EdDSA")
    verifier.verify(long)
    other = TokenVerifier(
        issuer="gongkai-local",
        audience="gongkai",
        public_key_pem=LocalSigningKey.generate().public_pem,
    )
    other._verified = verifier._verified  # as if the key had been replaced meanwhile
    monkeypatch.setattr(time, "time", lambda: now + 30)
    assert other.verify(long).subject == "m-1"
    monkeypatch.setattr(time, "time", lambda: now + 61)
    with pytest.raises(Unauthenticated):
        other.verify(long)
    monkeypatch.undo()
    for n in range(4100):
        verifier.verify(jwt.encode(claims(sub=f"m-{n}"), private(KEY), algorithm="EdDSA"))
    assert len(verifier._verified) == 4096


def test_a_jwks_url_that_does_not_answer_is_unavailable_not_unauthenticated() -> None:
    from shared.embedded import free_port
    from shared.errors import Unavailable

    url = f"http://127.0.0.1:{free_port()}/.well-known/jwks.json"  # nobody listens
    verifier = TokenVerifier(issuer="gongkai-local", audience="gongkai", jwks_url=url)
    token = jwt.encode(claims(), private(KEY), algorithm="EdDSA", headers={"kid": "k1"})
    with pytest.raises(Unavailable):
        verifier.verify(token)
