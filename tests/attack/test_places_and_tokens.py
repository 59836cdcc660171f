"""X1 on every service: a token that is not what it claims is refused (401), and a role used
outside its place in the hierarchy (another township, another branch) reaches nothing
(403/404), for reads as well as the commands the bad-input tables cover."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import jwt
import pytest

from services.evaluation.app import DEFINITION as EVALUATION
from services.notification.app import DEFINITION as NOTIFICATION
from services.pledge.app import DEFINITION as PLEDGE
from services.review.app import DEFINITION as REVIEW
from shared.auth import LocalSigningKey
from shared.clock import FixedClock
from tests.e2e.bad_input import assert_refused
from tests.e2e.evaluation_helpers import START, caught_up
from tests.e2e.helpers import Directory, event_count, eventually, ok
from tests.e2e.review_helpers import review_body
from tests.support import RunningService, Servers, running

Services = dict[str, RunningService]


@pytest.fixture(scope="module")
async def county(servers: Servers) -> AsyncIterator[tuple[Services, Directory]]:
    definitions = [PLEDGE, REVIEW, EVALUATION, NOTIFICATION]
    async with running(servers, definitions, FixedClock(START)) as services:
        d = await Directory(services["pledge"].client, servers).build()
        for name in ("review", "evaluation"):
            await caught_up(services["pledge"], services[name])
        yield services, d


# --- tokens that are not what they claim -----------------------------------------------------

STRANGER = LocalSigningKey.generate()


def claims(**changes: Any) -> dict[str, Any]:
    now = int(time.time())
    base = {"iss": "gongkai-local", "aud": "gongkai", "sub": "admin", "role": "county_admin"}
    return {**base, "org": "minqin", "iat": now, "exp": now + 600, **changes}


def signed(servers: Servers, **changes: Any) -> str:
    key = jwt.get_algorithm_by_name("EdDSA").prepare_key(servers.key.private_pem)
    return jwt.encode(claims(**changes), key, algorithm="EdDSA")


def part(data: bytes) -> bytes:
    return base64.urlsafe_b64encode(data).rstrip(b"=")


def hmac_with_public_key(servers: Servers) -> str:
    """The algorithm-confusion attack: HS256 keyed with the service's public key."""
    head = part(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    body = part(json.dumps(claims()).encode())
    mac = hmac.new(servers.key.public_pem, head + b"." + body, hashlib.sha256).digest()
    return (head + b"." + body + b"." + part(mac)).decode()


def junk_signed(alg: str) -> Callable[[Servers], str]:
    """Good claims under a header naming an algorithm the service has no key for, with a
    made-up signature: anyone can send it (PyJWT raised a TypeError on it, a 500)."""

    def token(servers: Servers) -> str:
        head = part(json.dumps({"alg": alg, "typ": "JWT"}).encode())
        return (head + b"." + part(json.dumps(claims()).encode()) + b"." + part(b"junk")).decode()

    return token


TOKENS: dict[str, Callable[[Servers], str]] = {
    "alg-none": lambda s: jwt.encode(claims(), None, algorithm="none"),
    "wrong-key": lambda s: STRANGER.issue(
        issuer="gongkai-local", audience="gongkai", subject="admin", role="county_admin"
    ),
    "expired": lambda s: signed(s, iat=int(time.time()) - 7200, exp=int(time.time()) - 60),
    "wrong-audience": lambda s: signed(s, aud="another-system"),
    "wrong-issuer": lambda s: signed(s, iss="evil"),
    "no-expiry": lambda s: signed(s, exp=None),
    "unknown-role": lambda s: signed(s, role="emperor"),
    "hmac-with-public-key": hmac_with_public_key,
    "rs256-junk": junk_signed("RS256"),
    "es256-junk": junk_signed("ES256"),
}
# a command each service takes from a county administrator (so only the token is wrong)
COMMANDS = {
    "pledge": ("/v1/counties", {"county_id": "gulang", "name": "古浪县"}),
    "review": ("/v1/reviews", {}),
    "evaluation": ("/v1/rounds", {}),
    "notification": ("/v1/channels", {}),
}


@pytest.mark.parametrize("service", list(COMMANDS))
@pytest.mark.parametrize("token", list(TOKENS))
async def test_a_bad_token_is_refused_by_every_service(
    servers: Servers, county: tuple[Services, Directory], service: str, token: str
) -> None:
    target = county[0][service]
    path, body = COMMANDS[service]
    before = await event_count(target)
    headers = {"Authorization": f"Bearer {TOKENS[token](servers)}"}
    response = await target.client.post(path, json=body, headers=headers)
    assert_refused(f"{service}:{token}", response, await event_count(target) - before, [401], None)
    good = {"Authorization": f"Bearer {signed(servers)}"}  # the same claims, signed rightly
    assert (await target.client.post(path, json=body, headers=good)).status_code != 401


# what each service lets the public read without a token, and what a bad token gets there: a
# 401 where the answer depends on who asks, else the token is not looked at
PUBLIC_READS = {
    "pledge": ("/v1/pledges", 401),
    "review": ("/v1/reviews", 401),
    "evaluation": ("/v1/ratings", 200),
    "notification": ("/v1/releases", 200),
}


@pytest.mark.parametrize("service", list(PUBLIC_READS))
@pytest.mark.parametrize("token", list(TOKENS))
async def test_a_bad_token_is_no_server_error_on_public_reads(
    servers: Servers, county: tuple[Services, Directory], service: str, token: str
) -> None:
    target = county[0][service]
    path, status = PUBLIC_READS[service]
    headers = {"Authorization": f"Bearer {TOKENS[token](servers)}"}
    response = await target.client.get(path, headers=headers)
    if status == 401:
        assert_refused(f"{service}:{token}", response, 0, [401], None)
    else:
        assert response.status_code == status, response.text
    assert (await target.client.get(path)).status_code == 200  # no token: the public


# --- roles outside their place ---------------------------------------------------------------


async def secretary_elsewhere(services: Services, d: Directory) -> dict[str, str]:
    """The real secretary of a branch in the other township (a made-up one is refused for
    not holding any post, before any check of places could be tested)."""
    c, office = services["pledge"].client, d.as_("township_office", d.other_township)
    branch = {"township_id": d.other_township, "name": "苏武村党支部", "kind": "village"}
    branch_id = ok(await c.post("/v1/branches", json=branch, headers=office), 201)["id"]
    member = {"branch_id": branch_id, "name": "马志强", "post": "支部书记", "duties": "全面工作"}
    member_id = ok(await c.post("/v1/members", json=member, headers=office), 201)["id"]
    secretary = {"member_id": member_id}
    ok(await c.post(f"/v1/branches/{branch_id}/secretary", json=secretary, headers=office))

    async def copied() -> bool:
        pool = services["evaluation"].runtime.pool
        query = "SELECT secretary_id FROM dir_branches WHERE branch_id = $1"
        return bool(await pool.fetchval(query, branch_id) == member_id)

    await eventually(copied, timeout=20)
    return d.as_("branch_secretary", branch_id, member_id)


async def refused_read(
    service: RunningService, path: str, headers: dict[str, str], *statuses: int, **params: str
) -> None:
    response = await service.client.get(path, params=params, headers=headers)
    assert_refused(f"GET {path} {params}", response, 0, statuses, None)  # reads append nothing


async def test_another_townships_staff_read_no_unpublished_pledge(
    county: tuple[Services, Directory],
) -> None:
    services, d = county
    pledge = services["pledge"]
    body = {"year": 2028, "branch_id": d.branch}
    draft = ok(await pledge.client.post("/v1/pledges", json=body, headers=d.branch_secretary), 201)
    path = f"/v1/pledges/{draft['id']}"
    for role in ("township_office", "township_committee"):
        await refused_read(pledge, path, d.as_(role, d.other_township), 403, 404)
    await refused_read(pledge, path, await secretary_elsewhere(services, d), 403, 404)
    ok(await pledge.client.get(path, headers=d.office))


async def test_another_townships_office_sees_no_raters_or_live_results(
    county: tuple[Services, Directory],
) -> None:
    services, d = county
    e = services["evaluation"].client
    opening = {"title": "评议", "year": 2027, "half": 2, "opens_on": "2027-03-01"}
    township_round = {**opening, "township_id": d.township}
    round_id = ok(await e.post("/v1/rounds", json=township_round, headers=d.office), 201)["id"]
    members_round = {**opening, "branch_id": d.branch}
    branch_round = ok(
        await e.post("/v1/rounds", json=members_round, headers=d.branch_secretary), 201
    )["id"]
    other_office = d.as_("township_office", d.other_township)
    refusals = [
        (f"/v1/rounds/{round_id}/raters", other_office, 403),
        (f"/v1/rounds/{round_id}/results", other_office, 409),  # not closed: for nobody
        (f"/v1/rounds/{round_id}/results", d.office, 409),  # not even the organiser (E3)
        (f"/v1/rounds/{branch_round}/raters", await secretary_elsewhere(services, d), 403),
        (f"/v1/rounds/{branch_round}/raters", other_office, 403),
    ]
    for path, headers, status in refusals:
        await refused_read(services["evaluation"], path, headers, status)
    ok(await e.get(f"/v1/rounds/{round_id}/raters", headers=d.office))


async def test_another_townships_staff_see_no_review_history(
    county: tuple[Services, Directory],
) -> None:
    services, d = county
    c = services["review"].client
    body = review_body("branch", d.branch, "2027-02-09", occasion="secretaries_meeting")
    review_id = ok(await c.post("/v1/reviews", json=body, headers=d.committee), 201)["id"]
    history = {"include_superseded": "true", "township_id": d.township}
    review = services["review"]
    for role in ("township_office", "township_committee"):
        elsewhere = d.as_(role, d.other_township)
        await refused_read(review, f"/v1/reviews/{review_id}", elsewhere, 403)
        await refused_read(review, "/v1/reviews", elsewhere, 403, **history)
    # township staff ask for their own township's history, not every township's
    await refused_read(review, "/v1/reviews", d.office, 403, include_superseded="true")
    ok(await c.get(f"/v1/reviews/{review_id}", headers=d.office))
    ok(await c.get("/v1/reviews", params=history, headers=d.committee))
