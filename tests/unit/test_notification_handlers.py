"""Every command handler and the policy of the notification service, with no server: the real
handlers on the real unit of work, over an in-memory event store and the read models in
memory (tests/support/notification.py). Who may (N3-N5, X1), who gets 403, what is decided
(the events out) and what is refused with nothing appended. The e2e tests keep the HTTP and
PostgreSQL parts."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any, cast

import pytest

from services.notification import commands as c
from services.notification import handlers as h
from services.notification import queries
from services.notification.aggregates.delivery import BACKOFF
from services.notification.events import ChannelKind, Deadline, DeadlineKind, NoticeKind
from services.notification.policies import subscriptions
from shared.auth import Principal, Role
from shared.envelope import EventEnvelope
from shared.errors import Forbidden, InvalidInput, InvalidState, NotFound
from shared.eventstore import CommandContext
from shared.unit_of_work import CommandExecutor
from tests.support.memory import Memory
from tests.support.notification import Activity, MemoryRecords, notification_memory


def who(role: Role, org: str | None = None, subject: str | None = None) -> Principal:
    return Principal(subject=subject or f"{role.value}-{org}", role=role, org=org, name="某某")


ADMIN = who(Role.COUNTY_ADMIN, "c1")
OFFICE = who(Role.TOWNSHIP_OFFICE, "t1")
COMMITTEE = who(Role.TOWNSHIP_COMMITTEE, "t1")
ROLES: dict[str, Principal] = {
    "county administrator": ADMIN,
    "administrator of another county": who(Role.COUNTY_ADMIN, "c2"),
    "township office": OFFICE,
    "township committee": COMMITTEE,
    "office of another township": who(Role.TOWNSHIP_OFFICE, "t2"),
    "committee of another township": who(Role.TOWNSHIP_COMMITTEE, "t2"),
    "branch secretary": who(Role.BRANCH_SECRETARY, "b1", "s1"),
    "member": who(Role.MEMBER, "b1", "m1"),
    "rater": who(Role.RATER, "t1"),
    "auditor": who(Role.AUDITOR),
    "integration": who(Role.INTEGRATION),
    "public": who(Role.PUBLIC),
}


def world() -> tuple[Memory, MemoryRecords]:
    """County c1: townships t1 (branches b1 with secretary s1 and member m1, and b2) and t2
    (branch b3); county c2: township t3. Today 2027-06-15."""
    memory, records = notification_memory()
    records.counties |= {"c1", "c2"}
    d = records.directory
    d.township("t1", "c1")
    d.township("t2", "c1")
    d.township("t3", "c2")
    for branch, township in (("b1", "t1"), ("b2", "t1"), ("b3", "t2")):
        d.branch(branch, township)
    d.member("s1", "b1", leadership_team=True)
    d.secretary("b1", "s1")
    d.member("m1", "b1")
    return memory, records


def channel(
    kind: ChannelKind = ChannelKind.EMAIL,
    *,
    county: str = "c1",
    township: str | None = None,
    types: tuple[str, ...] = ("bulletin",),
    target: str | None = None,
    secret: str | None = None,
) -> c.RegisterChannel:
    default = "ops@example.cn" if kind is ChannelKind.EMAIL else "https://hooks.example.cn/x?key=k1"
    return c.RegisterChannel(
        county_id=county,
        township_id=township,
        kind=kind,
        name="值班",
        target=target or default,
        secret=secret,
        release_types=types,
    )


async def register(memory: Memory, cmd: c.RegisterChannel, by: Principal = ADMIN) -> str:
    answer = await h.register_channel(memory.as_(by), cmd, by)
    return str(answer["id"])


async def refused(memory: Memory, work: Any, error: type[Exception]) -> Exception:
    """Run as the API runs it: refused with `error`, nothing appended."""
    before = len(memory.events)
    with pytest.raises(error) as raised:
        await memory.execute(work, context=CommandContext(actor="x", role="x"))
    assert len(memory.events) == before
    return raised.value


def named(error: Exception) -> list[str]:
    """The fields an invalid-input problem names."""
    assert isinstance(error, InvalidInput)
    return [e["field"] for e in error.extra["errors"]]


DEADLINE = Deadline(
    deadline_id="quarterly_review-2027Q2",
    kind=DeadlineKind.QUARTERLY_REVIEW,
    title="第2季度点评",
    due_on=date(2027, 6, 30),
    remind_days_before=7,
    period="2027Q2",
)


# --- the calendar (N3, P6, E4) ---------------------------------------------------------


@pytest.mark.parametrize("role", ROLES)
async def test_only_the_countys_administrator_sets_its_calendar(role: str) -> None:
    memory, _ = world()
    principal = ROLES[role]
    cmd = c.SetCalendar()
    if role == "county administrator":
        answer = await h.set_calendar(memory.as_(principal), "c1", 2027, cmd, principal)
        assert answer["events"] == ["CalendarSet"]
        assert memory.events[0].streamid == "calendar-c1-2027"
    else:
        await refused(
            memory, lambda uow: h.set_calendar(uow, "c1", 2027, cmd, principal), Forbidden
        )


async def test_the_default_calendar_follows_the_owners_dates() -> None:
    memory, records = world()
    records.drafting[("c1", 2027)] = date(2027, 3, 20)
    records.rounds[("c1", 2027)] = (date(2027, 7, 12), date(2028, 1, 8))
    await h.set_calendar(memory.as_(ADMIN), "c1", 2027, c.SetCalendar(), ADMIN)
    due = {d["deadline_id"]: d["due_on"] for d in memory.events[0].data["deadlines"]}
    assert due["drafting-2027"] == "2027-03-20"
    assert due["evaluation_round-2027H1"] == "2027-07-12"
    assert due["evaluation_round-2027H2"] == "2028-01-08"
    assert due["quarterly_review-2027Q1"] == "2027-03-31"


async def test_a_calendar_that_moves_an_owned_date_or_repeats_a_deadline_is_refused() -> None:
    memory, records = world()
    records.drafting[("c1", 2027)] = date(2027, 3, 20)

    def calendar(*due: tuple[DeadlineKind, str, date]) -> c.SetCalendar:
        return c.SetCalendar.model_validate(
            {
                "deadlines": [
                    {"kind": k, "period": p, "title": "截止", "due_on": d.isoformat()}
                    for k, p, d in due
                ]
            }
        )

    moved = calendar((DeadlineKind.DRAFTING, "2027", date(2027, 3, 15)))  # the default, not c1's
    error = await refused(
        memory, lambda uow: h.set_calendar(uow, "c1", 2027, moved, ADMIN), InvalidInput
    )
    assert named(error) == ["deadlines.0.due_on"]
    twice = calendar(
        (DeadlineKind.SELECTION, "2027", date(2027, 7, 1)),
        (DeadlineKind.SELECTION, "2027", date(2027, 7, 2)),
    )
    error = await refused(
        memory, lambda uow: h.set_calendar(uow, "c1", 2027, twice, ADMIN), InvalidInput
    )
    assert named(error) == ["deadlines"]
    kept = calendar((DeadlineKind.DRAFTING, "2027", date(2027, 3, 20)))
    await h.set_calendar(memory.as_(ADMIN), "c1", 2027, kept, ADMIN)
    assert memory.types() == ["CalendarSet"]


async def test_the_calendar_of_an_unknown_county_is_not_found() -> None:
    memory, _ = world()
    admin = who(Role.COUNTY_ADMIN, "c9")
    await refused(
        memory, lambda uow: h.set_calendar(uow, "c9", 2027, c.SetCalendar(), admin), NotFound
    )


# --- notices (N3) ------------------------------------------------------------------------


async def test_notices_are_issued_once_per_recipient_with_their_deliveries() -> None:
    memory, _ = world()
    reminders = await register(memory, channel(types=("reminder",)))
    await register(memory, channel(types=("overdue",)))
    recipients = [("s1", "m1同志"), ("township_office:t1", "b2支部")]
    unit = memory.unit()
    await h.issue_notices(unit, "c1", "t1", DEADLINE, NoticeKind.REMINDER, recipients)
    issued = [e for e in memory.events if e.type == "NoticeIssued"]
    assert [e.data["recipient"] for e in issued] == ["s1", "township_office:t1"]
    assert {e.streamid for e in issued} == {"deadline-c1-quarterly_review-2027Q2-t1"}
    scheduled = [e.data for e in memory.events if e.type == "DeliveryScheduled"]
    assert [d["channel_id"] for d in scheduled] == [reminders, reminders]
    assert [d["release_type"] for d in scheduled] == ["reminder", "reminder"]
    assert scheduled[0]["content"]["recipient"] == "s1"
    before = len(memory.events)
    await h.issue_notices(memory.unit(), "c1", "t1", DEADLINE, NoticeKind.REMINDER, recipients)
    assert len(memory.events) == before  # issued before: nothing again
    await h.issue_notices(memory.unit(), "c1", "t1", DEADLINE, NoticeKind.OVERDUE, recipients[:1])
    assert memory.types(before) == ["NoticeIssued", "DeliveryScheduled"]


async def test_a_notice_is_marked_read_by_its_recipient_or_its_office_only() -> None:
    memory, records = world()
    recipients = [("s1", "m1同志"), ("township_office:t1", "b2支部")]
    await h.issue_notices(memory.unit(), "c1", "t1", DEADLINE, NoticeKind.REMINDER, recipients)
    to_s1, to_office = (e.data["notice_id"] for e in memory.events if e.type == "NoticeIssued")
    secretary = who(Role.BRANCH_SECRETARY, "b1", "s1")
    for other in (who(Role.BRANCH_SECRETARY, "b1", "s2"), OFFICE, ADMIN):
        await refused(memory, lambda uow, p=other: h.mark_read(uow, to_s1, p), Forbidden)
    await refused(memory, lambda uow: h.mark_read(uow, to_office, secretary), Forbidden)
    before = len(memory.events)
    await h.mark_read(memory.as_(secretary), to_s1, secretary)
    await h.mark_read(memory.as_(OFFICE), to_office, OFFICE)
    assert memory.types(before) == ["NoticeRead", "NoticeRead"]
    await h.mark_read(memory.as_(secretary), to_s1, secretary)
    assert len(memory.events) == before + 2  # read once
    await refused(memory, lambda uow: h.mark_read(uow, "n-none", secretary), NotFound)
    assert records.notices[to_s1].township_id == "t1"


# --- channels (N5) -------------------------------------------------------------------------


CHANNEL_MAY = {
    # county-wide: the county's administrator only
    (None, "county administrator"),
    # a township's: its office or the county's administrator
    ("t1", "county administrator"),
    ("t1", "township office"),
}


@pytest.mark.parametrize("township", [None, "t1"])
@pytest.mark.parametrize("role", ROLES)
async def test_who_registers_a_channel(township: str | None, role: str) -> None:
    memory, records = world()
    principal = ROLES[role]
    cmd = channel(township=township)
    if (township, role) in CHANNEL_MAY:
        channel_id = await register(memory, cmd, principal)
        assert memory.types() == ["ChannelRegistered"]
        assert records.secrets[channel_id] == ("ops@example.cn", None)
    else:
        await refused(memory, lambda uow: h.register_channel(uow, cmd, principal), Forbidden)
        assert records.secrets == {}


async def test_a_channel_of_a_township_of_another_county_is_refused() -> None:
    memory, records = world()
    cmd = channel(county="c1", township="t3")
    await refused(memory, lambda uow: h.register_channel(uow, cmd, ADMIN), Forbidden)
    unknown = channel(county="c1", township="t9")
    await refused(memory, lambda uow: h.register_channel(uow, unknown, ADMIN), NotFound)
    elsewhere = channel(county="c9")
    admin = who(Role.COUNTY_ADMIN, "c9")
    await refused(memory, lambda uow: h.register_channel(uow, elsewhere, admin), NotFound)
    assert records.secrets == {}


@pytest.mark.parametrize(
    ("cmd", "field"),
    [
        (channel(types=("bulletin", "gossip")), "release_types"),
        (channel(target="https://hooks.example.cn/x"), "target"),  # e-mail without an address
        (channel(ChannelKind.WECOM, target="ops@example.cn"), "target"),
        (channel(ChannelKind.WEBHOOK, target="ftp://hooks.example.cn"), "target"),
    ],
)
async def test_a_malformed_channel_is_refused_naming_the_field(
    cmd: c.RegisterChannel, field: str
) -> None:
    memory, records = world()
    error = await refused(memory, lambda uow: h.register_channel(uow, cmd, ADMIN), InvalidInput)
    assert named(error) == [field]
    assert records.secrets == {}


async def test_a_channels_address_and_secret_are_kept_beside_the_log_not_in_its_event() -> None:
    memory, records = world()
    target = "https://hooks.example.cn/robot/send?key=robot-key-1"
    answer = await h.register_channel(
        memory.as_(ADMIN), channel(ChannelKind.WEBHOOK, target=target), ADMIN
    )
    secret = answer["secret"]
    assert isinstance(secret, str)
    assert secret.startswith("whsec_")
    [event] = memory.events
    assert event.data["shown_as"] == "https://hooks.example.cn/…"
    assert event.data["signed"] is True
    assert "robot-key-1" not in str(event.data)
    assert secret not in str(event.data)
    assert records.secrets[answer["id"]] == (target, secret)
    robot = await h.register_channel(
        memory.as_(ADMIN),
        channel(ChannelKind.WECOM, target=target, secret="robot-signing-key"),
        ADMIN,
    )
    assert robot["secret"] is None  # a robot's own key is not shown back
    assert records.secrets[robot["id"]] == (target, "robot-signing-key")


@pytest.mark.parametrize("role", ROLES)
async def test_who_retires_a_townships_channel(role: str) -> None:
    memory, records = world()
    channel_id = await register(memory, channel(township="t1"))
    principal = ROLES[role]
    if ("t1", role) in CHANNEL_MAY:
        await h.retire_channel(memory.as_(principal), channel_id, principal)
        assert memory.types(1) == ["ChannelRetired"]
        assert not records.channels[channel_id].active
        await refused(
            memory, lambda uow: h.retire_channel(uow, channel_id, principal), InvalidState
        )
    else:
        await refused(memory, lambda uow: h.retire_channel(uow, channel_id, principal), Forbidden)


async def test_a_county_wide_channel_is_retired_by_the_countys_administrator_only() -> None:
    memory, _ = world()
    channel_id = await register(memory, channel())
    await refused(memory, lambda uow: h.retire_channel(uow, channel_id, OFFICE), Forbidden)
    await refused(memory, lambda uow: h.retire_channel(uow, "ch-none", ADMIN), NotFound)
    await h.retire_channel(memory.as_(ADMIN), channel_id, ADMIN)
    assert memory.types(1) == ["ChannelRetired"]


# --- bulletins (N4) and their deliveries (N5) --------------------------------------------


@pytest.mark.parametrize("role", ROLES)
async def test_who_issues_an_ad_hoc_bulletin(role: str) -> None:
    memory, _ = world()
    principal = ROLES[role]
    cmd = c.IssueBulletin(title="专项督查", note="请各支部对照整改")
    if role in ("county administrator", "township office", "township committee"):
        answer = await h.issue_adhoc_bulletin(memory.as_(principal), "t1", cmd, principal)
        assert answer["events"] == ["BulletinIssued"]
    else:
        await refused(
            memory, lambda uow: h.issue_adhoc_bulletin(uow, "t1", cmd, principal), Forbidden
        )


async def test_a_bulletin_reports_each_branch_and_goes_to_the_channels_subscribed() -> None:
    memory, records = world()
    records.activity["b1"] = Activity(pledges=1, reviews=2, journals=2, visits=1)
    county_wide = await register(memory, channel())
    own = await register(memory, channel(township="t1"))
    await register(memory, channel(township="t2"))  # another township's
    await register(memory, channel(types=("review",)))  # another type
    retired = await register(memory, channel())
    await h.retire_channel(memory.as_(ADMIN), retired, ADMIN)
    before = len(memory.events)
    cmd = c.IssueBulletin(title="专项督查")
    answer = await h.issue_adhoc_bulletin(memory.as_(OFFICE), "t1", cmd, OFFICE)
    assert memory.types(before) == ["BulletinIssued", "DeliveryScheduled", "DeliveryScheduled"]
    bulletin = memory.events[before]
    assert bulletin.data["period"] == "2027-06-15"  # ad hoc: today's date
    assert not bulletin.data["regular"]
    assert answer["id"] == bulletin.data["bulletin_id"]
    lines = {b["branch_id"]: b for b in bulletin.data["branches"]}
    assert set(lines) == {"b1", "b2"}
    assert lines["b1"]["secretary_name"] == "s1同志"
    assert lines["b1"]["gaps"] == []
    assert lines["b2"]["gaps"] == ["书记空缺", "未公开承诺", "未开展点评", "无联系点指导"]
    deliveries = [e.data for e in memory.events[before + 1 :]]
    assert sorted(d["channel_id"] for d in deliveries) == sorted([county_wide, own])
    assert {d["release_id"] for d in deliveries} == {bulletin.id}
    assert {d["content"]["bulletin_id"] for d in deliveries} == {answer["id"]}


async def test_an_ad_hoc_bulletin_for_an_unknown_township_is_not_found() -> None:
    memory, _ = world()
    cmd = c.IssueBulletin(title="专项督查")
    await refused(memory, lambda uow: h.issue_adhoc_bulletin(uow, "t9", cmd, ADMIN), NotFound)


async def test_a_regular_bulletin_is_issued_once_a_period() -> None:
    memory, _ = world()
    for _ in range(2):
        await h.issue_bulletin(
            memory.unit(), "t1", period="2027-05", regular=True, title="5月督查通报", note=""
        )
    assert memory.types() == ["BulletinIssued"]
    assert memory.events[0].streamid == "bulletin-t1-bl-2027-05"


# --- delivery attempts (N5) ----------------------------------------------------------------


async def scheduled(memory: Memory) -> str:
    await register(memory, channel(types=("bulletin",)))
    [delivery_id] = await h.schedule_deliveries(
        memory.unit(),
        release_type="bulletin",
        township_id="t1",
        release_id="r-1",
        subject="通报",
        content={"on": date(2027, 6, 15)},
        now=memory.clock.now(),
    )
    return delivery_id


async def test_an_attempts_outcome_is_recorded_once() -> None:
    memory, _ = world()
    delivery_id = await scheduled(memory)
    assert memory.events[-1].data["content"] == {"on": "2027-06-15"}  # as JSON
    before = len(memory.events)
    await h.record_attempt(memory.unit(), delivery_id, 0, "connection refused")
    await h.record_attempt(memory.unit(), delivery_id, 0, 200)  # seen by an earlier pass
    assert memory.types(before) == ["DeliveryAttemptFailed"]
    await h.record_attempt(memory.unit(), delivery_id, 1, 204)
    assert memory.types(before) == ["DeliveryAttemptFailed", "DeliverySucceeded"]
    assert memory.events[-1].data["status"] == 204
    await h.record_attempt(memory.unit(), delivery_id, 2, "late")
    assert len(memory.events) == before + 2  # delivered: nothing more


async def test_a_delivery_given_up_is_redelivered_by_the_countys_administrator_only() -> None:
    memory, _ = world()
    delivery_id = await scheduled(memory)
    for seen in range(len(BACKOFF) + 1):
        await h.record_attempt(memory.unit(), delivery_id, seen, "503")
    assert memory.types()[-1] == "DeliveryGivenUp"
    for role, principal in ROLES.items():
        if role != "county administrator":
            await refused(
                memory, lambda uow, p=principal: h.redeliver(uow, delivery_id, p), Forbidden
            )
    await h.redeliver(memory.as_(ADMIN), delivery_id, ADMIN)
    assert memory.types()[-1] == "DeliveryRequeued"
    assert memory.events[-1].data["by"] == ADMIN.subject
    await refused(memory, lambda uow: h.redeliver(uow, delivery_id, ADMIN), InvalidState)
    await refused(memory, lambda uow: h.redeliver(uow, "dl-none", ADMIN), NotFound)


# --- the policy: a release goes to the channels subscribed (N5, X2) -----------------------


def published(release_id: str, source: str = "review") -> EventEnvelope:
    return EventEnvelope(
        id=release_id,
        source=f"/gongkai/{source}",
        type="ReviewRecorded",
        subject="review-r-1",
        time=datetime(2027, 6, 15, 8, 0, tzinfo=UTC),
        streamid="review-r-1",
        streamversion=1,
        partition="t1",
        sequence=1,
        schemaversion=1,
        actor="h1",
        actorrole="township_committee",
        correlationid="corr-1",
        prevhash="0" * 64,
        hash="1" * 64,
        data={},
    )


async def test_a_release_is_handed_to_the_channels_subscribed_to_its_type() -> None:
    memory, records = world()
    reviews = await register(memory, channel(types=("review",)))
    await register(memory, channel(types=("bulletin",)))
    records.releases["e-1"] = queries.Release("review", "t1", "点评", {"review_id": "r-1"})
    executor = cast(CommandExecutor, memory)
    [forward, *_] = subscriptions(executor)
    before = len(memory.events)
    await forward.handler(None, published("e-1"))
    assert memory.types(before) == ["DeliveryScheduled"]
    scheduled = memory.events[-1]
    assert scheduled.data["channel_id"] == reviews
    assert scheduled.data["release_id"] == "e-1"
    assert scheduled.data["content"] == {"review_id": "r-1"}
    assert scheduled.data["due_at"] == "2027-06-15T08:00:00Z"  # the release's time
    assert scheduled.actor == "service:review"
    assert scheduled.causationid == "e-1"
    await forward.handler(None, published("e-2"))  # not a release
    assert len(memory.events) == before + 1


def test_the_policy_listens_to_every_publishing_service() -> None:
    memory, _ = world()
    found = subscriptions(cast(CommandExecutor, memory))
    assert [(s.consumer, s.source) for s in found] == [
        ("notification", "pledge"),
        ("notification", "review"),
        ("notification", "evaluation"),
    ]
