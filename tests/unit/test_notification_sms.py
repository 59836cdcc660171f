"""The SMS channel of the notification service (N5), with no server: an SMS channel is a
county's approved signature for notices; a person's phone is registered, sealed (A7), by
their township's office or the county's administrator; a notice goes by SMS only to a
recipient with a phone; a permanent provider error is given up at once. The gateways and
the provider: test_sms.py and tests/integration/test_sms_gateway.py; all of it through
PostgreSQL, NATS and the local provider: tests/e2e/test_notification_sms.py."""

from __future__ import annotations

import json

import pytest

from services.notification import commands as c
from services.notification import handlers as h
from services.notification.delivery.channels import sms_params
from services.notification.events import ChannelKind, NoticeKind
from shared.errors import Forbidden, InvalidInput, InvalidState, NotFound
from tests.unit.test_notification_handlers import (
    ADMIN,
    DEADLINE,
    ROLES,
    channel,
    named,
    refused,
    register,
    world,
)

PHONE = c.RegisterPhone(phone="138 1234-0000")
SMS = channel(ChannelKind.SMS, target="民勤县委组织部", types=("reminder", "overdue"))


@pytest.mark.parametrize(
    ("cmd", "field"),
    [
        (channel(ChannelKind.SMS, target="https://sms.example.cn"), "target"),
        (channel(ChannelKind.SMS, target="【民勤县】", types=("reminder",)), "target"),
        (channel(ChannelKind.SMS, target="民勤县委组织部", types=("bulletin",)), "release_types"),
    ],
)
async def test_an_sms_channel_is_a_signature_for_notices(
    cmd: c.RegisterChannel, field: str
) -> None:
    memory, records = world()
    error = await refused(memory, lambda uow: h.register_channel(uow, cmd, ADMIN), InvalidInput)
    assert named(error) == [field]
    channel_id = await register(memory, SMS)
    assert memory.events[-1].data["shown_as"] == "【民勤县委组织部】"
    assert records.secrets[channel_id] == ("民勤县委组织部", None)


PHONE_MAY = {"county administrator", "township office"}


@pytest.mark.parametrize("role", ROLES)
async def test_who_registers_a_persons_phone(role: str) -> None:
    memory, records = world()
    principal = ROLES[role]
    if role in PHONE_MAY:
        await h.register_phone(memory.as_(principal), "s1", PHONE, principal)
        [event] = memory.events
        assert event.type == "PhoneRegistered"
        assert "13812340000" not in json.dumps(event.data)  # only sealed, in the log
        assert (event.data["county_id"], event.data["township_id"]) == ("c1", "t1")
        assert records.opened("s1") == {"phone": "13812340000"}
    else:
        work = lambda uow: h.register_phone(uow, "s1", PHONE, principal)  # noqa: E731
        await refused(memory, work, Forbidden)


async def test_a_phone_of_someone_the_directory_does_not_hold_is_not_registered() -> None:
    memory, _ = world()
    await refused(memory, lambda uow: h.register_phone(uow, "m9", PHONE, ADMIN), NotFound)
    with pytest.raises(ValueError, match="11 位手机号"):
        c.RegisterPhone(phone="138-abc")


async def test_a_notice_goes_by_sms_only_to_a_recipient_with_a_phone() -> None:
    memory, records = world()
    sms = await register(memory, SMS)
    mail = await register(memory, channel(types=("reminder",)))
    await h.register_phone(memory.as_(ADMIN), "s1", PHONE, ADMIN)
    recipients = [("s1", "b1支部"), ("m1", "本人"), ("township_office:t1", "b2支部")]
    await h.issue_notices(memory.unit(), "c1", "t1", DEADLINE, NoticeKind.REMINDER, recipients)
    scheduled = [
        (e.data["content"]["recipient"], e.data["channel_id"])
        for e in memory.events
        if e.type == "DeliveryScheduled"
    ]
    assert sorted(scheduled) == sorted(
        [("s1", sms), ("s1", mail), ("m1", mail), ("township_office:t1", mail)]
    )

    # removed, the phone's key is destroyed (A7) and no SMS is scheduled any more
    before = len(memory.events)
    await h.remove_phone(memory.as_(ADMIN), "s1", ADMIN)
    assert memory.types(before) == ["PhoneRemoved"]
    assert records.opened("s1") is None
    await refused(memory, lambda uow: h.remove_phone(uow, "s1", ADMIN), InvalidState)
    await h.issue_notices(memory.unit(), "c1", "t1", DEADLINE, NoticeKind.OVERDUE, recipients[:1])
    assert memory.types(before + 1) == ["NoticeIssued"]  # the mail channel takes reminders


async def test_a_returned_pledge_goes_by_sms_to_its_drafter_and_never_to_a_group() -> None:
    """A returned pledge's notice names its items before they are public: an SMS channel
    carries it to the drafter's own phone; a robot, mail list or webhook may not take it."""
    memory, _ = world()
    for kind in (ChannelKind.EMAIL, ChannelKind.WECOM, ChannelKind.WEBHOOK):
        group = channel(kind, types=("reminder", "returned"))
        error = await refused(
            memory, lambda uow, g=group: h.register_channel(uow, g, ADMIN), InvalidInput
        )
        assert named(error) == ["release_types"]
    mail = await register(memory, channel(types=("reminder",)))
    types = ("reminder", "overdue", "returned")
    sms = await register(memory, channel(ChannelKind.SMS, target="民勤县委组织部", types=types))
    await h.register_phone(memory.as_(ADMIN), "s1", PHONE, ADMIN)
    returned = [("s1", "“修渠”"), ("m1", "“修渠”")]  # m1 has no phone
    await h.issue_notices(memory.unit(), "c1", "t1", DEADLINE, NoticeKind.RETURNED, returned)
    scheduled = [
        (e.data["content"]["recipient"], e.data["channel_id"])
        for e in memory.events
        if e.type == "DeliveryScheduled"
    ]
    assert scheduled == [("s1", sms)]  # not the mail list taking reminders
    assert mail != sms


async def test_a_permanent_error_is_given_up_at_once_and_a_passing_one_retried() -> None:
    memory, _ = world()
    await register(memory, SMS)
    await h.register_phone(memory.as_(ADMIN), "s1", PHONE, ADMIN)
    await h.issue_notices(
        memory.unit(), "c1", "t1", DEADLINE, NoticeKind.REMINDER, [("s1", "b1支部")]
    )
    [delivery_id] = [e.data["delivery_id"] for e in memory.events if e.type == "DeliveryScheduled"]
    before = len(memory.events)
    await h.record_attempt(memory.unit(), delivery_id, 0, "SmsError: isv.BUSINESS_LIMIT_CONTROL")
    await h.record_attempt(
        memory.unit(), delivery_id, 1, "SmsError: isv.MOBILE_NUMBER_ILLEGAL", permanent=True
    )
    assert memory.types(before) == ["DeliveryAttemptFailed", "DeliveryGivenUp"]
    assert memory.events[-1].data["attempts"] == 2


def test_a_notices_sms_parameters_leave_the_brackets_to_the_signature() -> None:
    content = {"title": "【逾期】公开承诺拟定截止", "due_on": "2027-03-15", "body": "…"}
    assert sms_params(content) == {"title": "公开承诺拟定截止", "due_on": "2027-03-15"}
    assert len(sms_params({"title": "长" * 80, "due_on": "2027-03-15"})["title"]) == 35
