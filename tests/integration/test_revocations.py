"""Access ends at once (issue 16): identity publishes PostEnded on its stream, and a running
service refuses the token of that post within a second, with nothing appended; a process
that starts later learns it by replaying the identity stream."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime
from typing import ClassVar

from nats.js.api import Header

from services.pledge.app import DEFINITION as PLEDGE
from shared.clock import FixedClock
from shared.events import DomainEvent
from shared.eventstore import AppendRequest, CommandContext, InMemoryEventStore
from shared.messaging import Subjects, connect, ensure_stream
from shared.revocations import RevocationFeed, Revocations
from tests.e2e.helpers import event_count, ok
from tests.support import Servers, running


class PostEnded(DomainEvent):
    """The identity service's event as contract.md gives it (its stream, its subject)."""

    aggregate_type: ClassVar[str] = "person"
    person_id: str
    role: str
    org: str
    at: datetime
    reason: str


async def publish_as_identity(nats_url: str, subjects: Subjects, event: PostEnded) -> None:
    store = InMemoryEventStore(source="/gongkai/identity")
    [envelope] = await store.append(
        AppendRequest(
            f"person-{event.person_id}",
            "minqin",
            0,
            [event],
            CommandContext(actor="p-admin", role="county_admin"),
        )
    )
    nc = await connect(nats_url, name="identity-stand-in")
    try:
        js = nc.jetstream()
        await ensure_stream(js, "identity", subjects)
        await js.publish(
            subjects.of("identity", envelope),
            envelope.data_bytes(),
            headers=envelope.headers() | {Header.MSG_ID: envelope.id},
        )
    finally:
        await nc.close()


async def test_a_post_ended_by_identity_is_refused_at_once_by_a_running_service(
    servers: Servers,
) -> None:
    clock = FixedClock(datetime(2027, 1, 4, 2, 0, tzinfo=UTC))
    async with running(servers, [PLEDGE], clock) as services:
        pledge = services["pledge"]
        admin = servers.auth("county_admin", "minqin", "p-admin")
        ok(
            await pledge.client.post(
                "/v1/counties", json={"county_id": "minqin", "name": "民勤县"}, headers=admin
            ),
            201,
        )
        assert (await pledge.client.get("/v1/pledges", headers=admin)).status_code == 200
        await pledge.runtime.broker_joined()
        feed = pledge.runtime.revocation_feed
        assert feed is not None
        # identity's stream appears after the service started: the service finds it
        nc = await connect(servers.nats.url, name="identity-stream")
        try:
            await ensure_stream(nc.jetstream(), "identity", pledge.subjects)
        finally:
            await nc.close()
        await asyncio.wait_for(feed.following.wait(), timeout=10)

        ended = PostEnded(
            person_id="p-admin",
            role="county_admin",
            org="minqin",
            at=datetime.now(UTC),
            reason="replaced",
        )
        await publish_as_identity(servers.nats.url, pledge.subjects, ended)
        published = time.monotonic()
        while (await pledge.client.get("/v1/pledges", headers=admin)).status_code != 401:
            assert time.monotonic() - published < 1.0, "still accepted a second later"
            await asyncio.sleep(0.02)

        before = await event_count(pledge)
        refused = await pledge.client.post(
            "/v1/counties/minqin/townships", json={"name": "红沙梁镇"}, headers=admin
        )
        assert refused.status_code == 401
        assert refused.headers["content-type"] == "application/problem+json"
        assert refused.json()["detail"].startswith("访问权限已被撤销")
        assert await event_count(pledge) == before  # nothing appended
        # another hat of the same person, and the same post's holder in another county: fine
        other = servers.auth("county_admin", "other-county", "p-admin")
        assert (await pledge.client.get("/v1/pledges", headers=other)).status_code == 200

        # a process starting now learns it from the stream (replayed from now - lifetime)
        late = Revocations(window_seconds=600)
        nc = await connect(servers.nats.url, name="late-starter")
        try:
            replay = RevocationFeed(nc.jetstream(), pledge.subjects, late)
            task = asyncio.create_task(replay.run())
            try:
                while late.applied == 0:
                    await asyncio.sleep(0.02)
            finally:
                replay.stop()
                await asyncio.wait_for(task, timeout=5)
        finally:
            await nc.close()
        assert late.posts == {("p-admin", "county_admin", "minqin"): ended.at.timestamp()}
