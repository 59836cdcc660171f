"""Families of input nobody means, sent to every operation of every service (read from the
app's own routes, the board's hidden pages included): tokens whose header the service cannot
use, `as_of` past the ends of time or as a Unix time, control and bidirectional characters in
every string of every body, a key given twice, query ids that are no ids, and a NUL in every
parameter. No answer may be a 5xx and no refusal may append an event; each is refused for what
it is: 401 for the token, a 422 problem naming the field or parameter for the rest.

Unlike the schemathesis run (test_openapi_fuzz.py) nothing here is random: each family is a
short list of values, tried everywhere it applies, so the whole run takes seconds."""

from __future__ import annotations

import base64
import copy
import json
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute

from services.evaluation.app import DEFINITION as EVALUATION
from services.identity.app import DEFINITION as IDENTITY
from services.notification.app import DEFINITION as NOTIFICATION
from services.pledge.app import DEFINITION as PLEDGE
from services.review.app import DEFINITION as REVIEW
from shared.clock import FixedClock
from tests.e2e.bad_input import assert_refused
from tests.e2e.evaluation_helpers import START, caught_up
from tests.e2e.helpers import Directory, event_count
from tests.support import RunningService, Servers, running

SERVICES = ["pledge", "review", "evaluation", "notification", "identity"]


