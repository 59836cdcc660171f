"""Bad input to every state-changing endpoint of the pledge service is refused with an
RFC 9457 problem and leaves the event log untouched.

Every state-changing route has one *good* request (`GOOD`) aimed at a record in the state
where that request is accepted (checked by `test_the_good_requests_are_accepted`). Each bad
case (`CASES`) changes exactly one thing about its route's good request: the body (malformed,
422 naming the field), the credentials (unauthenticated, 401) or the caller's role or place
(forbidden, 403). So a 4xx can only come from what the case changed, and a service that let
the request through would append events, which every case checks it does not.

`test_every_state_changing_route_has_bad_input_cases` enumerates the app's routes, so a new
endpoint without good and bad cases fails.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import jwt
import pytest

from services.pledge.app import DEFINITION
from services.pledge.app import DEFINITION as PLEDGE
from shared.auth import LocalSigningKey
from shared.clock import FixedClock
from shared.runtime import create_app
from tests.e2e.bad_input import assert_refused, event_count, state_changing_routes
from tests.e2e.conftest import RunningService
from tests.e2e.helpers import Directory, item, ok
from tests.support import Servers, serving

MALFORMED, UNAUTHENTICATED, FORBIDDEN = "malformed", "unauthenticated", "forbidden"
EXPECTED = {MALFORMED: 422, UNAUTHENTICATED: 401, FORBIDDEN: 403}
NUL = "\u0000"
BEL, ESC_RED, RLO, ZWJ, NEL = "\u0007", "\u001b[31m", "\u202e", "\u200d", "\u0085"

Headers = dict[str, str]


# --- the world: a directory and one pledge in each state a route needs ------------------


@dataclass
class World:
    service: RunningService
    d: Directory
    target_branch: str = ""  # another branch of the township: transfers go here
    moving_branch: str = ""  # moved to the other township by the good request
    retiring_branch: str = ""
    stranger: str = ""  # a member of target_branch, not of d.branch
    transferring_member: str = ""
    retiring_member: str = ""
    drafting: str = ""  # the member's personal pledge for 2027, drafting
    reviewing: str = ""  # the branch's 2027 pledge, under review, two items
    reviewing_item: str = ""
    returned: str = ""  # the branch's 2028 pledge, its one item returned
    returned_item: str = ""
    approved: str = ""  # the secretary's personal 2027 pledge, approved
    published: str = ""  # the branch's 2029 pledge, published
    open_item: str = ""
    done_item: str = ""  # reported done, awaiting the township office's checks

    @property
    def county(self) -> str:
        return self.d.county

    @property
    def township(self) -> str:
        return self.d.township

    @property
    def other_township(self) -> str:
        return self.d.other_township

    @property
    def branch(self) -> str:
        return self.d.branch

    @property
    def service_key(self) -> LocalSigningKey:
        """The key whose tokens the service trusts."""
        key: LocalSigningKey = self.d.servers.key
        return key

    def as_(self, role: str, org: str | None = None, subject: str | None = None) -> Headers:
        return self.d.as_(role, org, subject)

    @property
    def admin(self) -> Headers:
        return self.as_("county_admin", self.county)

    @property
    def office(self) -> Headers:
        return self.d.office

    @property
    def other_office(self) -> Headers:
        return self.as_("township_office", self.other_township)

    @property
    def committee(self) -> Headers:
        return self.d.committee

    @property
    def other_committee(self) -> Headers:
        return self.as_("township_committee", self.other_township)

    @property
    def secretary(self) -> Headers:
        return self.d.branch_secretary

    @property
    def other_secretary(self) -> Headers:
        return self.as_("branch_secretary", self.target_branch)

    @property
    def member(self) -> Headers:
        return self.d.the_member

    @property
    def secretary_as_member(self) -> Headers:
        """The secretary in their own person: another member of the branch."""
        return self.as_("member", self.branch, self.d.secretary)


async def build_world(service: RunningService, servers: Servers) -> World:
    c = service.client
    w = World(service, await Directory(c, servers).build())

    async def post(path: str, body: Any, headers: Headers, status: int = 200) -> Any:
        return ok(await c.post(path, json=body, headers=headers), status)

    async def branch(name: str) -> str:
        body = {"township_id": w.township, "name": name, "kind": "village", "village": name}
        return str((await post("/v1/branches", body, w.office, 201))["id"])

    async def member(branch_id: str, name: str) -> str:
        body = {"branch_id": branch_id, "name": name, "post": "党员", "duties": "参加组织生活"}
        return str((await post("/v1/members", body, w.office, 201))["id"])

    w.target_branch = await branch("东风村党支部")
    w.moving_branch = await branch("西渠村党支部")
    w.retiring_branch = await branch("南湖村党支部")
    w.stranger = await member(w.target_branch, "陈立新")
    w.transferring_member = await member(w.branch, "刘桂兰")
    w.retiring_member = await member(w.branch, "孙德胜")

    approve = {
        "shows_advanced_standard": True,
        "matches_wishes": True,
        "feasible": True,
        "decision": "approve",
    }

    async def pledge(year: int, headers: Headers, member_id: str | None = None) -> str:
        body = {"year": year, "branch_id": w.branch, "member_id": member_id}
        return str((await post("/v1/pledges", body, headers, 201))["id"])

    async def propose(pledge_id: str, headers: Headers, *items: dict[str, Any]) -> list[str]:
        body = {"basis": "年度目标责任书", "items": list(items)}
        return list((await post(f"/v1/pledges/{pledge_id}/proposal", body, headers))["item_ids"])

    async def review(pledge_id: str, item_id: str, body: dict[str, Any]) -> None:
        await post(f"/v1/pledges/{pledge_id}/items/{item_id}/review", body, w.committee)

    w.drafting = await pledge(2027, w.member, w.d.member)

    w.reviewing = await pledge(2027, w.secretary)
    w.reviewing_item, _ = await propose(
        w.reviewing, w.secretary, item("改造支渠3公里"), item("推广滴灌500亩")
    )

    w.returned = await pledge(2028, w.secretary)
    [w.returned_item] = await propose(
        w.returned, w.secretary, item("推广滴灌500亩", due="2028-10-31")
    )
    returned = {**approve, "feasible": False, "decision": "return", "guidance": "目标过大"}
    await review(w.returned, w.returned_item, returned)

    w.approved = await pledge(2027, w.secretary_as_member, w.d.secretary)
    [approved_item] = await propose(w.approved, w.secretary_as_member, item("带动5户发展养殖"))
    await review(w.approved, approved_item, approve)

    w.published = await pledge(2029, w.secretary)
    w.open_item, w.done_item = await propose(
        w.published,
        w.secretary,
        item("硬化村道2公里", due="2029-10-31"),
        item("新建蓄水池1座", due="2029-10-31"),
    )
    for item_id in (w.open_item, w.done_item):
        await review(w.published, item_id, approve)
    await post(f"/v1/pledges/{w.published}/publication", None, w.secretary)
    await post(
        f"/v1/pledges/{w.published}/items/{w.done_item}/done", {"summary": "已建成"}, w.secretary
    )
    return w


# --- good requests, one per state-changing route ----------------------------------------


@dataclass(frozen=True)
class Call:
    path: str
    body: Any  # the JSON body; None: no body
    auth: Headers
    status: int  # what the service answers when this request is accepted


GOOD: dict[str, Callable[[World], Call]] = {
    "/v1/counties": lambda w: Call(
        "/v1/counties",
        {"county_id": "gulang", "name": "古浪县"},
        w.as_("county_admin", "gulang"),
        201,
    ),
    "/v1/counties/{county_id}/calendars": lambda w: Call(
        f"/v1/counties/{w.county}/calendars",
        {"year": 2027, "drafting_deadline": "2027-03-20"},
        w.admin,
        200,
    ),
    "/v1/counties/{county_id}/categories": lambda w: Call(
        f"/v1/counties/{w.county}/categories",
        {"kind": "school", "categories": ["岗位先锋", "窗口形象", "师德师风"]},
        w.admin,
        200,
    ),
    "/v1/counties/{county_id}/townships": lambda w: Call(
        f"/v1/counties/{w.county}/townships", {"name": "东坝镇"}, w.admin, 201
    ),
    "/v1/townships/{township_id}/head": lambda w: Call(
        f"/v1/townships/{w.township}/head",
        {"person_id": "p-wang", "name": "王镇长"},
        w.admin,
        200,
    ),
    "/v1/branches": lambda w: Call(
        "/v1/branches",
        {"township_id": w.township, "name": "红沙梁镇机关党支部", "kind": "agency"},
        w.office,
        201,
    ),
    "/v1/branches/{branch_id}/secretary": lambda w: Call(
        f"/v1/branches/{w.branch}/secretary", {"member_id": w.d.secretary}, w.office, 200
    ),
    "/v1/branches/{branch_id}/move": lambda w: Call(
        f"/v1/branches/{w.moving_branch}/move", {"township_id": w.other_township}, w.admin, 200
    ),
    "/v1/branches/{branch_id}/retirement": lambda w: Call(
        f"/v1/branches/{w.retiring_branch}/retirement",
        {"reason": "并入红沙梁村党支部\r\n经支委会决定"},  # a line break as Windows sends it
        w.office,
        200,
    ),
    "/v1/members": lambda w: Call(
        "/v1/members",
        {
            "branch_id": w.branch,
            "name": "王小明",
            "post": "护林员",
            "duties": "看护生态林\n巡查防火\t每周两次",  # free text: line breaks, tabs
        },
        w.office,
        201,
    ),
    "/v1/members/{member_id}/post": lambda w: Call(
        f"/v1/members/{w.d.member}/post",
        {"post": "节水灌溉示范岗", "duties": "带动二十户节水增收", "leadership_team": False},
        w.office,
        200,
    ),
    "/v1/members/{member_id}/transfer": lambda w: Call(
        f"/v1/members/{w.transferring_member}/transfer",
        {"branch_id": w.target_branch},
        w.office,
        200,
    ),
    "/v1/members/{member_id}/retirement": lambda w: Call(
        f"/v1/members/{w.retiring_member}/retirement", {"reason": "年老体弱"}, w.office, 200
    ),
    "/v1/pledges": lambda w: Call(
        "/v1/pledges", {"year": 2030, "branch_id": w.branch}, w.secretary, 201
    ),
    "/v1/pledges/{pledge_id}/opinions": lambda w: Call(
        f"/v1/pledges/{w.drafting}/opinions",
        {"channel": "talk", "gathered_on": "2027-01-02", "summary": "群众希望推广滴灌"},
        w.member,
        201,
    ),
    "/v1/pledges/{pledge_id}/proposal": lambda w: Call(
        f"/v1/pledges/{w.drafting}/proposal",
        {"basis": "节水灌溉示范岗职责", "items": [item("带动十户发展滴灌")]},
        w.member,
        200,
    ),
    "/v1/pledges/{pledge_id}/items/{item_id}/review": lambda w: Call(
        f"/v1/pledges/{w.reviewing}/items/{w.reviewing_item}/review",
        {
            "shows_advanced_standard": True,
            "matches_wishes": True,
            "feasible": True,
            "decision": "approve",
        },
        w.committee,
        200,
    ),
    "/v1/pledges/{pledge_id}/resubmission": lambda w: Call(
        f"/v1/pledges/{w.returned}/resubmission",
        {
            "note": "按指导修改为300亩",
            "items": {w.returned_item: item("推广滴灌300亩", due="2028-10-31")},
        },
        w.secretary,
        200,
    ),
    "/v1/pledges/{pledge_id}/publication": lambda w: Call(
        f"/v1/pledges/{w.approved}/publication", None, w.secretary, 200
    ),
    "/v1/pledges/{pledge_id}/items/{item_id}/progress": lambda w: Call(
        f"/v1/pledges/{w.published}/items/{w.open_item}/progress",
        {
            "summary": "已完成1公里",
            "percent": 50,
            "evidence": [{"description": "施工照片", "url": "https://example.org/p/1.jpg"}],
        },
        w.secretary,
        201,
    ),
    "/v1/pledges/{pledge_id}/items/{item_id}/follow-ups": lambda w: Call(
        f"/v1/pledges/{w.published}/items/{w.open_item}/follow-ups",
        {"note": "督查: 进度正常"},
        w.office,
        201,
    ),
    "/v1/pledges/{pledge_id}/items/{item_id}/done": lambda w: Call(
        f"/v1/pledges/{w.published}/items/{w.open_item}/done",
        {"summary": "村道已全部硬化"},
        w.secretary,
        200,
    ),
    "/v1/pledges/{pledge_id}/items/{item_id}/problem-solved": lambda w: Call(
        f"/v1/pledges/{w.published}/items/{w.done_item}/problem-solved",
        {"note": "群众反映用水问题已解决"},
        w.office,
        200,
    ),
    "/v1/pledges/{pledge_id}/items/{item_id}/implementation-verified": lambda w: Call(
        f"/v1/pledges/{w.published}/items/{w.done_item}/implementation-verified",
        {"note": "实地核查到位"},
        w.office,
        200,
    ),
    "/v1/pledges/{pledge_id}/quarterly-pushes": lambda w: Call(
        f"/v1/pledges/{w.published}/quarterly-pushes",
        {"quarter": "2029Q1", "assessment": "进展良好", "next_steps": "加快施工"},
        w.office,
        201,
    ),
}


# --- bad cases: each changes one thing about its route's good request --------------------

BodyChange = Callable[[World, Any], Any]
AuthChange = Callable[[World, Headers], Headers]


@dataclass(frozen=True)
class Case:
    route: str
    kind: str
    what: str
    body: BodyChange | None = None  # derives the bad JSON body from the good one
    content: bytes | None = None  # or: these raw bytes as the body
    headers: Headers = field(default_factory=dict)  # extra headers (content-type, ...)
    auth: AuthChange | None = None  # derives the bad credentials from the good ones
    path: Callable[[World], str] | None = None  # another path than the good one
    field: str | Callable[[World], str] | None = None  # the field a 422 must name
    status: tuple[int, ...] = ()  # when not the kind's usual status

    @property
    def id(self) -> str:
        return f"{self.kind}:{self.route.removeprefix('/v1')}:{self.what}"

    @property
    def statuses(self) -> tuple[int, ...]:
        return self.status or (EXPECTED[self.kind],)


def with_(**changes: Any) -> BodyChange:
    return lambda w, body: {**body, **changes}


def without(*keys: str) -> BodyChange:
    return lambda w, body: {k: v for k, v in body.items() if k not in keys}


def first_item(**changes: Any) -> BodyChange:
    return lambda w, body: {**body, "items": [{**body["items"][0], **changes}]}


def malformed(route: str, what: str, field: str | Callable[[World], str], **kw: Any) -> Case:
    return Case(route, MALFORMED, what, field=field, **kw)


def as_json(content: bytes) -> dict[str, Any]:
    return {"content": content, "headers": {"content-type": "application/json"}}


def no_token(w: World, good: Headers) -> Headers:
    return {}


def scheme(value: str) -> AuthChange:
    return lambda w, good: {"Authorization": value}


def resigned(key: Callable[[World], bytes] | None = None, **changes: Any) -> AuthChange:
    """The good request's own token with claims changed (None drops one), signed again with
    the service's trusted key unless another is given."""

    def auth(w: World, good: Headers) -> Headers:
        claims = jwt.decode(good["Authorization"].split()[1], options={"verify_signature": False})
        now = int(time.time())
        for name, value in changes.items():
            value = value(now) if callable(value) else value
            if value is None:
                claims.pop(name, None)
            else:
                claims[name] = value
        pem = key(w) if key else w.service_key.private_pem
        return {"Authorization": "Bearer " + jwt.encode(claims, pem, algorithm="EdDSA")}

    return auth


