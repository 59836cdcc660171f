"""The events of the satisfaction check of a pledge item (E8, P10c): a small round with one
subject, its participation and its ballots kept apart (E3) as a round's are. Registered with
the others in services/evaluation/events.py."""

from __future__ import annotations

from datetime import date
from enum import StrEnum

from pydantic import Field

from services.evaluation.rounds.events import Channel, Scale, Sealed
from shared.events import DomainEvent


class Verdict(StrEnum):
    SATISFIED = "satisfied"
    DISSATISFIED = "dissatisfied"


class SatisfactionCheckOpened(DomainEvent):
    aggregate_type = "satisfaction_check"
    check_id: str
    pledge_id: str
    item_id: str
    township_id: str
    title: str
    summary: str
    threshold: float = Field(ge=0, le=1)
    scale: Scale
    opens_on: date
    closes_on: date
    source_event_id: str  # the ItemReportedDone it answers


class CheckRaterRegistered(DomainEvent):
    """Version 2 adds `personal`, as RaterRegistered: sealed, never plaintext (A7)."""

    aggregate_type = "satisfaction_check"
    schema_version = 2
    check_id: str
    rater_id: str
    member_id: str | None = None
    personal: Sealed | None = None


class CheckRaterParticipated(DomainEvent):
    aggregate_type = "satisfaction_check"
    check_id: str
    rater_id: str
    channel: Channel
    entered_by: str | None = None


class CheckBallotCast(DomainEvent):
    aggregate_type = "satisfaction_ballots"
    check_id: str
    token_hash: str
    grade: str


class SatisfactionVerdictReached(DomainEvent):
    """The contract in services/pledge/contracts.py, version 1: keep it exactly."""

    aggregate_type = "satisfaction_check"
    check_id: str
    pledge_id: str
    item_id: str
    township_id: str
    verdict: Verdict
    satisfaction_rate: float = Field(ge=0, le=1)
    ballots: int = Field(ge=0)
    threshold: float = Field(ge=0, le=1)


class SatisfactionCheckLapsed(DomainEvent):
    """The window ended with no ballot: no verdict (E8). The item stays open, not rated (the
    pledge service says 未开展满意度测评, not 群众不满意); the office may extend the check or
    reopen it. (Before this event, such a check reached a verdict of dissatisfied with no
    ballot; those verdicts read as they were.)"""

    aggregate_type = "satisfaction_check"
    check_id: str
    pledge_id: str
    item_id: str
    township_id: str
    closes_on: date  # the window that ended without a ballot


class SatisfactionCheckExtended(DomainEvent):
    """The office gives the check a later closing date: while it is open (extended) or after
    it lapsed with no ballot (reopened)."""

    aggregate_type = "satisfaction_check"
    check_id: str
    pledge_id: str
    item_id: str
    township_id: str
    closes_on: date
    reopened: bool  # it had lapsed: the pledge service takes the item as being rated again


class CheckTermsSet(DomainEvent):
    """The county's terms for the year's satisfaction checks (P10c): the share of satisfied
    and mostly satisfied ballots an item needs, and how many days a check stays open. Data,
    not constants: 0.8 and 14 days until a county sets them."""

    aggregate_type = "check_terms"
    county_id: str
    year: int
    threshold: float = Field(gt=0, le=1)
    window_days: int = Field(ge=1, le=366)


EVENTS: list[type[DomainEvent]] = [
    SatisfactionCheckOpened,
    CheckRaterRegistered,
    CheckRaterParticipated,
    CheckBallotCast,
    SatisfactionVerdictReached,
    SatisfactionCheckLapsed,
    SatisfactionCheckExtended,
    CheckTermsSet,
]


# --- old schema versions (upcast in services/evaluation/events.py) -----------------------


class CheckRaterRegisteredV1(DomainEvent):
    """CheckRaterRegistered as written before A7: no personal data."""

    aggregate_type = "satisfaction_check"
    old_version_of = "CheckRaterRegistered"
    check_id: str
    rater_id: str
    member_id: str | None = None
