"""Response models: what the API answers, field for field in the order it answers them.

Times are written as Python writes them (`2027-01-04T02:00:00+00:00`), as the API always
has; the releases feed (X2) writes its own as before too (`...Z`)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

from pydantic import BaseModel, PlainSerializer

from services.notification.events import Deadline

Moment = Annotated[
    datetime, PlainSerializer(lambda moment: moment.isoformat(), return_type=str, when_used="json")
]


class Accepted(BaseModel):
    id: str
    events: list[str]


class ChannelAccepted(Accepted):
    secret: str | None  # a webhook's signing key, shown once to the one who registered it


class CalendarView(BaseModel):
    county_id: str
    year: int
    deadlines: list[Deadline]


class Notice(BaseModel):
    notice_id: str
    kind: str
    title: str
    body: str
    due_on: date
    deadline_id: str
    township_id: str
    issued_at: Moment
    read_at: Moment | None


class Inbox(BaseModel):
    unread: int
    notices: list[Notice]


class Bulletin(BaseModel):
    bulletin_id: str
    township_id: str
    county_id: str
    period: str
    regular: bool
    title: str
    issued_on: date
    note: str
    branches: list[dict[str, Any]]
    guidance: list[dict[str, Any]]  # per leading cadre: which branch, how often (N4)
    publicity: list[str]  # what the township itself published in the period


class Bulletins(BaseModel):
    bulletins: list[Bulletin]


class Channel(BaseModel):
    channel_id: str
    county_id: str
    township_id: str | None
    kind: str
    name: str
    shown_as: str
    release_types: list[str]
    active: bool


class Channels(BaseModel):
    channels: list[Channel]
    # whether this installation has an SMS account (GONGKAI_SMS_*, set by its operators): an
    # `sms` channel's deliveries fail until it has one
    sms_account: bool = False


class Delivery(BaseModel):
    delivery_id: str
    channel_id: str
    township_id: str
    release_id: str
    release_type: str
    subject: str
    status: str
    attempts: int
    next_attempt_at: Moment | None
    last_error: str | None
    updated_at: Moment


class Deliveries(BaseModel):
    deliveries: list[Delivery]


class Release(BaseModel):
    id: str
    position: int
    time: datetime
    type: str
    township_id: str
    subject: str
    content: dict[str, Any]


class ReleasePage(BaseModel):
    releases: list[Release]
    next_since: int  # pass as `since` to read on
    more: bool