def unsigned(w: World, good: Headers) -> Headers:
    claims = jwt.decode(good["Authorization"].split()[1], options={"verify_signature": False})
    return {"Authorization": "Bearer " + jwt.encode(claims, None, algorithm="none")}


STRANGER_KEY = LocalSigningKey.generate()
EXPIRED = resigned(iat=lambda now: now - 7200, exp=lambda now: now - 60)
WRONG_KEY = resigned(key=lambda w: STRANGER_KEY.private_pem)
GARBAGE = scheme("Bearer not-a-token")


def unauthenticated(route: str, what: str = "no Authorization header", **kw: Any) -> Case:
    return Case(route, UNAUTHENTICATED, what, auth=kw.pop("auth", no_token), **kw)


def forbidden(route: str, what: str, as_: Callable[[World], Headers], **kw: Any) -> Case:
    return Case(route, FORBIDDEN, what, auth=lambda w, good: as_(w), **kw)


def auditor(w: World) -> Headers:
    return w.as_("auditor")


def _cases() -> Iterator[Case]:
    r = "/v1/counties"
    yield malformed(
        r, "county id with capitals and punctuation", "county_id", body=with_(county_id="Gulang!")
    )
    yield malformed(r, "county id of one character", "county_id", body=with_(county_id="g"))
    yield malformed(r, "name missing", "name", body=without("name"))
    yield malformed(r, "unknown field", "founded", body=with_(founded=1949))
    yield malformed(r, "body is a JSON array", "body", body=lambda w, b: [b])
    yield malformed(r, "body is not JSON", "body", **as_json(b'{"county_id": gulang}'))
    yield malformed(r, "body is not UTF-8", "body", **as_json(b'{"county_id": "\xff\xfe"}'))
    yield malformed(r, "NUL character in the name", "name", body=with_(name=f"古浪{NUL}县"))
    yield malformed(r, "bell in the name", "name", body=with_(name=f"古浪{BEL}县"))
    yield malformed(r, "terminal colours in the name", "name", body=with_(name=f"{ESC_RED}古浪县"))
    yield malformed(
        r, "right-to-left override in the name", "name", body=with_(name=f"{RLO}县浪古")
    )
    yield malformed(r, "only a zero-width joiner", "name", body=with_(name=ZWJ))
    yield malformed(r, "next-line control in the name", "name", body=with_(name=f"古浪{NEL}县"))
    yield malformed(r, "a line break in the name", "name", body=with_(name="古浪\n县"))
    yield malformed(
        r,
        "a key given twice (the last would pass the check)",
        "county_id",
        **as_json('{"county_id": "minqin", "name": "古浪县", "county_id": "gulang"}'.encode()),
    )
    yield unauthenticated(r)
    yield unauthenticated(r, "garbage bearer token", auth=GARBAGE)
    yield unauthenticated(r, "expired token", auth=EXPIRED)
    yield unauthenticated(r, "token signed with another key", auth=WRONG_KEY)
    yield forbidden(r, "administrator of another county", lambda w: w.admin)
    yield forbidden(r, "township office", lambda w: w.office)
    yield forbidden(r, "auditor", auditor)

    r = "/v1/counties/{county_id}/calendars"
    yield malformed(
        r, "no such date", "drafting_deadline", body=with_(drafting_deadline="2027-02-30")
    )
    yield malformed(r, "year before 2000", "year", body=with_(year=1999))
    yield malformed(r, "year not a number", "year", body=with_(year="2027年"))
    yield malformed(
        r, "year NaN", "year", **as_json(b'{"year": NaN, "drafting_deadline": "2027-03-20"}')
    )
    yield malformed(
        r,
        "deadline outside the year",
        "drafting_deadline",
        body=with_(drafting_deadline="2028-03-20"),
    )
    yield unauthenticated(r)
    yield forbidden(r, "administrator of another county", lambda w: w.as_("county_admin", "gulang"))
    yield forbidden(r, "township office", lambda w: w.office)
    yield forbidden(r, "township committee", lambda w: w.committee)

    r = "/v1/counties/{county_id}/categories"
    yield malformed(r, "unknown branch kind", "kind", body=with_(kind="farm"))
    yield malformed(r, "no categories", "categories", body=with_(categories=[]))
    yield malformed(r, "empty category", "categories.0", body=with_(categories=[""]))
    yield malformed(
        r, "31 categories", "categories", body=with_(categories=[f"类别{i}" for i in range(31)])
    )
    yield malformed(
        r, "a category twice", "categories", body=with_(categories=["岗位先锋", "岗位先锋"])
    )
    yield unauthenticated(r)
    yield forbidden(r, "township office", lambda w: w.office)
    yield forbidden(r, "administrator of another county", lambda w: w.as_("county_admin", "gulang"))

    r = "/v1/counties/{county_id}/townships"
    yield malformed(r, "empty name", "name", body=with_(name=""))
    yield malformed(r, "blank name", "name", body=with_(name="   "))
    yield malformed(r, "name of 101 characters", "name", body=with_(name="镇" * 101))
    yield malformed(r, "name null", "name", body=with_(name=None))
    yield malformed(r, "NUL character in the name", "name", body=with_(name=f"东坝{NUL}镇"))
    yield malformed(
        r,
        "JSON sent as text/plain",
        "body",
        content='{"name": "东坝镇"}'.encode(),
        headers={"content-type": "text/plain"},
    )
    yield malformed(
        r, "body over the size limit", "body", body=with_(name="镇" * 400_000), status=(413,)
    )
    yield unauthenticated(r)
    yield unauthenticated(r, "Basic credentials", auth=scheme("Basic Y291bnR5OmFkbWlu"))
    yield forbidden(r, "township office", lambda w: w.office)
    yield forbidden(r, "township committee", lambda w: w.committee)
    yield forbidden(r, "administrator of another county", lambda w: w.as_("county_admin", "gulang"))

    r = "/v1/townships/{township_id}/head"
    yield malformed(r, "person missing", "person_id", body=without("person_id"))
    yield malformed(r, "person id of 65 characters", "person_id", body=with_(person_id="p" * 65))
    yield malformed(r, "name a number", "name", body=with_(name=1))
    yield unauthenticated(r)
    yield forbidden(r, "the township's own office", lambda w: w.office)
    yield forbidden(r, "the township's committee", lambda w: w.committee)
    yield forbidden(r, "administrator of another county", lambda w: w.as_("county_admin", "gulang"))

    r = "/v1/branches"
    yield malformed(r, "unknown branch kind", "kind", body=with_(kind="farm"))
    yield malformed(r, "empty township", "township_id", body=with_(township_id=""))
    yield malformed(r, "village of 101 characters", "village", body=with_(village="村" * 101))
    yield malformed(r, "name missing", "name", body=without("name"))
    yield unauthenticated(r)
    yield forbidden(r, "office of another township", lambda w: w.other_office)
    yield forbidden(r, "township committee", lambda w: w.committee)
    yield forbidden(r, "branch secretary", lambda w: w.secretary)

    r = "/v1/branches/{branch_id}/secretary"
    yield malformed(r, "member missing", "member_id", body=without("member_id"))
    yield malformed(r, "member id of 65 characters", "member_id", body=with_(member_id="m" * 65))
    yield malformed(
        r, "member of another branch", "member_id", body=lambda w, b: {**b, "member_id": w.stranger}
    )
    yield unauthenticated(r)
    yield forbidden(r, "office of another township", lambda w: w.other_office)
    yield forbidden(r, "the branch's secretary", lambda w: w.secretary)
    yield forbidden(r, "a member of the branch", lambda w: w.member)

    r = "/v1/branches/{branch_id}/move"
    yield malformed(
        r,
        "to the township it is in",
        "township_id",
        body=lambda w, b: {**b, "township_id": w.township},
    )
    yield malformed(r, "township a number", "township_id", body=with_(township_id=7))
    yield malformed(r, "township missing", "township_id", body=without("township_id"))
    yield unauthenticated(r)
    yield forbidden(r, "the branch's township office", lambda w: w.office)
    yield forbidden(r, "office of the receiving township", lambda w: w.other_office)
    yield forbidden(r, "administrator of another county", lambda w: w.as_("county_admin", "gulang"))

    r = "/v1/branches/{branch_id}/retirement"
    yield malformed(r, "empty reason", "reason", body=with_(reason=""))
    yield malformed(r, "reason of 2001 characters", "reason", body=with_(reason="因" * 2001))
    yield malformed(r, "reason missing", "reason", body=without("reason"))
    yield malformed(r, "a lone carriage return", "reason", body=with_(reason="并入\r东风村"))
    yield malformed(r, "a line separator", "reason", body=with_(reason="并入\u2028东风村"))
    # a NUL can never be in a branch id: not found (or invalid), never a server error
    yield malformed(
        r,
        "NUL character in the branch id",
        "branch_id",
        path=lambda w: "/v1/branches/b-%00/retirement",
        status=(404, 422),
    )
    yield unauthenticated(r)
    yield forbidden(r, "office of another township", lambda w: w.other_office)
    yield forbidden(
        r, "the branch's own secretary", lambda w: w.as_("branch_secretary", w.retiring_branch)
    )
    yield forbidden(r, "township committee", lambda w: w.committee)

    r = "/v1/members"
    yield malformed(
        r, "leadership team 'maybe'", "leadership_team", body=with_(leadership_team="maybe")
    )
    yield malformed(r, "duties of 4001 characters", "duties", body=with_(duties="责" * 4001))
    yield malformed(r, "post missing", "post", body=without("post"))
    yield malformed(r, "NUL character in the name", "name", body=with_(name=f"王{NUL}小明"))
    yield malformed(r, "isolate control in the duties", "duties", body=with_(duties="\u2066看护"))
    yield malformed(r, "left-to-right mark in the post", "post", body=with_(post="护林员\u200e"))
    yield malformed(r, "a bell in the duties", "duties", body=with_(duties=f"看护{BEL}生态林"))
    yield malformed(r, "a tab in the name", "name", body=with_(name="王\t小明"))
    yield unauthenticated(r)
    yield forbidden(r, "office of another township", lambda w: w.other_office)
    yield forbidden(r, "branch secretary", lambda w: w.secretary)
    yield forbidden(r, "a member", lambda w: w.member)

    r = "/v1/members/{member_id}/post"
    yield malformed(r, "duties missing", "duties", body=without("duties"))
    yield malformed(r, "leadership team a list", "leadership_team", body=with_(leadership_team=[]))
    yield malformed(r, "empty post", "post", body=with_(post=""))
    yield unauthenticated(r)
    yield forbidden(r, "office of another township", lambda w: w.other_office)
    yield forbidden(r, "the member themself", lambda w: w.member)
    yield forbidden(r, "branch secretary", lambda w: w.secretary)

    r = "/v1/members/{member_id}/transfer"
    yield malformed(r, "empty branch", "branch_id", body=with_(branch_id=""))
    yield malformed(
        r, "to the branch they are in", "branch_id", body=lambda w, b: {**b, "branch_id": w.branch}
    )
    yield unauthenticated(r)
    yield forbidden(r, "office of another township", lambda w: w.other_office)
    yield forbidden(
        r, "the member themself", lambda w: w.as_("member", w.branch, w.transferring_member)
    )
    yield forbidden(r, "township committee", lambda w: w.committee)

    r = "/v1/members/{member_id}/retirement"
    yield malformed(r, "blank reason", "reason", body=with_(reason="  "))
    yield malformed(r, "empty object", "reason", body=lambda w, b: {})
    yield malformed(r, "body is a JSON array", "body", body=lambda w, b: [b["reason"]])
    yield unauthenticated(r)
    yield forbidden(r, "office of another township", lambda w: w.other_office)
    yield forbidden(
        r, "the member themself", lambda w: w.as_("member", w.branch, w.retiring_member)
    )
    yield forbidden(r, "branch secretary", lambda w: w.secretary)

    r = "/v1/pledges"
    yield malformed(r, "year before 2000", "year", body=with_(year=1999))
    yield malformed(r, "year a fraction", "year", body=with_(year=2030.5))
    yield malformed(r, "branch missing", "branch_id", body=without("branch_id"))
    yield malformed(r, "unknown field", "status", body=with_(status="published"))
    yield malformed(
        r, "member of another branch", "member_id", body=lambda w, b: {**b, "member_id": w.stranger}
    )
    yield malformed(
        r, "NUL character in the branch id", "branch_id", body=with_(branch_id=f"b-{NUL}")
    )
    yield unauthenticated(r)
    yield unauthenticated(r, "no token and a malformed body", body=with_(year="soon"))
    yield unauthenticated(r, "garbage bearer token", auth=GARBAGE)
    yield unauthenticated(r, "bearer scheme without a token", auth=scheme("Bearer"))
    yield unauthenticated(r, "Basic credentials", auth=scheme("Basic c2VjcmV0YXJ5OnB3"))
    yield unauthenticated(
        r,
        "token without a scheme",
        auth=lambda w, good: {"Authorization": good["Authorization"].split()[1]},
    )
    yield unauthenticated(r, "expired token", auth=EXPIRED)
    yield unauthenticated(r, "token signed with another key", auth=WRONG_KEY)
    yield unauthenticated(r, "unsigned token (alg none)", auth=unsigned)
    yield unauthenticated(r, "token for another audience", auth=resigned(aud="elsewhere"))
    yield unauthenticated(r, "token from another issuer", auth=resigned(iss="elsewhere"))
    yield unauthenticated(r, "token without expiry", auth=resigned(exp=None))
    yield unauthenticated(r, "token with an unknown role", auth=resigned(role="emperor"))
    yield unauthenticated(r, "token of the public", auth=lambda w, good: w.as_("public"))
    yield forbidden(r, "a member drafting the branch's pledge", lambda w: w.member)
    yield forbidden(
        r,
        "a member drafting another member's pledge",
        lambda w: w.member,
        body=lambda w, b: {**b, "member_id": w.d.secretary},
    )
    yield forbidden(  # the member's own secretary may enter it from paper; not another's
        r,
        "another branch's secretary drafting a member's pledge",
        lambda w: w.other_secretary,
        body=lambda w, b: {**b, "member_id": w.d.member},
    )
    yield forbidden(r, "secretary of another branch", lambda w: w.other_secretary)
    yield forbidden(r, "township office", lambda w: w.office)

    r = "/v1/pledges/{pledge_id}/opinions"
    yield malformed(r, "unknown channel", "channel", body=with_(channel="tiktok"))
    yield malformed(r, "date 'yesterday'", "gathered_on", body=with_(gathered_on="yesterday"))
    yield malformed(r, "empty summary", "summary", body=with_(summary=""))
    yield unauthenticated(r)
    yield forbidden(r, "another member on a member's pledge", lambda w: w.secretary_as_member)
    # the member's own secretary may record them from paper (on her behalf); not another's
    yield forbidden(r, "another branch's secretary", lambda w: w.other_secretary)
    yield forbidden(r, "township committee", lambda w: w.committee)

    r = "/v1/pledges/{pledge_id}/proposal"
    yield malformed(r, "no items", "items", body=with_(items=[]))
    yield malformed(r, "31 items", "items", body=lambda w, b: {**b, "items": b["items"] * 31})
    yield malformed(r, "empty basis", "basis", body=with_(basis=""))
    yield malformed(
        r,
        "item without title",
        "items.0.title",
        body=lambda w, b: {
            **b,
            "items": [{k: v for k, v in b["items"][0].items() if k != "title"}],
        },
    )
    yield malformed(r, "item title of one character", "items.0.title", body=first_item(title="x"))
    yield malformed(
        r,
        "item title overridden right to left",
        "items.0.title",
        body=first_item(title=f"亩{RLO}005"),
    )
    yield malformed(
        r,
        "item description in terminal colours",
        "items.0.description",
        body=first_item(description=f"{ESC_RED}推广滴灌"),
    )
    yield malformed(
        r, "item shaped by a bell", "items.0.shaped_by.0", body=first_item(shaped_by=[BEL])
    )
    yield malformed(
        r, "item due in month 13", "items.0.due_date", body=first_item(due_date="2027-13-01")
    )
    yield malformed(
        r,
        "item in another kind's category",
        "items.0.category",
        body=first_item(category="窗口形象"),
    )
    yield malformed(
        r, "item due in the past", "items.0.due_date", body=first_item(due_date="2026-12-31")
    )
    yield malformed(
        r,
        "item shaped by an unknown opinion",
        "items.0.shaped_by",
        body=first_item(shaped_by=["o-404"]),
    )
    yield unauthenticated(r)
    yield forbidden(r, "another member on a member's pledge", lambda w: w.secretary_as_member)
    # the member's own secretary enters a paper pledge on the member's behalf; not another's
    yield forbidden(
        r, "another branch's secretary on a member's pledge", lambda w: w.other_secretary
    )
    yield forbidden(r, "township committee", lambda w: w.committee)

    r = "/v1/pledges/{pledge_id}/items/{item_id}/review"
    yield malformed(r, "decision 'maybe'", "decision", body=with_(decision="maybe"))
    yield malformed(r, "criterion 'perhaps'", "feasible", body=with_(feasible="perhaps"))
    yield malformed(r, "criterion missing", "matches_wishes", body=without("matches_wishes"))
    yield malformed(r, "approved though not feasible", "decision", body=with_(feasible=False))
    yield malformed(r, "returned without guidance", "guidance", body=with_(decision="return"))
    yield malformed(
        r,
        "no such item",
        "item_id",
        path=lambda w: f"/v1/pledges/{w.reviewing}/items/{w.reviewing}-i9/review",
    )
    yield unauthenticated(r)
    yield unauthenticated(r, "expired token", auth=EXPIRED)
    yield unauthenticated(r, "token signed with another key", auth=WRONG_KEY)
    yield forbidden(r, "branch secretary", lambda w: w.secretary)
    yield forbidden(r, "committee of another township", lambda w: w.other_committee)
    yield forbidden(r, "township office", lambda w: w.office)
    yield forbidden(r, "auditor", auditor)

    r = "/v1/pledges/{pledge_id}/resubmission"
    yield malformed(r, "no items", "items", body=with_(items={}))
    yield malformed(r, "note missing", "note", body=without("note"))
    yield malformed(
        r,
        "an item that was not returned",
        "items",
        body=lambda w, b: {
            **b,
            "items": {f"{w.returned}-i9": item("推广滴灌300亩", due="2028-10-31")},
        },
    )
    yield malformed(
        r,
        "item due after the next year",
        lambda w: f"items.{w.returned_item}.due_date",
        body=lambda w, b: {
            **b,
            "items": {w.returned_item: item("推广滴灌300亩", due="2030-01-31")},
        },
    )
    yield unauthenticated(r)
    yield forbidden(r, "a member on the branch's pledge", lambda w: w.member)
    yield forbidden(r, "secretary of another branch", lambda w: w.other_secretary)
    yield forbidden(r, "township committee", lambda w: w.committee)

    r = "/v1/pledges/{pledge_id}/publication"
    yield malformed(
        r,
        "Idempotency-Key of 201 characters",
        "Idempotency-Key",
        headers={"Idempotency-Key": "k" * 201},
    )
    yield unauthenticated(r)
    yield unauthenticated(r, "garbage bearer token", auth=GARBAGE)
    yield unauthenticated(r, "expired token", auth=EXPIRED)
    yield unauthenticated(r, "token signed with another key", auth=WRONG_KEY)
    yield forbidden(r, "the pledging member themself", lambda w: w.secretary_as_member)
    yield forbidden(r, "secretary of another branch", lambda w: w.other_secretary)
    yield forbidden(r, "township office", lambda w: w.office)
    yield forbidden(r, "a rater", lambda w: w.as_("rater", w.township))

    r = "/v1/pledges/{pledge_id}/items/{item_id}/progress"
    yield malformed(r, "101 percent", "percent", body=with_(percent=101))
    yield malformed(r, "negative percent", "percent", body=with_(percent=-1))
    yield malformed(
        r,
        "evidence without description",
        "evidence.0.description",
        body=with_(evidence=[{"url": "https://example.org/p/1.jpg"}]),
    )
    yield malformed(
        r,
        "evidence described with a bell",
        "evidence.0.description",
        body=with_(evidence=[{"description": f"施工{BEL}照片"}]),
    )
    yield malformed(
        r, "21 pieces of evidence", "evidence", body=with_(evidence=[{"description": "照片"}] * 21)
    )
    yield malformed(r, "summary missing", "summary", body=without("summary"))
    yield unauthenticated(r)
    yield forbidden(r, "a member on the branch's pledge", lambda w: w.member)
    yield forbidden(r, "secretary of another branch", lambda w: w.other_secretary)
    yield forbidden(r, "township office", lambda w: w.office)

    r = "/v1/pledges/{pledge_id}/items/{item_id}/follow-ups"
    yield malformed(r, "empty note", "note", body=with_(note=""))
    yield malformed(r, "note of 2001 characters", "note", body=with_(note="督" * 2001))
    yield malformed(
        r,
        "no such item",
        "item_id",
        path=lambda w: f"/v1/pledges/{w.published}/items/{w.published}-i9/follow-ups",
    )
    yield unauthenticated(r)
    yield forbidden(r, "office of another township", lambda w: w.other_office)
    yield forbidden(r, "branch secretary", lambda w: w.secretary)
    yield forbidden(r, "township committee", lambda w: w.committee)

    r = "/v1/pledges/{pledge_id}/items/{item_id}/done"
    yield malformed(r, "summary missing", "summary", body=without("summary"))
    yield malformed(r, "summary of 4001 characters", "summary", body=with_(summary="完" * 4001))
    yield malformed(
        r,
        "no such item",
        "item_id",
        path=lambda w: f"/v1/pledges/{w.published}/items/{w.published}-i9/done",
    )
    yield unauthenticated(r)
    yield forbidden(r, "a member on the branch's pledge", lambda w: w.member)
    yield forbidden(r, "township committee", lambda w: w.committee)
    yield forbidden(r, "township office", lambda w: w.office)

    r = "/v1/pledges/{pledge_id}/items/{item_id}/problem-solved"
    yield malformed(r, "note a number", "note", body=with_(note=123))
    yield malformed(r, "note missing", "note", body=without("note"))
    yield unauthenticated(r)
    yield forbidden(r, "office of another township", lambda w: w.other_office)
    yield forbidden(r, "branch secretary", lambda w: w.secretary)
    yield forbidden(r, "township committee", lambda w: w.committee)

    r = "/v1/pledges/{pledge_id}/items/{item_id}/implementation-verified"
    yield malformed(r, "empty note", "note", body=with_(note=""))
    yield malformed(r, "unknown field", "verified_by", body=with_(verified_by="王镇长"))
    yield unauthenticated(r)
    yield forbidden(r, "office of another township", lambda w: w.other_office)
    yield forbidden(r, "township committee", lambda w: w.committee)
    yield forbidden(r, "auditor", auditor)

    r = "/v1/pledges/{pledge_id}/quarterly-pushes"
    yield malformed(r, "quarter 5", "quarter", body=with_(quarter="2029Q5"))
    yield malformed(r, "quarter outside the pledge years", "quarter", body=with_(quarter="2035Q1"))
    yield malformed(r, "next steps missing", "next_steps", body=without("next_steps"))
    yield unauthenticated(r)
    yield forbidden(r, "office of another township", lambda w: w.other_office)
    yield forbidden(r, "branch secretary", lambda w: w.secretary)
    yield forbidden(r, "auditor", auditor)


