"""X2: another government system subscribes with its own NATS user, which may only read:
it replays every event from the beginning and from a given time, each message valid against
the published AsyncAPI schemas, it finds the same facts the public releases feed shows, and it
cannot publish into the services' subjects. E3: listening to everything it may while the
services fetch ballots, it hears none."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import nats
import nats.errors
import pytest
from nats.js import JetStreamContext
from nats.js.api import ConsumerConfig, DeliverPolicy

from services.evaluation.app import DEFINITION as EVALUATION
from services.notification.app import DEFINITION as NOTIFICATION
from services.pledge.app import DEFINITION as PLEDGE
from shared.clock import FixedClock
from shared.embedded import EmbeddedNats
from shared.envelope import EventEnvelope
from shared.messaging import Subjects, ensure_stream
from tests.e2e.evaluation_helpers import START, directory_copied, round_of_members
from tests.e2e.helpers import Directory, eventually, ok
from tests.e2e.notification_helpers import publish_pledge
from tests.support import RunningService, Servers, running
from tests.unit.test_contract import message_validator

DOCUMENT = Path(__file__).parents[2] / "docs" / "asyncapi.json"
ARCHIVE_INBOX = "_INBOX_archive"  # the subscribing system's own reply subjects


@pytest.fixture
async def secured(servers: Servers, tmp_path: Path) -> AsyncIterator[tuple[EmbeddedNats, str]]:
    """The embedded broker, with the deployed users (deploy/nats-accounts.conf) as the
    embedded default loads them: the services' user, and `archive`, the example of a
    subscribing system's read-only user."""
    server = EmbeddedNats(tmp_path / "nats")
    server.start()
    try:
        yield server, server.url
    finally:
        server.stop()


async def as_archive(server: EmbeddedNats, **options: Any) -> nats.NATS:
    return await nats.connect(server.url_as("archive"), inbox_prefix=ARCHIVE_INBOX, **options)


async def test_a_subscribing_system_replays_validates_and_cannot_publish(
    servers: Servers,
    secured: tuple[EmbeddedNats, str],
) -> None:
    server, service_url = secured
    clock = FixedClock(datetime(2027, 1, 4, 2, 0, tzinfo=UTC))
    on_the_deployed_subjects = {"nats_url": service_url, "nats_subject_root": "gongkai"}
    async with running(
        servers, [PLEDGE, NOTIFICATION], clock, **on_the_deployed_subjects
    ) as services:
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

        document = json.loads(DOCUMENT.read_text(encoding="utf-8"))
        reader = await as_archive(server)
        try:
            js = reader.jetstream()
            everything = await _read(js, stream, pledge.subjects.all("pledge"), None)
            assert len(everything) == count
            for envelope in everything:
                key = f"pledge.{envelope.type}.v{envelope.schemaversion}"
                message_validator(document, key).validate(envelope.data)
            since = await _read(js, stream, pledge.subjects.all("pledge"), cut)
            assert [e.type for e in since] == ["MemberEnrolled"]
            facts = await _same_facts_as_the_releases_feed(services["notification"], everything)
            assert facts == (pledge_id, item_ids)

            # publishing into the services' subjects is refused, and nothing was added
            # (the server drops it as a permissions violation: no acknowledgement comes)
            with pytest.raises(nats.errors.TimeoutError):
                await js.publish(pledge.subjects.of("pledge", everything[0]), b"{}", timeout=2)
            assert (await js_service.stream_info(stream)).state.messages == count
            await _cannot_touch_what_is_not_its_own(reader, js_service, stream)
            await _reads_no_ballot(reader, js_service)
        finally:
            await reader.close()


