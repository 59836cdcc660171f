"""Logs people can use (issue 21): one line per HTTP request (the route's template, status,
duration, correlation id, actor, client), an unhandled error once with its traceback, relay
and consumer failures naming the event; and nothing a person or a token could be read from.

In process, without servers: an app with the shared middleware and error handlers over
httpx's ASGI transport, the relay and a subscription runner over stand-ins for the broker
and the database. The lines are captured as the services write them (JSON, every processor)."""

from __future__ import annotations

import asyncio
import io
import json
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

import httpx
import pytest
import structlog
from fastapi import APIRouter, FastAPI
from pydantic import BaseModel, ConfigDict

from shared.auth import LocalSigningKey, TokenVerifier
from shared.envelope import EventEnvelope, chain_hash
from shared.events import DomainEvent
from shared.eventstore import AppendRequest, CommandContext, draft_event
from shared.http import (
    CurrentPrincipal,
    PathId,
    RequestContextMiddleware,
    SignedIn,
    install_error_handlers,
)
from shared.logging import configure_logging, scrub_text
from shared.messaging import Subjects
from shared.relay import OutboxRelay
from shared.settings import ServiceSettings
from shared.subscriptions import Subscription, SubscriptionRunner

KEY = LocalSigningKey.generate()
NAME, PHONE, GRADE = "王小明", "13812345678", "dissatisfied"
SUBJECT = "m-officer-7"


def token(subject: str = SUBJECT, role: str = "township_office") -> str:
    return KEY.issue(
        issuer="gongkai-local", audience="gongkai", subject=subject, role=role, name=NAME
    )


class Captured:
    def __init__(self) -> None:
        self.buffer = io.StringIO()

    @property
    def text(self) -> str:
        return self.buffer.getvalue()

    def lines(self, event: str | None = None) -> list[dict[str, Any]]:
        found = [json.loads(line) for line in self.text.splitlines()]
        return [line for line in found if event is None or line["event"] == event]


@pytest.fixture
def logs() -> Iterator[Captured]:
    """The lines the services write in production (JSON), captured for the test."""
    captured = Captured()
    configure_logging(json=True, level="INFO", file=captured.buffer)  # type: ignore[arg-type]
    try:
        yield captured
    finally:
        configure_logging(json=False, level="WARNING")  # as tests/conftest.py has it
        structlog.contextvars.clear_contextvars()


class Person(BaseModel):
    name: str
    phone: str


class Registration(BaseModel):
    raters: list[Person]
    grades: dict[str, str]


class Strict(BaseModel):
    model_config = ConfigDict(strict=True)
    count: int


def an_app() -> FastAPI:
    app = FastAPI()
    verifier = TokenVerifier(
        issuer="gongkai-local", audience="gongkai", public_key_pem=KEY.public_pem
    )
    app.state.runtime = SimpleNamespace(verifier=verifier)
    install_error_handlers(app)
    app.add_middleware(RequestContextMiddleware, service="pledge", max_body_bytes=10_000)
    router = APIRouter(prefix="/v1")

    @router.get("/pledges/{pledge_id}")
    async def get_pledge(pledge_id: PathId, who: CurrentPrincipal) -> dict[str, str]:
        return {"id": pledge_id}

    @router.post("/rounds/{round_id}/raters", status_code=201)
    async def register(round_id: PathId, body: Registration, who: SignedIn) -> dict[str, str]:
        return {"id": round_id}

    @router.get("/things/{thing_id}")
    async def failing(thing_id: PathId) -> None:
        raise RuntimeError("the disk is on fire")

    @router.get("/people/{person_id}/count")
    async def quoting(person_id: PathId, name: str = "") -> None:
        Strict.model_validate({"count": name})  # pydantic's error quotes the input

    app.include_router(router)
    return app


@asynccontextmanager
async def client() -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=an_app(), client=("203.0.113.9", 50000))
    async with httpx.AsyncClient(transport=transport, base_url="http://gongkai") as c:
        yield c


