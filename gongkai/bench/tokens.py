"""`gongkai bench tokens`: what checking a bearer token costs each service, and what a password
sign-in costs the identity service.

Token verification, side by side in one run: today's local-key check (`TokenVerifier` with the
public key file, no revocations), the same with the revocation check every service now makes
(a memory holding `--tokens` posts ended), and the identity JWKS with it (`TokenVerifier` with
`JwksKeys`, the key picked by the token's `kid` from a JWKS served over HTTP on 127.0.0.1,
fetched once). Each
round verifies `--tokens` distinct tokens on a fresh verifier, so every one is a signature
check (a client's repeated token is remembered for a minute and costs far less: reported
too). The first JWKS fetch (a cold service's first token) is reported on its own.

Password sign-in: argon2id with the parameters the identity service uses
(services/identity/oidc/passwords.py: argon2-cffi's RFC 9106 low-memory profile, t=3,
m=64 MiB, p=4): p50/p99 of hashing (setting a password) and of verifying (a sign-in), one at
a time, `--signins` of each.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, HTTPServer

from argon2 import PasswordHasher
from argon2.profiles import RFC_9106_LOW_MEMORY

from gongkai.bench.common import (
    Bench,
    Figure,
    Side,
    Sizes,
    alternate,
    best,
    latency,
    percentile,
    report,
    versus,
)
from shared.auth import JwksKeys, LocalSigningKey, Principal, Role, TokenVerifier
from shared.revocations import Revocations

TARGET = 0.8  # the JWKS check at least 0.8x the local-key check's rate
ISSUER, AUDIENCE = "gongkai-local", "gongkai"


@contextmanager
def jwks_server(key: LocalSigningKey) -> Iterator[str]:
    """The identity JWKS as a tiny HTTP server on 127.0.0.1 (the key under kid local-dev)."""
    body = json.dumps({"keys": [key.jwk()]}).encode()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/.well-known/jwks.json"
    finally:
        server.shutdown()
        server.server_close()


def revocations_holding(count: int) -> Revocations:
    """A revocation memory with `count` posts ended (none of the tokens measured)."""
    memory = Revocations(window_seconds=3600)
    now = datetime.now(UTC).isoformat()
    for n in range(count):
        ended = {"person_id": f"p-{n}", "role": "member", "org": f"b-{n}", "at": now}
        memory.record("PostEnded", ended)
    return memory


def revocation_rates(memory: Revocations, count: int, rounds: int = 3) -> list[float]:
    """How many tokens a second the revocation memory answers for (none of them refused)."""
    people = [Principal(subject=f"m-{n}", role=Role.MEMBER, org="b-1") for n in range(count)]
    issued = time.time()
    rates = []
    for _ in range(rounds):
        start = time.perf_counter()
        for principal in people:
            memory.refused(principal, issued)
        rates.append(count / (time.perf_counter() - start))
    return rates


def verify_all(verifier: TokenVerifier, tokens: list[str]) -> float:
    start = time.perf_counter()
    for token in tokens:
        verifier.verify(token)
    return len(tokens) / (time.perf_counter() - start)


async def measure(bench: Bench, sizes: Sizes) -> list[Figure]:
    key = LocalSigningKey.generate()
    tokens = [
        key.issue(
            issuer=ISSUER,
            audience=AUDIENCE,
            subject=f"m-{n}",
            role="member",
            org="b-1",
            ttl_seconds=300,
        )
        for n in range(sizes.tokens)
    ]
    memory = revocations_holding(sizes.tokens)
    with jwks_server(key) as url:
        keys = JwksKeys(url)
        cold = time.perf_counter()
        keys.key(key.kid)  # a cold service's first token: the JWKS fetched once
        first_fetch = (time.perf_counter() - cold) * 1000

        def today() -> TokenVerifier:  # the local-key check as it was: no revocations
            return TokenVerifier(issuer=ISSUER, audience=AUDIENCE, public_key_pem=key.public_pem)

        def local() -> TokenVerifier:
            return TokenVerifier(
                issuer=ISSUER, audience=AUDIENCE, public_key_pem=key.public_pem, revocations=memory
            )

        def by_kid() -> TokenVerifier:
            return TokenVerifier(issuer=ISSUER, audience=AUDIENCE, jwks=keys, revocations=memory)

        sides = {"today": today, "local": local, "jwks": by_kid}

        def side(make: Callable[[], TokenVerifier]) -> Side:
            async def run(warm_up: bool) -> float:
                return verify_all(make(), tokens)

            return run

        rates = await alternate({name: side(make) for name, make in sides.items()}, bench.rounds)
        remembered = by_kid()
        verify_all(remembered, tokens)
        again = [verify_all(remembered, tokens) for _ in range(bench.rounds)]
        fetches = keys.fetches
    base = best("local key, as today (no revocations)", rates["today"], "tokens/s")
    figures = [
        base,
        versus("local key + revocation check", rates["local"], base, unit="tokens/s"),
        versus(
            "identity JWKS by kid + revocation check",
            rates["jwks"],
            base,
            TARGET,
            unit="tokens/s",
            note=f"JWKS fetched {fetches} time(s) in the whole run",
        ),
        best("a token seen in the last minute (JWKS)", again, "tokens/s"),
        best("the revocation check alone", revocation_rates(memory, sizes.tokens), "tokens/s"),
        latency("first JWKS fetch (cold service)", first_fetch),
    ]
    hash_ms, verify_ms = await asyncio.to_thread(argon2_costs, sizes.signins)
    p = RFC_9106_LOW_MEMORY
    named = f"t={p.time_cost}, m={p.memory_cost // 1024} MiB, p={p.parallelism}"
    figures += [
        latency("argon2id hash p50 (set a password)", percentile(hash_ms, 50)),
        latency("argon2id hash p99", percentile(hash_ms, 99)),
        latency("argon2id verify p50 (a sign-in)", percentile(verify_ms, 50)),
        latency("argon2id verify p99", percentile(verify_ms, 99)),
    ]
    report(
        bench.console,
        "tokens: a service's token check; the identity service's password sign-in",
        figures,
        f"{sizes.tokens} distinct EdDSA tokens per side per round, a revocation memory of "
        f"{sizes.tokens} ended posts; argon2id RFC 9106 low-memory ({named}), "
        f"{sizes.signins} hashes and verifies one at a time",
    )
    return figures


def argon2_costs(count: int) -> tuple[list[float], list[float]]:
    """Milliseconds per hash and per verify, with the identity service's parameters."""
    hasher = PasswordHasher.from_parameters(RFC_9106_LOW_MEMORY)
    hashes, verifies = [], []
    hasher.verify(hasher.hash("warm-up"), "warm-up")
    for n in range(count):
        password = f"Gongkai-{n}-密码!"
        start = time.perf_counter()
        hashed = hasher.hash(password)
        middle = time.perf_counter()
        hasher.verify(hashed, password)
        hashes.append((middle - start) * 1000)
        verifies.append((time.perf_counter() - middle) * 1000)
    return hashes, verifies
