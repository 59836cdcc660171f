"""Requests refused before the app parses them (shared/guards.py): JSON nested too deep, a
key given twice, a body over the limit sent in chunks with no Content-Length, and the public
rate limit."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from services.evaluation.app import DEFINITION as EVALUATION
from services.notification.app import DEFINITION as NOTIFICATION
from services.pledge.app import DEFINITION as PLEDGE
from shared.auth import LocalSigningKey
from shared.clock import FixedClock
from shared.guards import TokenBuckets, duplicated_key, json_too_deep
from tests.e2e.bad_input import assert_refused
from tests.e2e.helpers import event_count
from tests.support import RunningService, Servers, running

CLOCK = datetime(2027, 3, 1, 2, 0, tzinfo=UTC)


@pytest.fixture
async def pledge(servers: Servers) -> AsyncIterator[RunningService]:
    async with running(servers, [PLEDGE], FixedClock(CLOCK), max_body_bytes=100_000) as s:
        yield s["pledge"]


# --- JSON depth ----------------------------------------------------------------------------


def test_depth_counts_brackets_outside_strings_only() -> None:
    assert not json_too_deep(b'{"a": [[1]]}', 3)
    assert json_too_deep(b'{"a": [[[1]]]}', 3)
    assert not json_too_deep(b'{"name": "[[[[{{{{ \\" [[[["}', 1)  # in a string, escaped quote
    assert json_too_deep(b'[["\\\\"], [[[]]]]', 3)  # an escaped backslash ends no string


@pytest.mark.parametrize(
    "body",
    [b"[" * 10_000 + b"]" * 10_000, b'{"a":' * 10_000 + b"1" + b"}" * 10_000, b"[" * 10_000],
    ids=["arrays", "objects", "unclosed"],
)
async def test_ten_thousand_levels_are_refused_before_parsing(
    servers: Servers, pledge: RunningService, body: bytes
) -> None:
    before = await event_count(pledge)
    started = time.monotonic()
    response = await pledge.client.post(
        "/v1/counties",
        content=body,
        headers={**servers.auth("county_admin", "gulang"), "content-type": "application/json"},
    )
    assert time.monotonic() - started < 1.0  # no recursion into 10,000 levels
    assert_refused("deep", response, await event_count(pledge) - before, [422], "body")
    assert "嵌套超过 32 层" in response.json()["detail"]


@pytest.mark.parametrize("encoding", ["utf-16-le", "utf-16", "utf-32"])
async def test_json_in_another_encoding_cannot_hide_its_depth(
    servers: Servers, pledge: RunningService, encoding: str
) -> None:
    """json.loads reads UTF-16 and UTF-32 too, where every bracket comes with NUL bytes the
    depth scan would misread: the body must be UTF-8."""
    body = ('{"county_id": "gulang", "name": ' + "[" * 900 + "]" * 900 + "}").encode(encoding)
    before = await event_count(pledge)
    response = await pledge.client.post(
        "/v1/counties",
        content=body,
        headers={**servers.auth("county_admin", "gulang"), "content-type": "application/json"},
    )
    assert_refused(encoding, response, await event_count(pledge) - before, [422], "body")
    assert "UTF-8" in response.json()["detail"]


async def test_a_body_within_the_depth_limit_reaches_validation(
    servers: Servers, pledge: RunningService
) -> None:
    nested: object = "x"
    for _ in range(31):  # 32 levels with the body itself
        nested = [nested]
    response = await pledge.client.post(
        "/v1/counties",
        json={"county_id": "gulang", "name": nested},
        headers=servers.auth("county_admin", "gulang"),
    )
    assert_refused("within depth", response, 0, [422], "name")  # pydantic's verdict


# --- a key given twice ----------------------------------------------------------------------


def test_a_key_given_twice_is_found_where_it_is() -> None:
    assert duplicated_key(b'{"a": 1, "b": [{"a": 1}, {"a": 2}]}') is None  # different objects
    assert duplicated_key(b'{"a": 1, "a": 1}') == "a"
    assert duplicated_key(b'{"items": [{"t": 1}, {"t": 1, "u": {"v": 0, "v": 0}}]}') == (
        "items.1.u.v"
    )
    assert duplicated_key(b'{"a": 1, "\\u0061": 2}') == "a"  # the same key, escaped
    assert duplicated_key(b'{"a": {"b": 1, "b": 2}, "a": 3}') == "a"  # the outer one
    assert duplicated_key(b'{"a": gulang}') is None  # not JSON: the app says what is wrong
    assert duplicated_key(b"[1, 2, 1]") is None


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (b'{"county_id": "minqin", "name": "x", "county_id": "gulang"}', "county_id"),
        ('{"county_id": "gulang", "name": "古浪县", "name": ""}'.encode(), "name"),
        (b'{"county_id": "gulang", "name": "x", "name": "x"}', "name"),  # even the same value
    ],
    ids=["last-would-pass", "first-would-pass", "same-value"],
)
async def test_a_key_given_twice_is_refused_before_parsing(
    servers: Servers, pledge: RunningService, body: bytes, field: str
) -> None:
    """json.loads keeps the last of a key given twice; another parser may keep the first: a
    body that means different things to different readers is refused, naming the key."""
    before = await event_count(pledge)
    response = await pledge.client.post(
        "/v1/counties",
        content=body,
        headers={**servers.auth("county_admin", "gulang"), "content-type": "application/json"},
    )
    assert_refused("twice", response, await event_count(pledge) - before, [422], field)
    assert "出现了两次" in response.json()["detail"]


# --- a chunked body over the limit ---------------------------------------------------------


async def test_a_chunked_body_is_cut_off_at_the_limit_without_its_end(
    servers: Servers, pledge: RunningService
) -> None:
    """No Content-Length, and the body never ends: the 413 must come once the limit passed."""
    port = pledge.settings.port
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    token = servers.token("county_admin", "gulang")
    writer.write(
        b"POST /v1/counties HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        b"Transfer-Encoding: chunked\r\nAuthorization: Bearer " + token.encode() + b"\r\n\r\n"
    )
    chunk = b" " * 4096
    for _ in range(2 * pledge.settings.max_body_bytes // len(chunk)):  # and no final 0 chunk
        writer.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
    await writer.drain()
    status_line = await asyncio.wait_for(reader.readline(), timeout=5)
    writer.close()
    assert status_line.startswith(b"HTTP/1.1 413"), status_line
    assert await event_count(pledge) == 0


# --- the public rate limit -----------------------------------------------------------------

LIMITED = {"public_requests_per_second": 0.5, "public_burst": 3}
STRANGER = LocalSigningKey.generate()


@pytest.mark.parametrize(
    ("definition", "method", "path", "as_"),
    [
        (PLEDGE, "GET", "/v1/counties/minqin", None),  # published data, read anonymously
        (NOTIFICATION, "GET", "/", None),  # the public board
        (EVALUATION, "POST", "/v1/rounds/r-1/ballots", "rater"),  # a public ballot
    ],
    ids=["published-read", "board", "ballot"],
)
async def test_public_requests_are_limited_per_address_and_officers_are_not(
    servers: Servers, definition: object, method: str, path: str, as_: str | None
) -> None:
    async with running(servers, [definition], FixedClock(CLOCK), **LIMITED) as s:  # type: ignore[list-item]
        c = next(iter(s.values())).client
        public = servers.auth("rater", "r-1", "rt-1") if as_ else {}
        body = {"grades": {"b-1": "satisfied"}} if method == "POST" else None
        for _ in range(3):  # the burst
            response = await c.request(method, path, json=body, headers=public)
            assert response.status_code != 429, response.text
        for headers in (public, {"Authorization": "Bearer " + forged(servers)}):
            response = await c.request(method, path, json=body, headers=headers)
            assert response.status_code == 429, response.text
            assert response.headers["content-type"].startswith("application/problem+json")
            assert response.json()["type"] == "urn:gongkai:problem:too-many-requests"
            assert int(response.headers["retry-after"]) >= 1
        officer = servers.auth("township_office", "t-1")
        assert (await c.request(method, path, json=body, headers=officer)).status_code != 429


def forged(servers: Servers) -> str:
    """An officer's claims signed with a key the service does not trust: still the public."""
    return STRANGER.issue(
        issuer="gongkai-local", audience="gongkai", subject="x", role="county_admin", org="minqin"
    )


