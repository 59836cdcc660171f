"""Durable consumers named with their source (the review service's consumers of the pledge
and identity streams were both `review-any-any`: one lag metric, one lease for two). A
deployment that ran the version before the rename is taken over where it stood: the new
consumer starts after what the former one had acknowledged, nothing of the stream's history
is delivered again, and the former one is deleted. Real NATS and PostgreSQL."""

from __future__ import annotations

import asyncio

import asyncpg
import pytest
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy
from nats.js.errors import NotFoundError

from services.review.policies import subscriptions
from shared.envelope import EventEnvelope
from shared.messaging import Subjects
from shared.subscriptions import Subscription, SubscriptionRunner
from tests.e2e.helpers import eventually
from tests.integration.source import Source
from tests.support import Servers, fresh_log_database


def test_the_review_services_consumers_have_names_of_their_own() -> None:
    names = [
        SubscriptionRunner(None, None, s, Subjects()).durable  # type: ignore[arg-type]
        for s in subscriptions()
    ]
    assert names == ["review-pledge-any-any", "review-identity-any-any"]


async def test_a_renamed_consumer_goes_on_where_the_former_one_stood(servers: Servers) -> None:
    pool, _ = await fresh_log_database(
        servers, owner_sql="CREATE TABLE effects (event_id text PRIMARY KEY)"
    )
    source = await Source.on(servers)
    js, stream = source.js, source.subjects.stream("source")
    delivered: list[str] = []

    async def effect(conn: asyncpg.Connection, envelope: EventEnvelope) -> None:
        delivered.append(envelope.id)
        await conn.execute("INSERT INTO effects VALUES ($1)", envelope.id)

    async def effects(count: int) -> bool:
        return bool(await pool.fetchval("SELECT count(*) FROM effects") == count)

    runner = SubscriptionRunner(pool, js, Subscription("tester", "source"), source.subjects)
    runner.project = effect
    assert (runner.former_durable, runner.durable) == ("tester-any-any", "tester-source-any-any")

    # the version before: its runner, under the former name, applied the first 6
    with pytest.MonkeyPatch.context() as before:
        before.setattr(SubscriptionRunner, "durable", property(lambda r: r.former_durable))
        for _ in range(6):
            await source.publish(await source.note("旧"))
        task = asyncio.create_task(runner.run())
        await eventually(lambda: effects(6), timeout=20)
        runner.stop()
        await task
    former = await js.consumer_info(stream, "tester-any-any")
    assert former.ack_floor.stream_seq == 6
    # an unrelated consumer of that name elsewhere is not touched: another stream's
    other = await Source.on(servers)
    config = ConsumerConfig(
        durable_name="tester-any-any",
        ack_policy=AckPolicy.EXPLICIT,
        deliver_policy=DeliverPolicy.ALL,
        filter_subject=other.subjects.matching("source"),
    )
    await other.js.add_consumer(other.subjects.stream("source"), config)

    # upgraded: 4 more, a new runner under the new name
    for _ in range(4):
        await source.publish(await source.note("新"))
    delivered.clear()
    renamed = SubscriptionRunner(pool, js, Subscription("tester", "source"), source.subjects)
    renamed.project = effect
    task = asyncio.create_task(renamed.run())
    try:
        await eventually(lambda: effects(10), timeout=20)
        assert len(delivered) == 4  # the history was not delivered again
        info = await js.consumer_info(stream, "tester-source-any-any")
        assert (info.delivered.stream_seq, info.delivered.consumer_seq) == (10, 4)
        with pytest.raises(NotFoundError):
            await js.consumer_info(stream, "tester-any-any")  # the former one deleted
        await other.js.consumer_info(other.subjects.stream("source"), "tester-any-any")
        # started again: it keeps the start it was made with (NATS refuses to change it)
        renamed.stop()
        await task
        renamed = SubscriptionRunner(pool, js, Subscription("tester", "source"), source.subjects)
        renamed.project = effect
        task = asyncio.create_task(renamed.run())
        await source.publish(await source.note("再"))
        await eventually(lambda: effects(11), timeout=20)
        assert len(delivered) == 5
    finally:
        renamed.stop()
        await task
        await other.nc.close()
        await source.nc.close()
        await pool.close()
