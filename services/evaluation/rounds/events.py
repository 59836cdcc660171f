"""The events of mass evaluation rounds (E1–E5, E7) and of the evaluation calendar (E4), and
the value parts the service's other areas share (subjects, scales, grades, sealed personal
data): the base the other areas' events build on. Registered with the others in
services/evaluation/events.py.

Past tense, frozen; the registry also generates the AsyncAPI document. Participation (who
voted) and ballots (what was chosen) are separate events in separate streams (E3): no ballot
event carries a rater id. See docs/ballot-secrecy.md.
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum

from pydantic import ConfigDict, Field

from shared.events import DomainEvent, PlainText


class SubjectKind(StrEnum):
    BRANCH = "branch"
    MEMBER = "member"


class Channel(StrEnum):
    """How a ballot arrived (E3a): on the web, or on paper / on site entered by an officer."""

    WEB = "web"
    PAPER = "paper"
    ON_SITE = "on_site"


class RaterKind(StrEnum):
    """The raters the seed names (E2)."""

    TOWNSHIP_MEMBER = "township_member"  # for a branch: the township's members,
    CADRE = "cadre"  # cadres,
    PUBLIC = "public"  # and public;
    LOWER_ORG_HEAD = "lower_org_head"  # heads of lower-level organisations;
    LINKED_VILLAGE_REP = "linked_village_rep"  # representatives of closely linked villages
    SERVED_PEOPLE_REP = "served_people_rep"  # and of the people the branch serves
    BRANCH_MEMBER = "branch_member"  # for a member: the branch's members,
    VILLAGE_CADRE = "village_cadre"  # the village's cadres (and its public)
    SERVED = "served"  # a satisfaction check: someone the pledge item served (E8)


class Value(PlainText):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Grade(Value):
    grade: str
    label: str
    score: float = Field(ge=0, le=100)
    satisfied: bool  # counts toward the satisfaction rate


class Scale(Value):
    name: str
    grades: tuple[Grade, ...]


class Subject(Value):
    subject_kind: SubjectKind
    subject_id: str
    subject_name: str
    branch_id: str


class SubjectResult(Value):
    subject_kind: SubjectKind
    subject_id: str
    subject_name: str
    branch_id: str
    counts: dict[str, int]
    satisfaction_rate: float
    score: float


# --- calendar (E4) ----------------------------------------------------------------------


class EvaluationCalendarSet(DomainEvent):
    aggregate_type = "calendar"
    county_id: str
    year: int
    first_round_closes: date
    second_round_closes: date


# --- mass evaluation rounds (E1–E5) ----------------------------------------------------


class RoundOpened(DomainEvent):
    aggregate_type = "round"
    round_id: str
    township_id: str
    organiser_kind: str  # "township" organises for branches, "branch" for members (E2)
    organiser_id: str
    title: str
    year: int
    half: int
    content: tuple[str, ...]  # "five_good" / "five_take_the_lead", "pledge_fulfilment" (E1)
    subjects: tuple[Subject, ...]
    scale: Scale
    opens_on: date
    closes_on: date
    held_with: str | None = None  # E4: "secretary_annual_report" when combined with it
    # issue 17: web ballots appended together, at least (None: the service's setting)
    urn_batch: int | None = None


class Sealed(Value):
    """Personal data sealed with the person's key (A7, shared/personal.py): base64 of the
    nonce and the AES-GCM ciphertext; unreadable once the person is erased."""

    person: str
    sealed: str


class RaterRegistered(DomainEvent):
    """Version 2 adds `personal`: a public rater's name, phone and ID number, sealed (A7)."""

    aggregate_type = "round"
    schema_version = 2
    round_id: str
    rater_id: str
    rater_kind: RaterKind
    organisation_id: str  # for turnout per organisation (E3a)
    member_id: str | None = None  # None: not in the directory (e.g. the public)
    personal: Sealed | None = None  # never plaintext in the log (A7)


class RaterParticipated(DomainEvent):
    """Who voted, on which subjects, by which channel; never what they chose (E3)."""

    aggregate_type = "round"
    round_id: str
    rater_id: str
    subject_ids: tuple[str, ...]
    channel: Channel
    entered_by: str | None = None  # the officer who entered a paper / on-site ballot


class BallotCast(DomainEvent):
    """What was chosen, under a one-time token's hash; never who chose it (E3)."""

    aggregate_type = "ballot_box"
    round_id: str
    token_hash: str
    grades: dict[str, str]  # subject id -> grade


class RoundClosed(DomainEvent):
    aggregate_type = "round"
    round_id: str
    closed_on: date
    registered: int
    participated: int


class RoundResultsPublished(DomainEvent):
    aggregate_type = "round"
    round_id: str
    township_id: str
    title: str
    published_on: date
    results: tuple[SubjectResult, ...]


EVENTS: list[type[DomainEvent]] = [
    EvaluationCalendarSet,
    RoundOpened,
    RaterRegistered,
    RaterParticipated,
    BallotCast,
    RoundClosed,
    RoundResultsPublished,
]


# --- old schema versions (upcast in services/evaluation/events.py) -----------------------
# Frozen as they were written (invariant 6); nothing decides with them.


class RaterRegisteredV1(DomainEvent):
    """RaterRegistered as written before A7: no personal data."""

    aggregate_type = "round"
    old_version_of = "RaterRegistered"
    round_id: str
    rater_id: str
    rater_kind: RaterKind
    organisation_id: str
    member_id: str | None = None
