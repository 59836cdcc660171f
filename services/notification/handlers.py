"""Command handlers: load aggregates, check who may act, let the aggregate decide, save.

The unit of work is their only dependency: they read the read models (and keep a channel's
secret) through its port (`queries.records`), never its connection, so
tests/unit/test_notification_handlers.py runs every one of them in memory."""

from __future__ import annotations

import base64
import json
import re
import secrets
import uuid
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from services.notification import access, queries
from services.notification import commands as c
from services.notification.aggregates import (
    Bulletin,
    Calendar,
    Channel,
    Contact,
    DeadlineNotices,
    Delivery,
    default_deadlines,
    notice_text,
    owned_dates,
)
from services.notification.commands import NOTICE_TYPES, PERSONAL_ONLY
from services.notification.events import ChannelKind, Deadline, NoticeKind, Sealed
from shared.auth import Principal, Role, county_admin, require
from shared.errors import InvalidInput, InvalidState, NotFound
from shared.unit_of_work import UnitOfWork, accepted


async def county_of_township(uow: UnitOfWork, township_id: str) -> str:
    county = await uow.port(queries.records).county_of_township(township_id)
    if county is None:
        raise NotFound("没有找到该乡镇：请核对后再试。", township_id=township_id)
    return county


async def _require_county(uow: UnitOfWork, county_id: str) -> None:
    if not await uow.port(queries.records).county_exists(county_id):
        raise NotFound("没有找到该县：请核对后再试。", county_id=county_id)


async def set_calendar(
    uow: UnitOfWork, county_id: str, year: int, cmd: c.SetCalendar, who: Principal
) -> dict[str, Any]:
    await _require_county(uow, county_id)
    require(county_admin(who, county_id), "此操作由县管理员办理：请切换到县管理员身份。")
    owned = await uow.port(queries.records).owners_calendars(county_id, year)
    drafting, rounds, publication = owned
    if cmd.deadlines is None:
        deadlines = default_deadlines(year, drafting, rounds, publication)
    else:
        deadlines = tuple(
            Deadline(deadline_id=f"{d.kind.value}-{d.period}", **d.model_dump())
            for d in cmd.deadlines
        )
    stream = f"calendar-{county_id}-{year}"
    calendar = await uow.load(Calendar, stream) or Calendar(stream, county_id)
    try:
        calendar.set(county_id, year, deadlines, owned_dates(year, drafting, rounds, publication))
    except InvalidState as error:
        raise InvalidInput(str(error), field="deadlines") from None
    await uow.save(calendar)
    return accepted(stream, uow, deadlines=len(deadlines))


async def mark_read(uow: UnitOfWork, notice_id: str, who: Principal) -> dict[str, Any]:
    notice = await uow.port(queries.records).notice(notice_id)
    if notice is None:
        raise NotFound("没有找到该提醒：请刷新页面后再试。", notice_id=notice_id)
    require(notice.recipient in access.inbox_addresses(who), "只有收到该提醒的人才能标记已读。")
    notices = await uow.get(DeadlineNotices, notice.stream_id, "该提醒")
    notices.mark_read(notice_id, who.subject)
    await uow.save(notices)
    return accepted(notice_id, uow)


# an approved SMS signature: 2 to 20 letters (Chinese or Latin) or digits, no brackets
SIGN_NAME = re.compile(r"[\w\u4e00-\u9fff]{2,20}")


def shown_as(target: str) -> str:
    """An address to show: the mailbox's domain, the URL without path and query, or an SMS
    channel's signature (public: it opens every message)."""
    if SIGN_NAME.fullmatch(target):
        return f"【{target}】"
    if "@" in target and "://" not in target:
        return "…@" + target.rsplit("@", 1)[1]
    parts = urlsplit(target)
    return f"{parts.scheme}://{parts.hostname}{f':{parts.port}' if parts.port else ''}/…"


def _new_secret(kind: ChannelKind, given: str | None) -> str | None:
    """Standard Webhooks keys are generated here ("whsec_" + base64); robots bring theirs."""
    if kind is ChannelKind.WEBHOOK:
        return given or "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()
    return given