def _part(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _token(header: bytes) -> str:
    claims = {"iss": "gongkai-local", "aud": "gongkai", "sub": "x", "role": "county_admin"}
    return f"{_part(header)}.{_part(json.dumps(claims).encode())}.{_part(b'junk')}"


BAD_TOKENS = {
    "rs256": _token(b'{"alg":"RS256","typ":"JWT"}'),
    "es256": _token(b'{"alg":"ES256","typ":"JWT"}'),
    "hs256": _token(b'{"alg":"HS256","typ":"JWT"}'),
    "none": _token(b'{"alg":"none"}')[: -len(_part(b"junk"))],
    "no-alg": _token(b'{"typ":"JWT"}'),
    "kid-object": _token(b'{"alg":"EdDSA","kid":{}}'),
    "header-array": _token(b"[]"),
    "header-not-json": _token(b"{alg: EdDSA"),
    "header-not-base64": "!!!." + _token(b"{}").split(".", 1)[1],
}
BAD_AS_OF = ["9999-12-31T23:59:59-23:59", "0001-01-01T00:00:00+23:59", "0001-01-01", "-1"]
BAD_IDS = ["' OR 1=1 --", "x" * 1000, "b\u202e1", "\x00"]
# what no person types into a name or a text: each replaces or spoils a string of the body
BAD_TEXT = {
    "bell": lambda s: s + "\u0007",
    "terminal-colours": lambda s: "\u001b[31m" + s,
    "right-to-left-override": lambda s: "\u202e" + s,
    "isolate": lambda s: s + "\u2066",
    "left-to-right-mark": lambda s: "\u200e" + s,
    "next-line": lambda s: s + "\u0085" + s,
    "only-a-joiner": lambda s: "\u200d",
    "nul": lambda s: s + "\x00",
}


@dataclass
class Operation:
    method: str
    path: str  # the template
    path_params: list[str]
    query: list[str]
    signed: bool  # reads the bearer token: a bad one is a 401
    body: Any = None  # a body of the schema's shape, every property given; None: no body


@dataclass
class Attack:
    service: RunningService
    admin: dict[str, str]  # a token that passes every dependency without the database
    known: dict[str, str]  # path parameters that name something that exists
    failures: list[str] = field(default_factory=list)
    requests: int = 0

    def url(self, op: Operation, **values: str) -> str:
        path = op.path
        for name in op.path_params:
            path = path.replace(f"{{{name}}}", values.get(name) or self.sample(name))
        return path

    def sample(self, name: str) -> str:
        samples = {"year": "2027", "stage": "1", "checkpoint_id": "1", "month": "2027-03"}
        # a path parameter with a closed set of values (`townships` | `counties`): its first
        return self.known.get(name) or ENUMS.get(name) or samples.get(name, "x-1")

    async def send(self, op: Operation, case: str, request: dict[str, Any], check: Any) -> None:
        """Send it; no 5xx, and `check(response)` (an assertion) must hold."""
        self.requests += 1
        response = await self.service.client.request(op.method, **request)
        try:
            assert response.status_code < 500, f"{response.status_code}: {response.text[:300]}"
            check(response)
        except AssertionError as error:
            self.failures.append(f"{op.method} {op.path} [{case}]: {error}")

    async def nothing_appended(self, op: Operation, family: str, before: int) -> None:
        appended = await event_count(self.service) - before
        if appended:
            self.failures.append(f"{op.method} {op.path} [{family}]: {appended} event(s) appended")


def refused(case: str, status: int, name: str | None) -> Any:
    return lambda response: assert_refused(case, response, 0, [status], name)


# --- the operations, from the app's routes -------------------------------------------------


ENUMS: dict[str, str] = {}  # path parameters' first allowed value, by name (from the OpenAPI)


def operations(service: RunningService) -> list[Operation]:
    """Every route the app serves: the OpenAPI document's operations and the hidden ones (the
    board's pages), with a body of the right shape where one is taken."""
    app = service.app
    hidden = []
    for route in app.routes:
        if isinstance(route, APIRoute) and not route.include_in_schema:
            shown = copy.copy(route)
            shown.include_in_schema = True
            hidden.append(shown)
    documents = [app.openapi(), get_openapi(title="hidden", version="0", routes=hidden)]
    found = []
    for spec in documents:
        components = spec.get("components", {}).get("schemas", {})
        for path, methods in spec["paths"].items():
            for method, op in methods.items():
                params = op.get("parameters", [])
                for p in params:
                    if p["in"] == "path" and "enum" in p.get("schema", {}):
                        ENUMS.setdefault(p["name"], str(p["schema"]["enum"][0]))
                schema = op.get("requestBody", {}).get("content", {}).get("application/json")
                found.append(
                    Operation(
                        method.upper(),
                        path,
                        [p["name"] for p in params if p["in"] == "path"],
                        [p["name"] for p in params if p["in"] == "query"],
                        any(p["name"] == "authorization" for p in params),
                        _sample(schema["schema"], components) if schema else None,
                    )
                )
    return found


def _sample(schema: dict[str, Any], components: dict[str, Any]) -> Any:
    """A value of the schema's shape (not necessarily valid): every property, one item."""
    if "$ref" in schema:
        return _sample(components[schema["$ref"].rsplit("/", 1)[1]], components)
    for union in ("anyOf", "oneOf", "allOf"):
        if union in schema:
            kinds = [s for s in schema[union] if s.get("type") != "null"]
            return _sample(kinds[0], components)
    if "const" in schema:
        return schema["const"]
    if "enum" in schema:
        return schema["enum"][0]
    kind = schema.get("type")
    if kind == "string":
        return {"date": "2027-03-01", "date-time": "2027-03-01T00:00:00Z"}.get(
            schema.get("format", ""), "文字"
        )
    if kind in ("integer", "number"):
        return schema.get("minimum", 1)
    if kind == "boolean":
        return True
    if kind == "array":
        return [_sample(schema.get("items", {"type": "string"}), components)]
    if kind == "object":
        value = {k: _sample(v, components) for k, v in schema.get("properties", {}).items()}
        extra = schema.get("additionalProperties")
        if isinstance(extra, dict):
            names = schema.get("propertyNames", {})
            key = _sample(names, components) if names else "k-1"
            value[str(key)] = _sample(extra, components)
        return value
    return None


def strings(value: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    """Where the strings are in a body: the path to each."""
    if isinstance(value, str):
        yield path
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from strings(item, (*path, str(key)))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from strings(item, (*path, str(index)))


def replaced(value: Any, path: tuple[str, ...], change: Any) -> Any:
    if not path:
        return change(value)
    if isinstance(value, list):
        index = int(path[0])
        return [replaced(v, path[1:], change) if i == index else v for i, v in enumerate(value)]
    return {k: replaced(v, path[1:], change) if k == path[0] else v for k, v in value.items()}


# --- the families ---------------------------------------------------------------------------


async def bad_tokens(a: Attack, op: Operation) -> None:
    for name, token in BAD_TOKENS.items():
        headers = {"Authorization": f"Bearer {token}"}
        check = refused(name, 401, None) if op.signed else (lambda response: None)
        await a.send(op, f"token {name}", {"url": a.url(op), "headers": headers}, check)


async def bad_as_of(a: Attack, op: Operation) -> None:
    if "as_of" in op.query:
        for value in BAD_AS_OF:
            request = {"url": a.url(op), "params": {"as_of": value}, "headers": a.admin}
            await a.send(op, f"as_of={value}", request, refused(value, 422, "as_of"))


async def bad_query_ids(a: Attack, op: Operation) -> None:
    for name in (q for q in op.query if q.endswith("_id")):
        for value in BAD_IDS:
            request = {"url": a.url(op), "params": {name: value}, "headers": a.admin}
            await a.send(op, f"{name}={value[:20]!r}", request, refused(value, 422, name))
        request = {"url": a.url(op), "params": {name: "x" * 60_000}, "headers": a.admin}
        await a.send(op, f"{name} of 60,000", request, lambda response: None)  # past the server's


async def nul_everywhere(a: Attack, op: Operation) -> None:
    """A NUL in each query and path parameter is refused naming that parameter."""
    for name in op.query:
        request = {"url": a.url(op), "params": {name: "\x00"}, "headers": a.admin}
        await a.send(op, f"{name}=%00", request, refused(name, 422, name))
    for name in op.path_params:
        request = {"url": a.url(op, **{name: "%00"}), "headers": a.admin}
        await a.send(op, f"{{{name}}}=%00", request, refused(name, 422, name))


async def bad_text(a: Attack, op: Operation) -> None:
    for where in strings(op.body):
        name = ".".join(where)
        for case, change in BAD_TEXT.items():
            body = replaced(op.body, where, change)
            request = {"url": a.url(op), "json": body, "headers": a.admin}
            await a.send(op, f"{name} {case}", request, refused(case, 422, name))


async def keys_twice(a: Attack, op: Operation) -> None:
    if not isinstance(op.body, dict) or not op.body:
        return
    key, value = next(iter(op.body.items()))
    text = json.dumps(op.body)[:-1] + f", {json.dumps(key)}: {json.dumps(value)}}}"
    request = {
        "url": a.url(op),
        "content": text.encode(),
        "headers": {**a.admin, "content-type": "application/json"},
    }
    await a.send(op, f"{key} twice", request, refused("twice", 422, key))


FAMILIES = {
    "bad-tokens": bad_tokens,
    "as-of": bad_as_of,
    "query-ids": bad_query_ids,
    "nul": nul_everywhere,
    "text": bad_text,
    "keys-twice": keys_twice,
}


# --- running them ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
async def county(servers: Servers) -> AsyncIterator[tuple[dict[str, RunningService], Directory]]:
    """The five services with a small county; the public rate limit is on (a token that does
    not verify is checked there first) but out of reach."""
    definitions = [PLEDGE, REVIEW, EVALUATION, NOTIFICATION, IDENTITY]
    limit = {"public_requests_per_second": 1e6, "public_burst": 1_000_000}
    with pytest.MonkeyPatch.context() as env:
        env.setenv("GONGKAI_IDENTITY_ARGON2_PROFILE", "cheapest")  # activation codes hashed
        async with running(servers, definitions, FixedClock(START), **limit) as services:
            d = await Directory(services["pledge"].client, servers).build()
            for name in ("review", "evaluation", "identity"):
                await caught_up(services["pledge"], services[name])
            yield services, d


@pytest.mark.parametrize("family", list(FAMILIES))
@pytest.mark.parametrize("service", SERVICES)
async def test_no_server_error_and_a_named_refusal(
    county: tuple[dict[str, RunningService], Directory], service: str, family: str
) -> None:
    services, d = county
    attack = Attack(
        services[service],
        admin=d.as_("county_admin", d.county),
        known={
            "county_id": d.county,
            "township_id": d.township,
            "branch_id": d.branch,
            "member_id": d.member,
            "person_id": d.member,
        },
    )
    ops = operations(attack.service)
    assert len(ops) > 10, ops
    for op in ops:
        before = await event_count(attack.service)
        await FAMILIES[family](attack, op)
        await attack.nothing_appended(op, family, before)
    assert not attack.failures, f"{attack.requests} requests:\n" + "\n".join(attack.failures)


def test_the_bodies_have_strings_to_spoil() -> None:
    """The body sampler reaches nested strings (items of lists, values of maps)."""
    schema = {
        "type": "object",
        "properties": {
            "name": {"type": "string"},
            "items": {"type": "array", "items": {"$ref": "#/components/schemas/Item"}},
            "grades": {"type": "object", "additionalProperties": {"type": "string"}},
        },
    }
    components = {"Item": {"type": "object", "properties": {"title": {"type": "string"}}}}
    body = _sample(schema, components)
    assert sorted(strings(body)) == [("grades", "k-1"), ("items", "0", "title"), ("name",)]
    spoiled = replaced(body, ("items", "0", "title"), lambda s: s + "!")
    assert spoiled == {**body, "items": [{"title": "文字!"}]}