async def test_listening_to_all_it_may_while_ballots_are_fetched_hears_no_ballot(
    servers: Servers, secured: tuple[EmbeddedNats, str]
) -> None:
    """E3: the notification service fetches every evaluation event, ballots included, for
    its board. The fetched messages travel to the fetching client's reply subject; with the
    client library's default prefix a subscriber listening on `_INBOX.>` heard every ballot.
    The subscribing system listens to everything it may try (and reads rounds through its own
    consumer meanwhile, so it demonstrably hears what reaches its inbox): not one ballot."""
    server, service_url = secured
    heard: list[tuple[str, bytes, dict[str, str]]] = []
    errors: list[str] = []

    async def keep(msg: nats.aio.msg.Msg) -> None:
        heard.append((msg.subject, msg.data, dict(msg.headers or {})))

    async def refused(error: Exception) -> None:
        errors.append(str(error))

    listener = await as_archive(server, error_cb=refused)
    for subject in (">", "_INBOX.>", "_INBOX_gongkai.>", "gongkai.>", f"{ARCHIVE_INBOX}.>"):
        await listener.subscribe(subject, cb=keep)
    await listener.flush()
    reader = await as_archive(server)
    clock = FixedClock(START)
    try:
        async with running(
            servers,
            [PLEDGE, EVALUATION, NOTIFICATION],
            clock,
            nats_url=service_url,
            nats_subject_root="gongkai",
        ) as services:
            pledge, evaluation = services["pledge"], services["evaluation"]
            d = await Directory(pledge.client, servers).build()
            await directory_copied(evaluation, d)
            e = evaluation.client
            path = await round_of_members(evaluation, d)
            for voter, grade in ((d.member, "dissatisfied"), (d.secretary, "satisfied")):
                headers = d.as_("member", d.branch, voter)
                vote = {"grades": {d.branch: grade}}
                ok(await e.post(f"{path}/ballots", json=vote, headers=headers), 201)
            js = evaluation.runtime.js
            assert js is not None
            stream = evaluation.subjects.stream("evaluation")
            count = await evaluation.runtime.pool.fetchval("SELECT count(*) FROM events")

            async def fetched_and_acknowledged() -> bool:
                info = await js.consumer_info(stream, "notification-evaluation-any-any")
                return bool(info.ack_floor.stream_seq == count and info.num_pending == 0)

            await eventually(fetched_and_acknowledged, timeout=30)
            rounds = reader.jetstream(timeout=2)
            await rounds.add_consumer(
                stream, config=_consumer("archive", "gongkai.evaluation.*.round.>")
            )
            sub = await rounds.pull_subscribe_bind(durable="archive", stream=stream)
            read = await sub.fetch(10, timeout=2)
            assert "RoundOpened" in {m.headers["ce-type"] for m in read if m.headers}
            await sub.unsubscribe()
        await listener.flush()
    finally:
        await reader.close()
        await listener.close()
    assert any(subject.startswith(f"{ARCHIVE_INBOX}.") for subject, _, _ in heard), heard
    ballots = [
        (subject, data)
        for subject, data, headers in heard
        if b'"grades":{' in data  # a ballot's choices (a round's scale lists its grades)
        or "ballot" in subject.lower()
        or "Ballot" in headers.get("ce-type", "")
    ]
    assert ballots == []
    assert any("permissions violation" in error.lower() for error in errors), errors


def _consumer(name: str, subject: str | None = None) -> ConsumerConfig:
    return ConsumerConfig(name=name, durable_name=name, filter_subject=subject)


async def _refused(attempt: Awaitable[object]) -> None:
    """The server drops a request its permissions forbid: no answer ever comes."""
    with pytest.raises(nats.errors.TimeoutError):
        await attempt


async def _cannot_touch_what_is_not_its_own(
    reader: nats.NATS, js_service: JetStreamContext, stream: str
) -> None:
    """No message by number, no counts, no unfiltered consumer, no consumer under another
    name, and the services' own consumers are out of its reach."""
    js = reader.jetstream(timeout=1)
    theirs = [c.name for c in await js_service.consumers_info(stream)]
    assert theirs, "the notification service reads the pledge stream"
    await _refused(js.get_msg(stream, 1))
    # nor the stream's or the account's counts (per subject: ballots per township, and when)
    await _refused(js.stream_info(stream, subjects_filter="gongkai.>"))
    await _refused(js.account_info())
    await _refused(js.add_consumer(stream, config=_consumer("archive")))
    await _refused(js.add_consumer(stream, config=_consumer(theirs[0], "gongkai.pledge.>")))
    await _refused(js.delete_consumer(stream, theirs[0]))
    assert [c.name for c in await js_service.consumers_info(stream)] == theirs


async def _reads_no_ballot(reader: nats.NATS, js_service: JetStreamContext) -> None:
    """E3: ballots (what was chosen) are never in a subscribing system's reach, whatever
    filter it tries; the round's events (who took part, the results) are."""
    subjects = Subjects()
    await ensure_stream(js_service, "evaluation", subjects)
    stream = subjects.stream("evaluation")
    for aggregate in ("ballot_box", "satisfaction_ballots", "round"):
        await js_service.publish(f"gongkai.evaluation.t-x.{aggregate}.Cast", b"{}")
    js = reader.jetstream(timeout=1)
    for subject in (
        "gongkai.evaluation.>",
        "gongkai.evaluation.*.ballot_box.>",
        "gongkai.evaluation.t-x.ballot_box.Cast",
        "gongkai.evaluation.*.satisfaction_ballots.>",
        "gongkai.>",
    ):
        await _refused(js.add_consumer(stream, config=_consumer("archive", subject)))
    await js.add_consumer(stream, config=_consumer("archive", "gongkai.evaluation.*.round.>"))
    sub = await js.pull_subscribe_bind(durable="archive", stream=stream)
    [message] = await sub.fetch(1, timeout=2)
    assert message.subject == "gongkai.evaluation.t-x.round.Cast"
    await sub.unsubscribe()


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
    """Through a consumer of the system's own name, filtered by subject (its permissions)."""
    config = ConsumerConfig(
        name="archive",
        durable_name="archive",
        filter_subject=subject,
        deliver_policy=DeliverPolicy.BY_START_TIME if since else DeliverPolicy.ALL,
        opt_start_time=since.isoformat().replace("+00:00", "Z") if since else None,
    )
    await js.add_consumer(stream, config=config)
    sub = await js.pull_subscribe_bind(durable="archive", stream=stream)
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
        await js.delete_consumer(stream, "archive")