async def register_channel(
    uow: UnitOfWork, cmd: c.RegisterChannel, who: Principal
) -> dict[str, Any]:
    if unknown := cmd.unknown_types():
        raise InvalidInput(
            f"未知的推送类型：{'、'.join(unknown)}，请从列表中选择。", field="release_types"
        )
    if cmd.kind is ChannelKind.EMAIL and "@" not in cmd.target:
        raise InvalidInput("电子邮件渠道须填写邮箱地址。", field="target")
    if cmd.kind is ChannelKind.SMS:
        # the target is the SMS signature approved for the county (【…】), sent as is
        if not SIGN_NAME.fullmatch(cmd.target):
            raise InvalidInput(
                "短信渠道的地址填写已备案的短信签名，如【某某县委组织部】。", field="target"
            )
        if not set(cmd.release_types) <= set(NOTICE_TYPES):
            raise InvalidInput(
                "短信渠道只推送发给个人的通知：请只选择“到期提醒”“逾期通知”和“退回修改”。",
                field="release_types",
            )
    elif set(cmd.release_types) & set(PERSONAL_ONLY):
        raise InvalidInput(
            "“退回修改”的通知只发给本人，只能由短信渠道推送：请取消选择。",
            field="release_types",
        )
    elif cmd.kind is not ChannelKind.EMAIL and not cmd.target.startswith(("http://", "https://")):
        raise InvalidInput("机器人或 Webhook 渠道须填写 http(s) 开头的网址。", field="target")
    await _require_county(uow, cmd.county_id)
    if cmd.township_id is None:
        require(county_admin(who, cmd.county_id), "此操作由县管理员办理：请切换到县管理员身份。")
    else:
        county = await county_of_township(uow, cmd.township_id)
        require(
            county == cmd.county_id
            and (
                who.is_(Role.TOWNSHIP_OFFICE, cmd.township_id) or county_admin(who, cmd.county_id)
            ),
            "此操作由乡镇创先办或县管理员办理：请切换到相应身份。",
        )
    channel_id = f"ch-{secrets.token_hex(4)}"
    secret = _new_secret(cmd.kind, cmd.secret)
    channel = Channel.register(
        channel_id,
        cmd.county_id,
        cmd.township_id,
        cmd.kind,
        cmd.name,
        shown_as(cmd.target),
        secret is not None,
        cmd.release_types,
    )
    await uow.save(channel)
    # events are published: a robot's key in its URL and the signing secret stay here
    await uow.port(queries.records).keep_secret(channel_id, cmd.target, secret)
    # the signing key is shown once, to the one who registered the webhook
    return accepted(channel_id, uow, secret=secret if cmd.kind is ChannelKind.WEBHOOK else None)


async def retire_channel(uow: UnitOfWork, channel_id: str, who: Principal) -> dict[str, Any]:
    channel = await uow.get(Channel, f"channel-{channel_id}", "该推送渠道")
    allowed = county_admin(who, channel.county_id) or (
        channel.township_id is not None and who.is_(Role.TOWNSHIP_OFFICE, channel.township_id)
    )
    require(allowed, "此操作由乡镇创先办或县管理员办理：请切换到相应身份。")
    channel.retire()
    await uow.save(channel)
    return accepted(channel_id, uow)


async def redeliver(uow: UnitOfWork, delivery_id: str, who: Principal) -> dict[str, Any]:
    """N5: an operator sends a given-up delivery again."""
    delivery = await uow.get(Delivery, f"delivery-{delivery_id}", "该推送记录")
    county = await uow.port(queries.records).channel_county(delivery.channel_id)
    # a channel always has its county; none found must not let every county's admin in
    require(
        county is not None and county_admin(who, county),
        "此操作由县管理员办理：请切换到县管理员身份。",
    )
    delivery.requeue(who.subject, uow.store.clock.now())
    await uow.save(delivery)
    return accepted(delivery_id, uow)


async def issue_adhoc_bulletin(
    uow: UnitOfWork, township_id: str, cmd: c.IssueBulletin, who: Principal
) -> dict[str, Any]:
    """N4: an ad hoc bulletin, issued by the township's staff."""
    county = await county_of_township(uow, township_id)
    require(access.township_staff(who, township_id, county), "此内容只供本乡镇工作人员查看。")
    return await issue_bulletin(
        uow, township_id, period=None, regular=False, title=cmd.title, note=cmd.note
    )


async def issue_bulletin(
    uow: UnitOfWork, township_id: str, *, period: str | None, regular: bool, title: str, note: str
) -> dict[str, Any]:
    county_id = await county_of_township(uow, township_id)
    on = uow.today()
    bulletin_id = f"bl-{period}" if regular else f"bl-{secrets.token_hex(4)}"
    label = period or on.isoformat()
    stream = f"bulletin-{township_id}-{bulletin_id}"
    bulletin = await uow.load(Bulletin, stream) or Bulletin(stream, township_id)
    branches = await uow.port(queries.records).compile_branches(township_id, label, on)
    guidance, publicity = await uow.port(queries.records).compile_township(township_id, label, on)
    bulletin_id = f"{bulletin_id}-{township_id}"
    if bulletin.issue(
        bulletin_id=bulletin_id,
        township_id=township_id,
        county_id=county_id,
        period=label,
        regular=regular,
        title=title,
        issued_on=on,
        note=note,
        branches=branches,
        guidance=guidance,
        publicity=publicity,
    ):
        [event] = await uow.save(bulletin)
        content = event.data
        await schedule_deliveries(
            uow,
            release_type="bulletin",
            township_id=township_id,
            release_id=event.id,
            subject=title,
            content=content,
            now=uow.store.clock.now(),
        )
    return accepted(bulletin_id, uow)


