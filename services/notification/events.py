"""The notification service's own events: calendars (N3), notices and the inbox (N3, N5),
outbound channels and deliveries (N5), supervision bulletins (N4).

It decides nothing about pledges, reviews or scores: those arrive as other services' events
(contracts.py) and are only shown, forwarded and counted here.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from pydantic import ConfigDict

from shared.events import DomainEvent, EventRegistry, PlainText


class DeadlineKind(StrEnum):
    DRAFTING = "drafting"  # P6: pledges drafted by March 15
    PUBLICATION = "publication"  # P7: every approved pledge published (by March 31)
    QUARTERLY_REVIEW = "quarterly_review"
    EVALUATION_ROUND = "evaluation_round"  # July 10 and January 5
    SELECTION = "selection"  # around July 1
    MEMBER_RATING = "member_rating"  # monthly, by the branch (N2)
    BRANCH_RATING = "branch_rating"  # every two months, by the township (N2)
    QUARTERLY_PUSH = "quarterly_push"  # P11: each published pledge pushed forward, by the office
    JOURNAL_MEETING = "journal_meeting"  # R6: each member's journal presented, every month


class NoticeKind(StrEnum):
    REMINDER = "reminder"
    OVERDUE = "overdue"
    RETURNED = "returned"  # a pledge's items returned for revision, to its drafter (P4)


class ChannelKind(StrEnum):
    EMAIL = "email"
    WECOM = "wecom"  # 企业微信 group robot
    DINGTALK = "dingtalk"  # 钉钉 group robot
    WEBHOOK = "webhook"  # Standard Webhooks, for other systems
    SMS = "sms"  # a text message to the notice's recipient, where they have a phone


class Value(PlainText):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Deadline(Value):
    deadline_id: str
    kind: DeadlineKind
    title: str
    due_on: date
    remind_days_before: int
    period: str  # what it is for: "2027", "2027Q1", "2027-03", "2027-B2"


class Sealed(Value):
    """Personal data sealed with the person's key (A7, shared/personal.py): base64 of the
    nonce and the AES-GCM ciphertext; unreadable once the key is destroyed."""

    person: str
    sealed: str


class BranchRecord(Value):
    """One branch's line in a supervision bulletin (N4)."""

    branch_id: str
    branch_name: str
    secretary_name: str | None
    pledges_published: int
    reviews_held: int
    journals_presented: int
    guidance_visits: int
    open_items: int
    overdue_items: int
    gaps: tuple[str, ...]
    approved_unpublished: int = 0  # P7: approved, not yet published (0 in older bulletins)
    drafted_late: int = 0  # P6: pledges approved after the drafting deadline
    # N4 as the seed lists it (empty in older bulletins): the secretary's own work, the
    # branch's activities, and what was published about the branch in the period
    secretary_work: tuple[str, ...] = ()
    activities: tuple[str, ...] = ()
    publicity: tuple[str, ...] = ()


class CadreGuidance(Value):
    """N4, R7: one leading cadre's contact-point guidance in the period: which branch, how
    often."""

    cadre: str
    branch_id: str
    branch_name: str
    visits: int


class CalendarSet(DomainEvent):
    aggregate_type = "calendar"
    county_id: str
    year: int
    deadlines: tuple[Deadline, ...]


class NoticeIssued(DomainEvent):
    aggregate_type = "deadline"
    notice_id: str
    county_id: str
    township_id: str
    deadline_id: str
    kind: NoticeKind
    recipient: str  # a person id, or "<role>:<org>" for an office
    title: str
    body: str
    due_on: date


class NoticeRead(DomainEvent):
    aggregate_type = "deadline"
    notice_id: str
    reader: str


class ChannelRegistered(DomainEvent):
    aggregate_type = "channel"
    channel_id: str
    county_id: str
    township_id: str | None  # None: every township of the county
    kind: ChannelKind
    name: str
    shown_as: str  # the address with its credentials masked: "https://qyapi.weixin.qq.com/…"
    signed: bool  # the address and secret are kept in `channel_secrets`, never in an event
    release_types: tuple[str, ...]


class ChannelRetired(DomainEvent):
    aggregate_type = "channel"
    channel_id: str


class PhoneRegistered(DomainEvent):
    """A person's phone number for notices by SMS (N5), sealed with their key (A7): the
    directory holds no phones. Replaces an earlier one."""

    aggregate_type = "contact"
    person_id: str
    county_id: str
    township_id: str
    phone: Sealed


class PhoneRemoved(DomainEvent):
    """The phone is no longer used; its key is destroyed, so it reads as erased (A7)."""

    aggregate_type = "contact"
    person_id: str


class DeliveryScheduled(DomainEvent):
    aggregate_type = "delivery"
    delivery_id: str
    channel_id: str
    township_id: str
    release_id: str
    release_type: str
    subject: str
    content: dict[str, object]
    due_at: datetime


class DeliveryAttemptFailed(DomainEvent):
    aggregate_type = "delivery"
    delivery_id: str
    attempt: int
    error: str
    retry_at: datetime


class DeliverySucceeded(DomainEvent):
    aggregate_type = "delivery"
    delivery_id: str
    attempt: int
    status: int


class DeliveryGivenUp(DomainEvent):
    """The dead-letter list: kept visibly until an operator redelivers it."""

    aggregate_type = "delivery"
    delivery_id: str
    attempts: int
    error: str


class DeliveryRequeued(DomainEvent):
    aggregate_type = "delivery"
    delivery_id: str
    by: str
    due_at: datetime


class BulletinIssued(DomainEvent):
    aggregate_type = "bulletin"
    bulletin_id: str
    township_id: str
    county_id: str
    period: str  # "2027-03" for the monthly bulletin, or a free label for an ad hoc one
    regular: bool
    title: str
    issued_on: date
    note: str
    branches: tuple[BranchRecord, ...]
    # per leading cadre, who visited which branch how often; what the township published
    # (both empty in bulletins issued before they were listed)
    guidance: tuple[CadreGuidance, ...] = ()
    publicity: tuple[str, ...] = ()


REGISTRY = EventRegistry(
    "notification",
    [
        CalendarSet,
        NoticeIssued,
        NoticeRead,
        ChannelRegistered,
        ChannelRetired,
        PhoneRegistered,
        PhoneRemoved,
        DeliveryScheduled,
        DeliveryAttemptFailed,
        DeliverySucceeded,
        DeliveryGivenUp,
        DeliveryRequeued,
        BulletinIssued,
    ],
)