async def test_one_line_per_request_with_the_route_template_and_who_asked(
    logs: Captured,
) -> None:
    async with client() as c:
        auth = {"Authorization": f"Bearer {token()}"}
        ok = await c.get("/v1/pledges/p-123", params={"as_of": "2027-03-01"}, headers=auth)
        anonymous = await c.get("/v1/pledges/p-456")
        forged = await c.get("/v1/pledges/p-789", headers={"Authorization": "Bearer x.y.z"})
        traced = await c.get("/v1/pledges/p-1", headers={"X-Correlation-Id": "trace-42"})
        named = await c.get("/v1/pledges/p-1", headers={"X-Correlation-Id": "Wang Xiaoming"})
        unknown = await c.get(f"/v1/people/{NAME}/anything")
    assert [r.status_code for r in (ok, anonymous, forged, traced, named, unknown)] == [
        200,
        200,
        401,
        200,
        200,
        404,
    ]
    lines = logs.lines("request")
    assert len(lines) == 6  # one each, nothing else
    first = lines[0]
    assert {k: first[k] for k in ("method", "route", "status", "actor", "client", "service")} == {
        "method": "GET",
        "route": "/v1/pledges/{pledge_id}",
        "status": 200,
        "actor": SUBJECT,
        "client": "203.0.113.9",
        "service": "pledge",
    }
    assert isinstance(first["duration_ms"], float)
    assert first["duration_ms"] >= 0
    assert first["level"] == "info"
    for response, line in zip((ok, anonymous, forged, traced, named, unknown), lines, strict=True):
        assert line["correlation_id"] == response.headers["x-correlation-id"]
    assert lines[1]["actor"] is None  # no token
    assert (lines[2]["actor"], lines[2]["status"]) == (None, 401)  # a token that does not verify
    assert lines[3]["correlation_id"] == "trace-42"  # a caller's trace id is kept
    assert lines[4]["correlation_id"] != "Wang Xiaoming"  # words are not an id
    assert lines[5]["route"] == "unmatched"
    assert "p-123" not in logs.text
    assert "as_of" not in logs.text


async def test_a_refused_request_is_logged_with_its_route(logs: Captured) -> None:
    async with client() as c:
        response = await c.post(
            "/v1/rounds/r-1/raters",
            content=b'{"raters": [], "raters": []}',
            headers={"content-type": "application/json"},
        )
    assert response.status_code == 422
    [line] = logs.lines("request")
    assert (line["route"], line["status"], line["method"]) == (
        "/v1/rounds/{round_id}/raters",
        422,
        "POST",
    )
    assert line["correlation_id"] == response.headers["x-correlation-id"]


async def test_an_unhandled_error_is_answered_500_and_logged_once_with_its_traceback(
    logs: Captured, capsys: pytest.CaptureFixture[str]
) -> None:
    async with client() as c:
        response = await c.get("/v1/things/t-1", headers={"Authorization": f"Bearer {token()}"})
    assert response.status_code == 500
    assert response.json()["type"] == "urn:gongkai:problem:internal-error"
    [line] = logs.lines()  # the request's line is the error's
    assert (line["event"], line["level"], line["status"]) == ("request", "error", 500)
    assert (line["route"], line["actor"]) == ("/v1/things/{thing_id}", SUBJECT)
    assert line["correlation_id"] == response.headers["x-correlation-id"]
    assert "Traceback" in line["exception"]
    assert "RuntimeError: the disk is on fire" in line["exception"]
    assert logs.text.count("Traceback") == 1
    # nor does it go on to the server (uvicorn would log it again; httpx's transport, which
    # raises what an app raises, would fail the request) or anywhere else
    assert "Traceback" not in capsys.readouterr().err