CASES = list(_cases())


# --- running a case ---------------------------------------------------------------------


@pytest.fixture(scope="module")
async def world(servers: Servers) -> AsyncIterator[World]:
    """One service and world for all bad cases (like `pledge_service`, but module-scoped):
    bad requests change nothing, which each case checks."""
    settings = servers.settings("pledge")
    clock = FixedClock(datetime(2027, 1, 4, 2, 0, tzinfo=UTC))
    app = create_app(DEFINITION, settings, clock=clock)
    async with serving(app, settings.port) as client:
        yield await build_world(RunningService(client, app, settings, clock), servers)


def test_the_table_is_well_formed() -> None:
    ids = [case.id for case in CASES]
    assert len(ids) == len(set(ids)), "case ids must be unique"
    for case in CASES:
        assert case.route in GOOD, f"{case.id}: no good request for {case.route}"
        if case.kind == MALFORMED:
            assert case.field is not None, f"{case.id}: a malformed case names its field"
        else:
            assert case.auth is not None, f"{case.id}: changes the caller"


async def test_every_state_changing_route_has_bad_input_cases(world: World) -> None:
    routes = state_changing_routes(PLEDGE.routers)
    assert routes <= set(world.service.app.openapi()["paths"])  # and the app serves them
    assert len(routes) >= 25, routes  # the walk found the service's routes
    assert routes == set(GOOD), (
        f"routes without a good request and bad cases: {sorted(routes - set(GOOD))}; "
        f"table entries for routes that do not exist: {sorted(set(GOOD) - routes)}"
    )
    for kind in (MALFORMED, UNAUTHENTICATED, FORBIDDEN):
        covered = {case.route for case in CASES if case.kind == kind}
        assert not routes - covered, f"routes without a {kind} case: {sorted(routes - covered)}"