async def schedule_deliveries(
    uow: UnitOfWork,
    *,
    release_type: str,
    township_id: str,
    release_id: str,
    subject: str,
    content: dict[str, Any],
    now: datetime,
) -> list[str]:
    recipient = content.get("recipient")  # a notice's: an SMS goes to them, where they have a phone
    channels = await uow.port(queries.records).subscribed_channels(
        release_type, township_id, recipient if isinstance(recipient, str) else None
    )
    scheduled = []
    for channel_id in channels:
        delivery_id = f"dl-{secrets.token_hex(8)}"
        delivery = Delivery.schedule(
            delivery_id,
            channel_id,
            township_id,
            release_id,
            release_type,
            subject,
            json.loads(json.dumps(content, ensure_ascii=False, default=str)),
            now,
        )
        await uow.save(delivery)
        scheduled.append(delivery_id)
    return scheduled


async def issue_notices(
    uow: UnitOfWork,
    county_id: str,
    township_id: str,
    deadline: Deadline,
    kind: NoticeKind,
    recipients: list[tuple[str, str]],
) -> None:
    """N3: a deadline's notices of one kind, each recipient's once, and their deliveries."""
    stream = f"deadline-{county_id}-{deadline.deadline_id}-{township_id}"
    notices = await uow.load(DeadlineNotices, stream) or DeadlineNotices(stream, township_id)
    now = uow.store.clock.now()
    for recipient, missing in recipients:
        title, body = notice_text(deadline, kind, missing)
        notice_id = f"n-{uuid.uuid4().hex[:16]}"
        if notices.issue(
            notice_id=notice_id,
            county_id=county_id,
            township_id=township_id,
            deadline=deadline,
            kind=kind,
            recipient=recipient,
            title=title,
            body=body,
        ):
            content = {
                "notice_id": notice_id,
                "recipient": recipient,
                "title": title,
                "body": body,
                "due_on": deadline.due_on.isoformat(),
            }
            await uow.save(notices)
            await schedule_deliveries(
                uow,
                release_type=kind.value,
                township_id=township_id,
                release_id=notice_id,
                subject=title,
                content=content,
                now=now,
            )


async def settle_notices(uow: UnitOfWork, settled: list[tuple[str, str]]) -> None:
    """Notices (stream, notice) whose work is done, no longer waiting in anyone's 待办."""
    for stream, notice_id in settled:
        notices = await uow.get(DeadlineNotices, stream, "该提醒")
        notices.settle(notice_id)
        await uow.save(notices)


async def record_attempt(
    uow: UnitOfWork, delivery_id: str, seen: int, outcome: int | str, permanent: bool = False
) -> None:
    """N5: a delivery attempt's outcome: the status answered, or the error (permanent: one
    that retrying cannot mend, given up at once)."""
    delivery = await uow.get(Delivery, f"delivery-{delivery_id}", "该推送记录")
    if delivery.status != "pending" or delivery.attempts != seen:
        return  # recorded by another pass
    if isinstance(outcome, int):
        delivery.succeeded(outcome)
    else:
        delivery.failed(outcome, uow.store.clock.now(), permanent=permanent)
    await uow.save(delivery)


async def register_phone(
    uow: UnitOfWork, person_id: str, cmd: c.RegisterPhone, who: Principal
) -> dict[str, Any]:
    """N5: the phone a person's reminders and overdue notices go to by SMS, registered by
    their township's office or the county's administrator; only sealed in the log (A7)."""
    records = uow.port(queries.records)
    county, township = await _place(uow, person_id, who)
    stream = f"contact-{person_id}"
    contact = await uow.load(Contact, stream) or Contact(stream, township)
    sealed = Sealed.model_validate(await records.seal(person_id, {"phone": cmd.phone}))
    contact.register(person_id, county, township, sealed)
    await uow.save(contact)
    return accepted(person_id, uow)


async def remove_phone(uow: UnitOfWork, person_id: str, who: Principal) -> dict[str, Any]:
    """N5: no more SMS to the person; the key their phone was sealed with is destroyed (A7)."""
    await _place(uow, person_id, who)
    contact = await uow.get(Contact, f"contact-{person_id}", "该人员登记的手机号")
    contact.remove(person_id)
    await uow.save(contact)
    await uow.port(queries.records).erase(person_id)
    return accepted(person_id, uow)


async def _place(uow: UnitOfWork, person_id: str, who: Principal) -> tuple[str, str]:
    place = await uow.port(queries.records).person_place(person_id)
    if place is None:
        raise NotFound("没有找到该人员：请核对后再试。", person_id=person_id)
    county, township = place
    require(
        who.is_(Role.TOWNSHIP_OFFICE, township) or county_admin(who, county),
        "此操作由该人员所在乡镇的创先办或县管理员办理。",
    )
    return place


def as_json(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value
