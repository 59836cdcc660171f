"""Commands, as the API receives them: imperative, validated, no unknown fields."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from pydantic import Field

from services.notification.events import ChannelKind, DeadlineKind
from shared.events import ID_PATTERN, Command, Part
from shared.phone import Phone
from shared.text import Line, Lines

Id = Annotated[str, Field(pattern=ID_PATTERN)]
Name = Annotated[Line, Field(min_length=1, max_length=100)]
Note = Annotated[Lines, Field(max_length=2000)]
Period = Annotated[str, Field(pattern=r"^[0-9A-Za-z-]{4,10}$")]
# a release or notice type (outbound.DELIVERABLE; which ones exist is the handler's check)
ReleaseType = Annotated[str, Field(pattern=r"^[a-z][a-z_]{0,39}$")]

# what a channel can subscribe to: the releases (X2) and the notices (N3, N4)
RELEASE_TYPES = (
    "pledge_published",
    "item_closed",
    "review",
    "guidance_visit",
    "round_results",
    "rating_results",
    "selection_notice",
    "commendation",
    "bulletin",
)
NOTICE_TYPES = ("reminder", "overdue", "returned")
# a notice only its recipient may read (a returned pledge names its items before they are
# public): an SMS channel's to the person, never a group's robot, e-mail list or webhook
PERSONAL_ONLY = ("returned",)
DELIVERABLE = RELEASE_TYPES + NOTICE_TYPES


class CalendarDeadline(Part):
    """One deadline of a calendar being set: a part of `SetCalendar`, validated as strictly."""

    kind: DeadlineKind
    period: Period
    title: Name
    due_on: date
    remind_days_before: Annotated[int, Field(ge=0, le=60)] = 7


class SetCalendar(Command):
    """N3: the county's deadlines for a year; omitted, the default calendar is set."""

    deadlines: Annotated[tuple[CalendarDeadline, ...], Field(max_length=200)] | None = None


class IssueBulletin(Command):
    """N4: an ad hoc supervision bulletin, compiled from the events received so far."""

    title: Name
    note: Note = ""


class RegisterChannel(Command):
    county_id: Id
    township_id: Id | None = None
    kind: ChannelKind
    name: Name
    target: Annotated[Line, Field(min_length=3, max_length=500)]
    secret: Annotated[Line, Field(min_length=8, max_length=200)] | None = None
    release_types: Annotated[
        tuple[ReleaseType, ...], Field(min_length=1, max_length=len(DELIVERABLE))
    ]

    def unknown_types(self) -> list[str]:
        return [t for t in self.release_types if t not in DELIVERABLE]


class RegisterPhone(Command):
    """N5: the phone a person's notices go to by SMS; kept only sealed (A7)."""

    phone: Phone  # a mainland mobile number, as every service takes one (shared/phone.py)