async def test_the_good_requests_are_accepted(
    servers: Servers, pledge_service: RunningService
) -> None:
    """The control: in a world built like the bad cases' one, each good request is accepted
    and appends events, so each bad case is refused for what it changed, nothing else."""
    w = await build_world(pledge_service, servers)
    c = pledge_service.client
    for route, good in GOOD.items():
        call = good(w)
        before = await event_count(pledge_service)
        response = await c.post(call.path, json=call.body, headers=call.auth)
        assert response.status_code == call.status, f"good {route}: {response.text}"
        assert await event_count(pledge_service) > before, f"good {route} appended no event"


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
async def test_bad_input_is_refused_and_appends_nothing(world: World, case: Case) -> None:
    good = GOOD[case.route](world)
    path = case.path(world) if case.path else good.path
    headers = {**(case.auth(world, good.auth) if case.auth else good.auth), **case.headers}
    request: dict[str, Any] = {"headers": headers}
    if case.content is not None:
        request["content"] = case.content
    elif case.body is not None:
        request["json"] = case.body(world, good.body)
    elif good.body is not None:
        request["json"] = good.body

    before = await event_count(world.service)
    response = await world.service.client.post(path, **request)
    after = await event_count(world.service)

    expected = case.field(world) if callable(case.field) else case.field
    assert_refused(case.id, response, after - before, case.statuses, expected)
