"""Bearer tokens: what is accepted and what is refused (local key and JWKS URL)."""

from __future__ import annotations

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
