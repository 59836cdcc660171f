"""X2: another government system subscribes with its own NATS user, which may only read:
it replays every event from the beginning and from a given time, each message valid against
the published AsyncAPI schemas, it finds the same facts the public releases feed shows, and it
cannot publish into the services' subjects."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import jsonschema
import nats
import nats.errors
import pytest
from nats.js.api import ConsumerConfig, DeliverPolicy

from services.notification.app import DEFINITION as NOTIFICATION
from services.pledge.app import DEFINITION as PLEDGE
from shared.clock import FixedClock
from shared.embedded import EmbeddedNats
from shared.envelope import EventEnvelope
from shared.testing import RunningService, Servers, running
from tests.e2e.helpers import Directory, eventually, ok
from tests.e2e.notification_helpers import publish_pledge

# The services' account, with a read-only user for subscribing systems: it may read streams
# and run its own consumers, but publish nothing into gongkai.> or the stream API.
ACCOUNTS = """
accounts {
  GONGKAI {
    jetstream: enabled
    users: [
      {user: service, password: service-secret}
      {user: subscriber, password: subscriber-secret, permissions: {
        publish: {allow: ["$JS.API.INFO", "$JS.API.STREAM.INFO.>", "$JS.API.STREAM.NAMES",
                          "$JS.API.STREAM.MSG.GET.>", "$JS.API.CONSUMER.CREATE.>",
                          "$JS.API.CONSUMER.INFO.>", "$JS.API.CONSUMER.MSG.NEXT.>",
                          "$JS.API.CONSUMER.DELETE.>", "$JS.ACK.>"]}
        subscribe: {allow: ["_INBOX.>"]}
      }}
    ]
  }
}
"""
DOCUMENT = Path(__file__).parents[2] / "docs" / "asyncapi.json"


@pytest.fixture
async def secured(servers: Servers, tmp_path: Path) -> AsyncIterator[tuple[EmbeddedNats, str]]:
    server = EmbeddedNats(tmp_path / "nats", extra_config=ACCOUNTS)
    server.start()
    try:
        yield server, f"nats://service:service-secret@127.0.0.1:{server.port}"
    finally:
        server.stop()


async def test_a_subscribing_system_replays_validates_and_cannot_publish(
    servers: Servers,
    secured: tuple[EmbeddedNats, str],
) -> None:
    server, service_url = secured
    clock = FixedClock(datetime(2027, 1, 4, 2, 0, tzinfo=UTC))
    async with running(servers, [PLEDGE, NOTIFICATION], clock, nats_url=service_url) as services:
        pledge: RunningService = services["pledge"]
        d = await Directory(pledge.client, servers).build()
        pledge_id, item_ids = await publish_pledge(pledge, d, ["村道硬化", "路灯安装"])
        stream = pledge.subjects.stream("pledge")
        assert pledge.runtime.js is not None
        js_service = pledge.runtime.js

        async def relayed_all() -> bool:
            count = await pledge.runtime.pool.fetchval("SELECT count(*) FROM events")
            return bool((await js_service.stream_info(stream)).state.messages == count)

        await eventually(relayed_all)
        cut = datetime.now(UTC)  # the broker stamps messages with its own clock
        await asyncio.sleep(0.05)
        ok(
            await pledge.client.post(
                "/v1/members",
                json={
                    "branch_id": d.branch,
                    "name": "王德明",
                    "post": "治沙造林责任岗",
                    "duties": "压沙",
                },
                headers=d.office,
            ),
            201,
        )
        await eventually(relayed_all)
        count = await pledge.runtime.pool.fetchval("SELECT count(*) FROM events")

        schemas = {
            key: message["payload"]
            for key, message in json.loads(DOCUMENT.read_text(encoding="utf-8"))["components"][
                "messages"
            ].items()
        }
        reader = await nats.connect(f"nats://subscriber:subscriber-secret@127.0.0.1:{server.port}")
        try:
            js = reader.jetstream()
            everything = await _read(js, stream, pledge.subjects.all("pledge"), None)
            assert len(everything) == count
            for envelope in everything:
                jsonschema.validate(envelope.data, schemas[f"pledge.{envelope.type}"])
            since = await _read(js, stream, pledge.subjects.all("pledge"), cut)
            assert [e.type for e in since] == ["MemberEnrolled"]
            facts = await _same_facts_as_the_releases_feed(services["notification"], everything)
            assert facts == (pledge_id, item_ids)

            # publishing into the services' subjects is refused, and nothing was added
            # (the server drops it as a permissions violation: no acknowledgement comes)
            with pytest.raises(nats.errors.TimeoutError):
                await js.publish(pledge.subjects.of("pledge", everything[0]), b"{}", timeout=2)
            assert (await js_service.stream_info(stream)).state.messages == count
        finally:
            await reader.close()


async def _same_facts_as_the_releases_feed(
    notification: RunningService, events: list[EventEnvelope]
) -> tuple[str, list[str]]:
    """Every release is an event the subscriber read, saying the same things."""
    releases: list[dict] = []  # type: ignore[type-arg]

    async def released() -> bool:
        releases[:] = ok(await notification.client.get("/v1/releases"))["releases"]
        return bool(releases)

    await eventually(released)
    by_id = {e.id: e for e in events}
    [published] = releases
    event = by_id[published["id"]]
    assert (published["type"], event.type) == ("pledge_published", "PledgePublished")
    assert published["township_id"] == event.partition
    assert datetime.fromisoformat(published["time"]) == event.time
    card = published["content"]
    assert card["pledge_id"] == event.data["pledge_id"]
    assert card["letter_no"] == event.data["letter_no"]
    assert [i["item_id"] for i in card["items"]] == event.data["item_ids"]
    [proposed] = [e for e in events if e.type == "PledgeProposed"]
    titles = {i["item_id"]: i["title"] for i in proposed.data["items"]}
    assert {i["item_id"]: i["title"] for i in card["items"]} == titles
    return card["pledge_id"], event.data["item_ids"]


async def _read(js, stream: str, subject: str, since: datetime | None) -> list[EventEnvelope]:  # type: ignore[no-untyped-def]
    config = ConsumerConfig(
        deliver_policy=DeliverPolicy.BY_START_TIME if since else DeliverPolicy.ALL,
        opt_start_time=since.isoformat().replace("+00:00", "Z") if since else None,
    )
    sub = await js.pull_subscribe(subject, stream=stream, config=config)
    envelopes: list[EventEnvelope] = []
    try:
        while True:
            try:
                messages = await sub.fetch(100, timeout=1)
            except Exception:  # a fetch timeout: the stream is read to its end
                return envelopes
            for message in messages:
                envelopes.append(EventEnvelope.from_message(dict(message.headers), message.data))
                await message.ack()
    finally:
        await sub.unsubscribe()