async def test_no_token_name_phone_or_grade_reaches_a_log_line(logs: Captured) -> None:
    secret = token()
    auth = {"Authorization": f"Bearer {secret}"}
    body = {"raters": [{"name": NAME, "phone": PHONE}], "grades": {"b-1": GRADE}}
    query = {"name": NAME, "phone": PHONE, "grade": GRADE}
    async with client() as c:
        registered = await c.post("/v1/rounds/r-1/raters", json=body, params=query, headers=auth)
        invalid = await c.post(
            "/v1/rounds/r-1/raters",
            json={"raters": [{"name": NAME, "phone": 13812345678}], "grades": {"b-1": GRADE}},
            headers=auth,
        )
        unknown = await c.get(f"/v1/people/{NAME}", params=query, headers=auth)
        failed = await c.get("/v1/people/rt-1/count", params={"name": NAME}, headers=auth)
        refused = await c.post(
            "/v1/rounds/r-1/raters",
            content=json.dumps({"raters": [], "grades": {}, "phone": PHONE}).encode() * 2,
            headers=auth | {"content-type": "application/json"},
        )
    statuses = [r.status_code for r in (registered, invalid, unknown, failed, refused)]
    assert statuses == [201, 422, 404, 500, 422]
    assert len(logs.lines("request")) == 5
    assert "Traceback" in logs.lines("request")[3]["exception"]
    for value in (secret, secret.split(".")[1], NAME, PHONE, GRADE, "Bearer"):
        assert value not in logs.text, value
    assert json.dumps(NAME).strip('"') not in logs.text  # nor escaped


def test_what_errors_quote_is_cut_out_of_the_text() -> None:
    pydantic = (
        "1 validation error for Strict\ncount\n  Input should be a valid integer"
        " [type=int_type, input_value='王小明', input_type=str]"
    )
    assert NAME not in scrub_text(pydantic)
    assert "input_type=str" in scrub_text(pydantic)
    asyncpg = "invalid input for query argument $2: '13812345678' (expected str, got int)"
    assert PHONE not in scrub_text(asyncpg)
    assert "(expected str" in scrub_text(asyncpg)
    postgres = "Key (phone)=(13812345678) already exists."
    assert scrub_text(postgres) == "Key (phone)=([redacted]) already exists."
    smtp = "550 5.1.1 <wang.xm+1@example.com.cn>: mailbox unavailable; sms to +86 138-1234-5678"
    assert scrub_text(smtp) == "550 5.1.1 <[redacted]>: mailbox unavailable; sms to [redacted]"
    assert scrub_text("id 11010519491231002X, phone 13812345678.") == (
        "id [redacted], phone [redacted]."
    )
    kept = "event 3f2a1b4c-1381-2345-6789-013812345678 at sequence 13812345678901"
    assert scrub_text(kept) == kept  # ids and counts are not people
    bearer = f"sent Authorization: Bearer {token()} and {token()}"
    assert "eyJ" not in scrub_text(bearer)


def test_a_key_that_names_personal_data_is_redacted(logs: Captured) -> None:
    structlog.get_logger().info(
        "careless", name=NAME, phone=PHONE, grades={"b": GRADE}, rater={"Phone": PHONE}
    )
    [line] = logs.lines("careless")
    assert (line["name"], line["phone"], line["grades"]) == ("[redacted]",) * 3
    assert line["rater"] == {"Phone": "[redacted]"}


