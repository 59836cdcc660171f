"""Bad input to every state-changing endpoint of the review service is refused with an
RFC 9457 problem and leaves the event log untouched (X3), in the style of
tests/e2e/test_bad_input.py: each case changes one thing about its route's good request —
the body or path (malformed: 422 naming the field, or 404), the credentials
(unauthenticated: 401) or the caller (forbidden: 403). The good requests are checked last,
in the same world, so each refusal is for what its case changed.
`test_every_state_changing_route_has_bad_input_cases` fails for a route without cases."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from typing import Any

import jwt
import pytest

from services.review.app import DEFINITION
from shared.auth import LocalSigningKey
from tests.e2e.bad_input import assert_refused, event_count, state_changing_routes
from tests.e2e.review_helpers import (
    Headers,
    ReviewWorld,
    assessments,
    correction_body,
    entry_body,
    pledge_and_review,
    review_body,
    seated,
)
from tests.support import Servers

MALFORMED, UNAUTHENTICATED, FORBIDDEN = "malformed", "unauthenticated", "forbidden"
NUL = "\u0000"
W = ReviewWorld


@dataclass(frozen=True)
class Call:
    path: str
    body: Any
    auth: Headers
    status: int


JOURNAL = "/v1/members/{member_id}/journal/{month}"
GOOD: dict[str, Callable[[W], Call]] = {
    "/v1/reviews": lambda w: Call(
        "/v1/reviews",
        review_body("member", w.d.member, "2027-01-04"),
        w.d.branch_secretary,
        201,
    ),
    "/v1/reviews/{review_id}/correction": lambda w: Call(
        f"/v1/reviews/{w.review_id}/correction",
        correction_body("member", "2027-01-03"),
        w.d.branch_secretary,
        201,
    ),
    f"{JOURNAL}/entries": lambda w: Call(
        f"/v1/members/{w.d.member}/journal/2027-01/entries", entry_body(), w.d.the_member, 201
    ),
    f"{JOURNAL}/entries/{{entry_id}}/correction": lambda w: Call(
        f"/v1/members/{w.d.member}/journal/2027-01/entries/{w.entry_id}/correction",
        entry_body(reason="户数记错"),
        w.d.the_member,
        201,
    ),
    f"{JOURNAL}/presentation": lambda w: Call(
        f"/v1/members/{w.d.member}/journal/2027-01/presentation",
        {"presented_on": "2027-01-04", "grade": "qualified", "evaluation": "记实较具体"},
        w.d.branch_secretary,
        200,
    ),
    "/v1/visits": lambda w: Call(
        "/v1/visits",
        {
            "branch_id": w.d.branch,
            "cadre_name": "王镇长",
            "visited_on": "2027-01-04",
            "summary": "指导支部开展承诺践诺",
        },
        w.d.committee,
        201,
    ),
}

LEADER = "l-assigned"  # a leader the world's office assigned to the branch (R1)
GOOD.update(
    {
        "/v1/branches/{branch_id}/leaders": lambda w: Call(
            f"/v1/branches/{w.d.branch}/leaders",
            {"leader_id": "l-deputy", "leader_name": "王副书记"},
            w.d.office,
            201,
        ),
        "/v1/branches/{branch_id}/leaders/{leader_id}/unassignment": lambda w: Call(
            f"/v1/branches/{w.d.branch}/leaders/{LEADER}/unassignment", None, w.d.office, 200
        ),
    }
)

Body = Callable[[W, Any], Any]


@dataclass(frozen=True)
class Case:
    route: str
    kind: str
    what: str
    field: str | None = None
    body: Body | None = None
    content: bytes | None = None
    path: Callable[[W], str] | None = None
    auth: Callable[[W, Headers], Headers] | None = None
    statuses: tuple[int, ...] = ()

    @property
    def id(self) -> str:
        return f"{self.route} {self.kind}: {self.what}"

    @property
    def expected(self) -> tuple[int, ...]:
        return (
            self.statuses
            or {MALFORMED: (422,), UNAUTHENTICATED: (401,), FORBIDDEN: (403,)}[self.kind]
        )


def with_(**changes: Any) -> Body:
    return lambda w, b: {**b, **changes}


def without(*names: str) -> Body:
    return lambda w, b: {k: v for k, v in b.items() if k not in names}


def malformed(route: str, what: str, field_name: str | None, **kw: Any) -> Case:
    return Case(route, MALFORMED, what, field=field_name, **kw)


def no_token(w: W, good: Headers) -> Headers:
    return {}


STRANGER_KEY = LocalSigningKey.generate()


def expired(w: W, good: Headers) -> Headers:
    now = int(time.time())
    claims = {**jwt.decode(good["Authorization"].split()[1], options={"verify_signature": False})}
    claims.update(iat=now - 7200, exp=now - 60)
    key = w.d.servers.key.private_pem
    return {"Authorization": "Bearer " + jwt.encode(claims, key, algorithm="EdDSA")}


def wrong_key(w: W, good: Headers) -> Headers:
    claims = jwt.decode(good["Authorization"].split()[1], options={"verify_signature": False})
    token = jwt.encode(claims, STRANGER_KEY.private_pem, algorithm="EdDSA")
    return {"Authorization": f"Bearer {token}"}


def unauthenticated(route: str) -> Iterator[Case]:
    yield Case(route, UNAUTHENTICATED, "no Authorization header", auth=no_token)
    yield Case(route, UNAUTHENTICATED, "expired token", auth=expired)
    yield Case(route, UNAUTHENTICATED, "token signed with another key", auth=wrong_key)
    yield Case(
        route,
        UNAUTHENTICATED,
        "garbage bearer token",
        auth=lambda w, g: {"Authorization": "Bearer not-a-token"},
    )


def forbidden(route: str, what: str, as_: Callable[[W], Headers]) -> Case:
    return Case(route, FORBIDDEN, what, auth=lambda w, good: as_(w))


def _cases() -> Iterator[Case]:
    r = "/v1/reviews"
    yield malformed(r, "unknown subject kind", "subject_kind", body=with_(subject_kind="village"))
    yield malformed(r, "subject missing", "subject_id", body=without("subject_id"))
    yield malformed(r, "subject not in the directory", "subject_id", body=with_(subject_id="m-x"))
    yield malformed(r, "unknown occasion", "occasion", body=with_(occasion="banquet"))
    yield malformed(r, "held in the future", "held_on", body=with_(held_on="2027-01-05"))
    yield malformed(r, "held_on not a date", "held_on", body=with_(held_on="last week"))
    yield malformed(
        r,
        "ad hoc occasion, quarterly cadence",
        "cadence",
        body=with_(occasion="ad_hoc", cadence="quarterly"),
    )
    yield malformed(
        r,
        "branch dimensions for a member",
        "assessments",
        body=with_(assessments=assessments("branch")),
    )
    yield malformed(
        r,
        "unknown grade",
        "assessments.work_approach.grade",
        body=lambda w, b: {
            **b,
            "assessments": {**b["assessments"], "work_approach": {"grade": "A+", "comment": "好"}},
        },
    )
    yield malformed(
        r,
        "empty comment",
        "assessments.execution.comment",
        body=lambda w, b: {
            **b,
            "assessments": {**b["assessments"], "execution": {"grade": "qualified", "comment": ""}},
        },
    )
    yield malformed(r, "no assessments", "assessments", body=with_(assessments={}))
    yield malformed(r, "shortcomings missing", "shortcomings", body=without("shortcomings"))
    yield malformed(r, "NUL in the direction", "direction", body=with_(direction=f"多{NUL}开会"))
    yield malformed(
        r, "escape codes in the direction", "direction", body=with_(direction="\u001b[2J多开会")
    )
    yield malformed(
        r, "reviewer named right to left", "reviewer_name", body=with_(reviewer_name="\u202e王")
    )
    yield malformed(r, "unknown field", "score", body=with_(score=95))
    yield malformed(r, "body is not JSON", "body", content=b'{"subject_kind": member}')
    yield malformed(r, "body is a JSON array", "body", body=lambda w, b: [b])
    yield from unauthenticated(r)
    yield forbidden(r, "township committee, for an ordinary member", lambda w: w.d.committee)
    yield forbidden(r, "secretary of another branch", lambda w: w.other_secretary)
    yield forbidden(r, "the member themself", lambda w: w.d.the_member)
    yield forbidden(r, "township office", lambda w: w.d.office)
    yield forbidden(r, "auditor", lambda w: w.as_("auditor"))

    r = "/v1/reviews/{review_id}/correction"
    yield malformed(r, "reason missing", "reason", body=without("reason"))
    yield malformed(r, "held in the future", "held_on", body=with_(held_on="2027-02-01"))
    yield malformed(
        r,
        "a dimension missing",
        "assessments",
        body=lambda w, b: {
            **b,
            "assessments": {k: v for k, v in b["assessments"].items() if k != "execution"},
        },
    )
    yield malformed(r, "changing the subject", "subject_id", body=with_(subject_id="m-x"))
    yield malformed(
        r,
        "no such review",
        None,
        path=lambda w: "/v1/reviews/r-00000000/correction",
        statuses=(404,),
    )
    yield from unauthenticated(r)
    yield forbidden(r, "township committee", lambda w: w.d.committee)
    yield forbidden(r, "secretary of another branch", lambda w: w.other_secretary)
    yield forbidden(r, "the member reviewed", lambda w: w.d.the_member)

    r = f"{JOURNAL}/entries"
    yield malformed(
        r, "recorded outside the month", "recorded_on", body=with_(recorded_on="2026-12-31")
    )
    yield malformed(
        r, "recorded in the future", "recorded_on", body=with_(recorded_on="2027-01-05")
    )
    yield malformed(
        r, "month 13", "month", path=lambda w: f"/v1/members/{w.d.member}/journal/2027-13/entries"
    )
    yield malformed(r, "work content missing", "work_content", body=without("work_content"))
    yield malformed(
        r, "empty duty performance", "duty_performance", body=with_(duty_performance="")
    )
    yield malformed(
        r,
        "no such member",
        None,
        path=lambda w: "/v1/members/m-00000000/journal/2027-01/entries",
        statuses=(404,),
    )
    yield from unauthenticated(r)
    # the branch's secretary enters a paper journal on the member's behalf (R6); nobody else
    yield forbidden(r, "secretary of another branch", lambda w: w.other_secretary)
    yield forbidden(r, "another member", lambda w: w.as_("member", w.d.branch, w.d.secretary))
    yield forbidden(r, "township committee", lambda w: w.d.committee)

    r = f"{JOURNAL}/entries/{{entry_id}}/correction"
    yield malformed(r, "reason missing", "reason", body=without("reason"))
    yield malformed(
        r,
        "no such entry",
        "entry_id",
        path=lambda w: f"/v1/members/{w.d.member}/journal/2027-01/entries/e-00000000/correction",
    )
    yield malformed(
        r, "recorded in the future", "recorded_on", body=with_(recorded_on="2027-01-30")
    )
    yield from unauthenticated(r)
    yield Case(  # the member's own words: the member corrects them, not the secretary (R6)
        r,
        FORBIDDEN,
        "the branch secretary, for the member's own entry",
        auth=lambda w, good: w.d.branch_secretary,
        statuses=(409,),
    )
    yield forbidden(r, "secretary of another branch", lambda w: w.other_secretary)
    yield forbidden(r, "another member", lambda w: w.as_("member", w.d.branch, w.d.secretary))

    r = f"{JOURNAL}/presentation"
    yield malformed(r, "unknown grade", "grade", body=with_(grade="gold"))
    yield malformed(
        r, "presented in the future", "presented_on", body=with_(presented_on="2027-02-01")
    )
    yield malformed(
        r, "presented before the month", "presented_on", body=with_(presented_on="2026-12-28")
    )
    yield malformed(r, "evaluation missing", "evaluation", body=without("evaluation"))
    yield from unauthenticated(r)
    yield forbidden(r, "the member themself", lambda w: w.d.the_member)
    yield forbidden(r, "township committee, for an ordinary member", lambda w: w.d.committee)
    yield forbidden(r, "secretary of another branch", lambda w: w.other_secretary)

    r = "/v1/visits"
    yield malformed(r, "branch not in the directory", "branch_id", body=with_(branch_id="b-x"))
    yield malformed(r, "visited in the future", "visited_on", body=with_(visited_on="2027-01-05"))
    yield malformed(r, "cadre name missing", "cadre_name", body=without("cadre_name"))
    yield malformed(
        r, "cadre name only invisible", "cadre_name", body=with_(cadre_name="\u200d\u200b")
    )
    yield malformed(r, "cadre name on two lines", "cadre_name", body=with_(cadre_name="王\n李"))
    yield malformed(r, "summary of 4001 characters", "summary", body=with_(summary="访" * 4001))
    yield from unauthenticated(r)
    yield forbidden(r, "branch secretary", lambda w: w.d.branch_secretary)
    yield forbidden(r, "township office", lambda w: w.d.office)
    yield forbidden(
        r,
        "committee of another township",
        lambda w: w.as_("township_committee", w.d.other_township),
    )
    yield forbidden(r, "administrator of another county", lambda w: w.as_("county_admin", "gulang"))

    r = "/v1/branches/{branch_id}/leaders"
    yield malformed(r, "leader id not an id", "leader_id", body=with_(leader_id="l!x"))
    yield malformed(r, "leader name missing", "leader_name", body=without("leader_name"))
    yield malformed(
        r, "leader not on the township committee", "leader_id", body=with_(leader_id="l-nobody")
    )
    yield malformed(
        r,
        "no such branch",
        None,
        path=lambda w: "/v1/branches/b-00000000/leaders",
        statuses=(404,),
    )
    yield from unauthenticated(r)
    yield forbidden(r, "township committee (the office assigns)", lambda w: w.d.committee)
    yield forbidden(r, "branch secretary", lambda w: w.d.branch_secretary)
    yield forbidden(
        r,
        "office of another township",
        lambda w: w.as_("township_office", w.d.other_township),
    )

    r = "/v1/branches/{branch_id}/leaders/{leader_id}/unassignment"
    yield malformed(
        r,
        "leader id not an id",
        "leader_id",
        path=lambda w: f"/v1/branches/{w.d.branch}/leaders/l!x/unassignment",
    )
    yield malformed(
        r,
        "a leader not assigned",
        None,
        path=lambda w: f"/v1/branches/{w.d.branch}/leaders/l-nobody/unassignment",
        statuses=(409,),
    )
    yield from unauthenticated(r)
    yield forbidden(r, "township committee (the office assigns)", lambda w: w.d.committee)
    yield forbidden(
        r,
        "office of another township",
        lambda w: w.as_("township_office", w.d.other_township),
    )


CASES = list(_cases())


@pytest.fixture(scope="module")
async def world(servers: Servers) -> AsyncIterator[ReviewWorld]:
    async with pledge_and_review(servers) as (pledge, review):
        w = await ReviewWorld.build(pledge, review, servers)
        await seated(review, servers, w.d.township, LEADER, "l-deputy")  # on its committee
        assigned = await w.review.client.post(
            f"/v1/branches/{w.d.branch}/leaders",
            json={"leader_id": LEADER, "leader_name": "李副镇长"},
            headers=w.d.office,
        )
        assert assigned.status_code == 201, assigned.text
        yield w


def test_every_state_changing_route_has_bad_input_cases() -> None:
    routes = state_changing_routes(DEFINITION.routers)
    assert len(routes) == 8, routes
    assert routes == set(GOOD), sorted(routes ^ set(GOOD))
    for kind in (MALFORMED, UNAUTHENTICATED, FORBIDDEN):
        covered = {case.route for case in CASES if case.kind == kind}
        assert not routes - covered, f"routes without a {kind} case: {sorted(routes - covered)}"
    ids = [case.id for case in CASES]
    assert len(ids) == len(set(ids))


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
async def test_bad_input_is_refused_and_appends_nothing(world: ReviewWorld, case: Case) -> None:
    good = GOOD[case.route](world)
    path = case.path(world) if case.path else good.path
    request: dict[str, Any] = {"headers": case.auth(world, good.auth) if case.auth else good.auth}
    if case.content is not None:
        request["content"] = case.content
        request["headers"] = {**request["headers"], "content-type": "application/json"}
    else:
        request["json"] = case.body(world, good.body) if case.body else good.body

    before = await event_count(world.review)
    response = await world.review.client.post(path, **request)
    after = await event_count(world.review)

    assert_refused(case.id, response, after - before, case.expected, case.field)


async def test_the_good_requests_are_accepted(world: ReviewWorld) -> None:
    """The control, run after the cases in the same world: each good request is accepted
    and appends events."""
    for route, good in GOOD.items():
        call = good(world)
        before = await event_count(world.review)
        response = await world.review.client.post(call.path, json=call.body, headers=call.auth)
        assert response.status_code == call.status, f"good {route}: {response.text}"
        assert await event_count(world.review) > before, f"good {route} appended no event"