def test_a_bucket_refills_at_its_rate() -> None:
    buckets = TokenBuckets(rate=2.0, burst=2)
    assert buckets.take("a", 0.0) == buckets.take("a", 0.0) == 0.0
    assert buckets.take("a", 0.0) == pytest.approx(0.5)  # a token every half second
    assert buckets.take("b", 0.0) == 0.0  # per address
    assert buckets.take("a", 0.5) == 0.0
    assert buckets.take("a", 100.0) == buckets.take("a", 100.0) == 0.0  # full, not more
    assert buckets.take("a", 100.0) > 0


def test_a_flood_of_addresses_cannot_grow_the_buckets_without_bound() -> None:
    buckets = TokenBuckets(rate=0.001, burst=5, max_keys=100)  # nobody's bucket refills
    for n in range(10_000):
        assert buckets.take(f"2001:db8::{n:x}", n * 0.001) == 0.0  # each a first request
        assert len(buckets._buckets) <= 100
    assert buckets.take("2001:db8::270f", 10.0) == 0.0  # the most recent are remembered
    assert buckets._buckets["2001:db8::270f"][0] == pytest.approx(3.0, abs=0.1)


@pytest.mark.parametrize(("proxy", "own_buckets"), [("127.0.0.1", True), ("192.0.2.1", False)])
def test_behind_a_trusted_proxy_each_caller_has_a_bucket_of_their_own(
    servers: Servers, tmp_path: Path, proxy: str, own_buckets: bool
) -> None:
    """The real process (`serve`): X-Forwarded-For names the client only when the trusted
    proxy sent it, so the public does not share one bucket; from anyone else it is ignored
    (else a caller would pick a fresh address for every request)."""
    from tests.faults.stack import ServiceProcess

    root = f"p{uuid.uuid4().hex[:8]}"
    pledge = ServiceProcess(
        "pledge", servers, root, tmp_path, nats_url=servers.nats.url, replicas=1
    )
    pledge.env |= {
        "GONGKAI_PUBLIC_REQUESTS_PER_SECOND": "0.01",
        "GONGKAI_PUBLIC_BURST": "2",
        "GONGKAI_TRUSTED_PROXIES": proxy,
    }
    pledge.start()
    try:

        def read(caller: str) -> int:
            headers = {"X-Forwarded-For": caller}
            return httpx.get(f"{pledge.url}/v1/ledger", headers=headers, timeout=10).status_code

        assert [read("203.0.113.7") for _ in range(3)] == [200, 200, 429]
        assert read("203.0.113.8") == (200 if own_buckets else 429)
    finally:
        pledge.stop()