def test_production_logs_json_unless_told_otherwise(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GONGKAI_LOG_JSON", raising=False)
    monkeypatch.delenv("GONGKAI_ENVIRONMENT", raising=False)
    jwks = {"jwks_url": "https://id.example/jwks.json"}
    assert ServiceSettings(environment="production", **jwks).log_json is True
    assert ServiceSettings(environment="production", log_json=False, **jwks).log_json is False
    assert ServiceSettings(**jwks).log_json is False
    assert ServiceSettings(log_json=True, **jwks).log_json is True


class Said(DomainEvent):
    aggregate_type = "thing"
    words: str


def an_envelope(sequence: int = 1) -> EventEnvelope:
    request = AppendRequest(
        "thing-1", "t-a", sequence - 1, [Said(words=NAME)], CommandContext("m-1", "member")
    )
    draft = draft_event(
        source="/gongkai/test",
        request=request,
        index=0,
        event=request.events[0],
        now=datetime(2027, 1, 4, 2, 0, tzinfo=UTC),
    )
    return draft.seal(sequence, "00" * 32, chain_hash("00" * 32, sequence, draft.body))


class Unreachable:
    """A broker that takes the message and never acknowledges it."""

    async def publish_async(self, subject: str, payload: bytes, **_: Any) -> Any:
        future = asyncio.get_running_loop().create_future()
        future.set_exception(ConnectionError("no responders available for request"))
        return future


class Database:
    """What the relay and the runner ask of PostgreSQL, answered as a fresh database would."""

    def __init__(self, rows: list[Any] = ()) -> None:  # type: ignore[assignment]
        self.rows = rows
        self.executed: list[tuple[Any, ...]] = []

    async def fetch(self, query: str, *args: Any) -> list[Any]:
        return self.rows if "LATERAL" in query else []

    async def fetchval(self, query: str, *args: Any) -> Any:
        return 0 if "consumer_positions" in query else True  # nothing consumed; kept

    async def execute(self, *args: Any) -> None:
        self.executed.append(args)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[None]:
        yield

    @asynccontextmanager
    async def acquire(self) -> AsyncIterator[Database]:
        yield self


async def test_a_relay_publish_failure_names_the_event_not_its_payload(
    logs: Captured, monkeypatch: pytest.MonkeyPatch
) -> None:
    envelope = an_envelope()
    monkeypatch.setattr("shared.relay.decode_row", lambda row: row)
    db = Database([envelope])
    relay = OutboxRelay(db, Unreachable(), service="pledge", subjects=Subjects("t"))  # type: ignore[arg-type]
    with pytest.raises(ConnectionError):
        await relay.publish_pending(db)  # type: ignore[arg-type]
    [line] = logs.lines("relay_publish_failed")
    assert line["level"] == "warning"
    assert {k: line[k] for k in ("event_id", "event_type", "partition", "sequence")} == {
        "event_id": envelope.id,
        "event_type": "Said",
        "partition": "t-a",
        "sequence": 1,
    }
    assert "no responders" in line["error"]
    assert NAME not in logs.text


class Message:
    def __init__(self, envelope: EventEnvelope) -> None:
        self.headers = envelope.headers() | {"Nats-Msg-Id": envelope.id}
        self.data = envelope.data_bytes()
        self.subject = Subjects("t").of("pledge", envelope)
        self.acked = False

    async def ack(self) -> None:
        self.acked = True

    async def nak(self, delay: float | None = None) -> None:
        raise AssertionError("not redelivered: parked")


async def test_a_consumer_failure_names_the_event_and_logs_the_traceback(
    logs: Captured,
) -> None:
    async def failing(conn: Any, envelope: EventEnvelope) -> None:
        raise KeyError("branch_id")

    envelope = an_envelope()
    runner = SubscriptionRunner(
        Database(),  # type: ignore[arg-type]
        None,  # type: ignore[arg-type]
        Subscription("notification", "pledge", failing),
        Subjects("t"),
        attempts=2,
    )
    message = Message(envelope)
    await runner.handle(message)  # type: ignore[arg-type]
    assert message.acked  # parked, not retried forever
    named = {"event_id": envelope.id, "event_type": "Said", "partition": "t-a", "sequence": 1}
    attempts = logs.lines("message_handling_failed")
    assert [line["attempt"] for line in attempts] == [1, 2]
    [parked] = logs.lines("message_parked")
    for line in [*attempts, parked]:
        assert {k: line[k] for k in named} == named
        assert line["correlation_id"] == envelope.correlationid
    assert parked["level"] == "error"
    assert "Traceback" in parked["exception"]
    assert "KeyError: 'branch_id'" in parked["exception"]
    assert NAME not in logs.text  # the payload is not logged
