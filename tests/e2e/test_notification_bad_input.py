"""X3 for the notification service: bad input to every state-changing endpoint is refused
with an RFC 9457 problem (malformed 422 naming the field, unauthenticated 401, forbidden
403) and appends nothing; a route-coverage test fails when an endpoint has no cases."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from services.notification.app import DEFINITION
from tests.e2e.bad_input import assert_refused, event_count, state_changing_routes
from tests.e2e.helpers import Directory, eventually, ok
from tests.e2e.notification_helpers import pledge_and_notification, publish_pledge
from tests.support import RunningService, Servers

Headers = dict[str, str]
NUL = "\u0000"


@dataclass
class World:
    pledge: RunningService
    service: RunningService
    d: Directory
    notice: str = ""  # a reminder to the branch secretary
    channel: str = ""  # a county-wide webhook channel to a system that is down
    township_channel: str = ""
    dead: str = ""  # a delivery given up

    def as_(self, role: str, org: str | None = None, subject: str | None = None) -> Headers:
        return self.d.as_(role, org, subject)

    @property
    def admin(self) -> Headers:
        return self.as_("county_admin", self.d.county)


async def build_world(pledge: RunningService, service: RunningService, servers: Servers) -> World:
    d = await Directory(pledge.client, servers).build()
    w = World(pledge, service, d)
    board, worker = service.client, service.runtime.components["worker"]

    service.clock.set(datetime(2027, 3, 10, 1, tzinfo=UTC))  # the drafting reminders are due

    async def reminded() -> bool:
        # until the secretary's appointment has arrived over NATS too (each notice is issued
        # once per recipient, so ticking again is harmless)
        await worker.tick()
        answer = await board.get("/v1/inbox", headers=d.branch_secretary)
        if answer.status_code == 403:  # the appointment has not arrived: not the secretary yet
            return False
        inbox = ok(answer)
        w.notice = inbox["notices"][0]["notice_id"] if inbox["notices"] else ""
        return bool(w.notice)

    await eventually(reminded)
    body = {
        "county_id": d.county,
        "kind": "webhook",
        "name": "down",
        "target": "http://127.0.0.1:9/hook",
        "release_types": ["pledge_published"],
    }
    w.channel = ok(await board.post("/v1/channels", json=body, headers=w.admin), 201)["id"]
    body |= {"township_id": d.township, "name": "township"}
    w.township_channel = ok(await board.post("/v1/channels", json=body, headers=w.admin), 201)["id"]
    await publish_pledge(pledge, d, ["改造支渠3公里"])

    async def scheduled() -> bool:
        query = f"/v1/deliveries?county_id={d.county}"
        return len(ok(await board.get(query, headers=w.admin))["deliveries"]) == 2

    await eventually(scheduled)
    for _ in range(6):
        await worker.deliver_due()
        service.clock.advance(timedelta(hours=3))
    dead = ok(await board.get(f"/v1/deliveries?county_id={d.county}&status=dead", headers=w.admin))
    w.dead = dead["deliveries"][0]["delivery_id"]
    return w


@dataclass(frozen=True)
class Call:
    path: str
    body: Any
    auth: Headers
    status: int = 200


GOOD: dict[str, Callable[[World], Call]] = {
    "/v1/counties/{county_id}/calendars/{year}": lambda w: Call(
        f"/v1/counties/{w.d.county}/calendars/2028", {}, w.admin
    ),
    "/v1/inbox/{notice_id}/read": lambda w: Call(
        f"/v1/inbox/{w.notice}/read", None, w.d.branch_secretary
    ),
    "/v1/townships/{township_id}/bulletins": lambda w: Call(
        f"/v1/townships/{w.d.township}/bulletins",
        {"title": "专项督查通报", "note": "节水"},
        w.d.office,
        201,
    ),
    "/v1/channels": lambda w: Call(
        "/v1/channels",
        {
            "county_id": w.d.county,
            "township_id": w.d.township,
            "kind": "wecom",
            "name": "镇群",
            "target": "http://127.0.0.1:9/wecom?key=k",
            "release_types": ["bulletin", "overdue"],
        },
        w.d.office,
        201,
    ),
    "/v1/channels/{channel_id}/retirement": lambda w: Call(
        f"/v1/channels/{w.township_channel}/retirement", None, w.d.office
    ),
    "/v1/deliveries/{delivery_id}/redelivery": lambda w: Call(
        f"/v1/deliveries/{w.dead}/redelivery", None, w.admin
    ),
    "/v1/people/{person_id}/phone": lambda w: Call(
        f"/v1/people/{w.d.member}/phone", {"phone": "13812340000"}, w.d.office
    ),
    "/v1/people/{person_id}/phone/removal": lambda w: Call(
        f"/v1/people/{w.d.member}/phone/removal", None, w.admin
    ),
}


@dataclass(frozen=True)
class Case:
    route: str
    kind: str  # malformed, unauthenticated, forbidden
    what: str
    body: Callable[[Any], Any] | None = None
    path: Callable[[World], str] | None = None
    auth: Callable[[World], Headers] | None = None
    field: str | None = None

    @property
    def id(self) -> str:
        return f"{self.kind}:{self.route.removeprefix('/v1')}:{self.what}"


def with_(**changes: Any) -> Callable[[Any], Any]:
    return lambda body: {**body, **changes}


def _cases() -> list[Case]:
    cases = []
    for route in GOOD:
        cases.append(Case(route, "unauthenticated", "no token", auth=lambda w: {}))
        cases.append(
            Case(
                route, "unauthenticated", "not bearer", auth=lambda w: {"Authorization": "Basic x"}
            )
        )
        cases.append(Case(route, "forbidden", "auditor", auth=lambda w: w.as_("auditor")))
    r = "/v1/counties/{county_id}/calendars/{year}"
    bad_deadline = {"kind": "harvest", "period": "2028", "title": "x", "due_on": "2028-03-15"}
    cases += [
        Case(
            r,
            "malformed",
            "unknown kind",
            body=with_(deadlines=[bad_deadline]),
            field="deadlines.0.kind",
        ),
        Case(
            r,
            "malformed",
            "bad date",
            body=with_(deadlines=[{**bad_deadline, "kind": "drafting", "due_on": "3月15日"}]),
            field="deadlines.0.due_on",
        ),
        Case(
            r,
            "malformed",
            "duplicate deadlines",
            body=with_(deadlines=[{**bad_deadline, "kind": "drafting"}] * 2),
            field="deadlines",
        ),
        Case(
            r,
            "malformed",
            "year out of range",
            path=lambda w: f"/v1/counties/{w.d.county}/calendars/1900",
            field="year",
        ),
        Case(r, "forbidden", "township office", auth=lambda w: w.d.office),
        Case(r, "forbidden", "another county's admin", auth=lambda w: w.as_("county_admin", "x")),
    ]
    r = "/v1/inbox/{notice_id}/read"
    cases += [
        Case(
            r,
            "malformed",
            "bad notice id",
            path=lambda w: "/v1/inbox/bad%20id/read",
            field="notice_id",
        ),
        Case(r, "forbidden", "another member", auth=lambda w: w.d.the_member),
        Case(r, "forbidden", "the township office", auth=lambda w: w.d.office),
    ]
    r = "/v1/townships/{township_id}/bulletins"
    cases += [
        Case(r, "malformed", "empty title", body=with_(title=""), field="title"),
        Case(r, "malformed", "NUL in note", body=with_(note=f"a{NUL}b"), field="note"),
        Case(r, "malformed", "a bell in the note", body=with_(note="a\u0007b"), field="note"),
        Case(r, "malformed", "title on two lines", body=with_(title="通报\n二"), field="title"),
        Case(r, "malformed", "only a joiner", body=with_(note="\u200d"), field="note"),
        Case(r, "malformed", "unknown field", body=with_(rater="x"), field="rater"),
        Case(r, "forbidden", "branch secretary", auth=lambda w: w.d.branch_secretary),
        Case(
            r,
            "forbidden",
            "another township's office",
            auth=lambda w: w.as_("township_office", w.d.other_township),
        ),
    ]
    r = "/v1/channels"
    cases += [
        Case(r, "malformed", "unknown kind", body=with_(kind="fax"), field="kind"),
        Case(
            r,
            "malformed",
            "unknown release type",
            body=with_(release_types=["ballots"]),
            field="release_types",
        ),
        Case(r, "malformed", "robot without URL", body=with_(target="not a url"), field="target"),
        Case(
            r,
            "malformed",
            "name overridden right to left",
            body=with_(name="\u202e群务"),
            field="name",
        ),
        Case(
            r,
            "malformed",
            "release type with a bell",
            body=with_(release_types=["review\u0007"]),
            field="release_types.0",
        ),
        Case(
            r, "malformed", "no release types", body=with_(release_types=[]), field="release_types"
        ),
        Case(
            r,
            "forbidden",
            "another township's office",
            auth=lambda w: w.as_("township_office", w.d.other_township),
        ),
        Case(
            r,
            "forbidden",
            "office, county-wide",
            body=lambda b: {k: v for k, v in b.items() if k != "township_id"},
            auth=lambda w: w.d.office,
        ),
        Case(r, "forbidden", "branch secretary", auth=lambda w: w.d.branch_secretary),
    ]
    r = "/v1/channels/{channel_id}/retirement"
    cases += [
        Case(
            r,
            "malformed",
            "bad channel id",
            path=lambda w: "/v1/channels/a.b/retirement",
            field="channel_id",
        ),
        Case(
            r,
            "forbidden",
            "office, county-wide channel",
            path=lambda w: f"/v1/channels/{w.channel}/retirement",
            auth=lambda w: w.d.office,
        ),
        Case(
            r,
            "forbidden",
            "another township's office",
            auth=lambda w: w.as_("township_office", w.d.other_township),
        ),
    ]
    r = "/v1/deliveries/{delivery_id}/redelivery"
    cases += [
        Case(
            r,
            "malformed",
            "bad delivery id",
            path=lambda w: "/v1/deliveries/%2A/redelivery",
            field="delivery_id",
        ),
        Case(r, "forbidden", "township office", auth=lambda w: w.d.office),
        Case(r, "forbidden", "another county's admin", auth=lambda w: w.as_("county_admin", "x")),
    ]
    r = "/v1/people/{person_id}/phone"
    cases += [
        Case(r, "malformed", "letters", body=with_(phone="138abc40000"), field="phone"),
        Case(r, "malformed", "too short", body=with_(phone="12345"), field="phone"),
        Case(r, "malformed", "unknown field", body=with_(name="王小明"), field="name"),
        Case(
            r,
            "malformed",
            "bad person id",
            path=lambda w: "/v1/people/a.b/phone",
            field="person_id",
        ),
        Case(r, "forbidden", "the member", auth=lambda w: w.d.the_member),
        Case(r, "forbidden", "branch secretary", auth=lambda w: w.d.branch_secretary),
        Case(
            r,
            "forbidden",
            "another township's office",
            auth=lambda w: w.as_("township_office", w.d.other_township),
        ),
    ]
    r = "/v1/people/{person_id}/phone/removal"
    cases += [
        Case(
            r,
            "malformed",
            "bad person id",
            path=lambda w: "/v1/people/%2A/phone/removal",
            field="person_id",
        ),
        Case(r, "forbidden", "the member", auth=lambda w: w.d.the_member),
        Case(r, "forbidden", "another county's admin", auth=lambda w: w.as_("county_admin", "x")),
    ]
    return cases


CASES = _cases()
EXPECTED = {"malformed": 422, "unauthenticated": 401, "forbidden": 403}


@pytest.fixture(scope="module")
async def world(servers: Servers) -> AsyncIterator[World]:
    os.environ["GONGKAI_DELIVERY_INTERVAL"] = os.environ["GONGKAI_SCHEDULER_INTERVAL"] = "3600"
    try:
        async with pledge_and_notification(servers) as (pledge, service):
            yield await build_world(pledge, service, servers)
    finally:
        del os.environ["GONGKAI_DELIVERY_INTERVAL"], os.environ["GONGKAI_SCHEDULER_INTERVAL"]


async def test_every_state_changing_route_has_bad_input_cases(world: World) -> None:
    routes = state_changing_routes(DEFINITION.routers)
    assert len(routes) == 8, routes
    assert routes <= set(world.service.app.openapi()["paths"])  # and the app serves them
    assert routes == set(GOOD)
    for kind in EXPECTED:
        assert routes == {c.route for c in CASES if c.kind == kind}, kind


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
async def test_bad_input_is_refused_and_appends_nothing(world: World, case: Case) -> None:
    good = GOOD[case.route](world)
    request: dict[str, Any] = {"headers": case.auth(world) if case.auth else good.auth}
    body = case.body(good.body) if case.body else good.body
    if body is not None:
        request["json"] = body
    before = await event_count(world.service)
    response = await world.service.client.post(
        case.path(world) if case.path else good.path, **request
    )
    assert_refused(
        case.id,
        response,
        await event_count(world.service) - before,
        [EXPECTED[case.kind]],
        case.field,
    )


async def test_the_good_requests_are_accepted(world: World) -> None:
    """The control, run last in this module (it changes the world): each good request is
    accepted and appends events."""
    for route, good in GOOD.items():
        call = good(world)
        before = await event_count(world.service)
        response = await world.service.client.post(call.path, json=call.body, headers=call.auth)
        assert response.status_code == call.status, f"good {route}: {response.text}"
        assert await event_count(world.service) > before, f"good {route} appended no event"
