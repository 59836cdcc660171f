"""The handler tests' stand-in for the notification service's read models
(tests/support/notification.py) holds to the real port (`queries.PostgresRecords`): the
service running on PostgreSQL and NATS, fed the pledge and evaluation services' events by
stand-ins publishing them as those services do, its own events appended by the real handlers;
the same events, own and consumed, into the port in memory; the same answers out of both."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, date, datetime

import asyncpg
import pytest
from nats.js.api import Header

from services.evaluation.rounds import events as ev
from services.notification import commands as c
from services.notification import handlers as h
from services.notification.app import DEFINITION
from services.notification.events import ChannelKind, Deadline, DeadlineKind, NoticeKind
from services.notification.queries import PostgresRecords
from services.pledge import events as p
from shared.auth import Principal, Role
from shared.clock import FixedClock
from shared.events import DomainEvent
from shared.eventstore import AppendRequest, CommandContext, InMemoryEventStore
from shared.messaging import connect, ensure_stream
from shared.unit_of_work import UnitOfWork
from tests.e2e.helpers import eventually
from tests.support import RunningService, Servers, running
from tests.support.notification import MemoryRecords

START = datetime(2027, 2, 10, 2, 0, tzinfo=UTC)
ADMIN = Principal(subject="admin-c1", role=Role.COUNTY_ADMIN, org="c1", name="管理员")


class StandIn:
    """Appends to a hash-chained in-memory log and publishes on `source`'s stream."""

    def __init__(self, service: RunningService, source: str, published: list[int]) -> None:
        self.service = service
        self.source = source
        self.store = InMemoryEventStore(source=f"/gongkai/{source}", clock=service.clock)
        self.versions: dict[str, int] = {}
        self.published = published  # shared by the stand-ins: what the inbox must hold

    async def emit(self, stream: str, partition: str, *events: DomainEvent) -> None:
        version = self.versions.get(stream, 0)
        stored = await self.store.append(
            AppendRequest(stream, partition, version, list(events), CommandContext("x", "r"))
        )
        self.versions[stream] = version + len(events)
        nc = await connect(self.service.settings.nats_url, name=f"{self.source}-stand-in")
        try:
            js = nc.jetstream()
            subjects = self.service.subjects
            await ensure_stream(js, self.source, subjects)
            for envelope in stored:
                await js.publish(
                    subjects.of(self.source, envelope),
                    envelope.data_bytes(),
                    headers=envelope.headers() | {Header.MSG_ID: envelope.id},
                )
        finally:
            await nc.close()
        self.published[0] += len(stored)

        async def arrived() -> bool:
            kept = await self.service.runtime.pool.fetchval("SELECT count(*) FROM inbox")
            return bool(kept == self.published[0])

        await eventually(arrived)


@pytest.fixture
async def notification(servers: Servers) -> AsyncIterator[RunningService]:
    async with running(servers, [DEFINITION], FixedClock(START)) as services:
        yield services["notification"]


async def test_the_records_in_memory_answer_as_the_read_models_in_postgresql(
    notification: RunningService,
) -> None:
    service = notification
    published = [0]
    pledge = StandIn(service, "pledge", published)
    evaluation = StandIn(service, "evaluation", published)
    await pledge.emit("county-c1", "c1", p.CountyEstablished(county_id="c1", name="民勤县"))
    await pledge.emit(
        "county-c1",
        "c1",
        p.PledgeCalendarSet(county_id="c1", year=2027, drafting_deadline=date(2027, 3, 20)),
    )
    await evaluation.emit(
        "calendar-c1-2027",
        "c1",
        ev.EvaluationCalendarSet(
            county_id="c1",
            year=2027,
            first_round_closes=date(2027, 7, 12),
            second_round_closes=date(2028, 1, 8),
        ),
    )
    for township, county in (("t1", "c1"), ("t2", "c1"), ("t3", "c2")):
        await pledge.emit(
            f"township-{township}",
            township,
            p.TownshipEstablished(township_id=township, county_id=county, name=township),
        )
    for branch, township in (("b1", "t1"), ("b2", "t1"), ("b3", "t2")):
        await pledge.emit(
            f"branch-{branch}",
            township,
            p.BranchEstablished(
                branch_id=branch, township_id=township, county_id="c1", name=branch, kind="village"
            ),
        )
    for member, branch, leader in (("s1", "b1", True), ("m1", "b1", False), ("m2", "b2", False)):
        await pledge.emit(
            f"member-{member}",
            "t1",
            p.MemberEnrolled(
                member_id=member,
                branch_id=branch,
                township_id="t1",
                name=f"党员{member}",
                post="党员",
                duties="参加组织生活",
                leadership_team=leader,
            ),
        )
    await pledge.emit("branch-b1", "t1", p.BranchSecretaryAppointed(branch_id="b1", member_id="s1"))
    await pledge.emit("member-m2", "t1", p.MemberRetired(member_id="m2", reason="退休"))

    # the service's own events, by the real handlers on PostgreSQL
    executor = service.runtime.executor
    context = CommandContext(actor=ADMIN.subject, role=ADMIN.role.value)

    async def register(township: str | None, types: tuple[str, ...]) -> str:
        cmd = c.RegisterChannel(
            county_id="c1",
            township_id=township,
            kind=ChannelKind.WEBHOOK,
            name="值班",
            target="https://hooks.example.cn/x",
            release_types=types,
        )
        answer = await executor.execute(
            lambda uow: h.register_channel(uow, cmd, ADMIN), context=context
        )
        return str(answer["id"])

    county_wide = await register(None, ("bulletin", "reminder"))
    own = await register("t1", ("bulletin",))
    await register("t2", ("bulletin", "review"))
    retired = await register(None, ("bulletin",))
    await executor.execute(lambda uow: h.retire_channel(uow, retired, ADMIN), context=context)
    deadline = Deadline(
        deadline_id="quarterly_review-2027Q1",
        kind=DeadlineKind.QUARTERLY_REVIEW,
        title="第1季度点评",
        due_on=date(2027, 3, 31),
        remind_days_before=7,
        period="2027Q1",
    )

    async def notices(uow: UnitOfWork) -> None:
        recipients = [("s1", "党员m1"), ("township_office:t1", "b2")]
        await h.issue_notices(uow, "c1", "t1", deadline, NoticeKind.REMINDER, recipients)

    await executor.execute(notices, context=context)
    bulletin = c.IssueBulletin(title="专项督查")
    await executor.execute(
        lambda uow: h.issue_adhoc_bulletin(uow, "t1", bulletin, ADMIN), context=context
    )

    memory = MemoryRecords()
    for envelope in [*pledge.store.log, *evaluation.store.log]:
        memory.apply(envelope)
    own_log = [e async for _, e in service.runtime.store.read_all()]
    for envelope in own_log:
        memory.apply(envelope)
    notice_ids = [e.data["notice_id"] for e in own_log if e.type == "NoticeIssued"]
    [release_id] = [e.id for e in own_log if e.type == "BulletinIssued"]
    assert len(notice_ids) == 2  # the test can fail
    assert memory.channels[retired].active is False

    async with service.runtime.pool.acquire() as conn:
        real = PostgresRecords(conn)
        for township in ("t1", "t2", "t3", "t9"):
            found = await real.county_of_township(township)
            assert await memory.county_of_township(township) == found, township
        for county in ("c1", "c2", "c9"):
            assert await memory.county_exists(county) == await real.county_exists(county)
            for year in (2027, 2028):
                found_calendars = await real.owners_calendars(county, year)
                assert await memory.owners_calendars(county, year) == found_calendars
        assert await real.owners_calendars("c1", 2027) == (
            date(2027, 3, 20),
            (date(2027, 7, 12), date(2028, 1, 8)),
            None,
        )
        for notice_id in [*notice_ids, "n-none"]:
            assert await memory.notice(notice_id) == await real.notice(notice_id), notice_id
        for channel_id in (county_wide, own, retired, "ch-none"):
            found = await real.channel_county(channel_id)
            assert await memory.channel_county(channel_id) == found
        for release_type in ("bulletin", "reminder", "review", "overdue"):
            for township in ("t1", "t2", "t3", "t9"):
                found_channels = await real.subscribed_channels(release_type, township)
                assert await memory.subscribed_channels(release_type, township) == found_channels
        assert await real.subscribed_channels("bulletin", "t1") == sorted([county_wide, own])
        for township in ("t1", "t2", "t3"):
            for period in ("2027-02", "2027-02-10"):
                found_lines = await real.compile_branches(township, period, date(2027, 2, 10))
                assert (
                    await memory.compile_branches(township, period, date(2027, 2, 10))
                    == found_lines
                )
        assert len(await real.compile_branches("t1", "2027-02", date(2027, 2, 10))) == 2
        for asked in (release_id, own_log[0].id, "00000000-0000-0000-0000-000000000000"):
            assert await memory.release(asked) == await real.release(asked), asked
        assert await real.release(release_id) is not None

        # the secret beside the log: kept once per channel in both
        await real.keep_secret("ch-parity", "ops@example.cn", None)
        await memory.keep_secret("ch-parity", "ops@example.cn", None)
        row = await conn.fetchrow(
            "SELECT target, secret FROM public.channel_secrets WHERE channel_id = 'ch-parity'"
        )
        assert row is not None
        assert memory.secrets["ch-parity"] == (row["target"], row["secret"])
        with pytest.raises(asyncpg.UniqueViolationError):
            await real.keep_secret("ch-parity", "x@example.cn", None)
        with pytest.raises(ValueError, match="ch-parity"):
            await memory.keep_secret("ch-parity", "x@example.cn", None)
