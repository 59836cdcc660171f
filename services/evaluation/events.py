"""The evaluation service's events: mass evaluation rounds (E1–E5, E7), satisfaction checks of
pledge items (E8) and periodic ratings (E6).

Past tense, frozen, registered below; the registry also generates the AsyncAPI document.
Participation (who voted) and ballots (what was chosen) are separate events in separate
streams (E3): no ballot event carries a rater id. See the README, "Anonymous ballots (E3)".
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Any

from pydantic import ConfigDict, Field

from shared.events import DomainEvent, EventRegistry, PlainText


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


class Verdict(StrEnum):
    SATISFIED = "satisfied"
    DISSATISFIED = "dissatisfied"


class RatingLevel(StrEnum):
    TOWNSHIP_RATES_BRANCHES = "township_rates_branches"  # every two months (E6)
    BRANCH_RATES_MEMBERS = "branch_rates_members"  # every month


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


class RatedSubject(Value):
    subject_kind: SubjectKind
    subject_id: str
    subject_name: str
    grade: str
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


# --- satisfaction check of a pledge item (E8, P10c) -------------------------------------


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


# --- erasure of personal data (A7) -------------------------------------------------------


class PersonalDataErased(DomainEvent):
    """The person's key is destroyed: their sealed data reads as erased everywhere. Carries
    no personal data. Stream `person-<person_id>`."""

    aggregate_type = "person"
    person_id: str


# --- periodic ratings (E6) ---------------------------------------------------------------


class RatingResultsPublished(DomainEvent):
    aggregate_type = "rating"
    rating_id: str
    township_id: str
    branch_id: str | None  # None when the township rates branches
    period: str  # "2027-01" monthly or "2027-B1" bimonthly
    level: RatingLevel
    published_on: date
    results: tuple[RatedSubject, ...]


from services.evaluation.selection_events import (  # noqa: E402
    SELECTION_EVENTS,
    Source,
    WhenMissing,
)

REGISTRY = EventRegistry(
    "evaluation",
    [
        EvaluationCalendarSet,
        RoundOpened,
        RaterRegistered,
        RaterParticipated,
        BallotCast,
        RoundClosed,
        RoundResultsPublished,
        SatisfactionCheckOpened,
        CheckRaterRegistered,
        CheckRaterParticipated,
        CheckBallotCast,
        SatisfactionVerdictReached,
        RatingResultsPublished,
        PersonalDataErased,
        *SELECTION_EVENTS,
    ],
)


# --- old schema versions ------------------------------------------------------------------
# The log keeps events as they were written (invariant 6): each upcaster below names the model
# of the version it reads, so the published contract has a schema for every version a log may
# hold. Frozen as they were; nothing decides with them.


class RaterRegisteredV1(DomainEvent):
    """RaterRegistered as written before A7: no personal data."""

    aggregate_type = "round"
    old_version_of = "RaterRegistered"
    round_id: str
    rater_id: str
    rater_kind: RaterKind
    organisation_id: str
    member_id: str | None = None


class CheckRaterRegisteredV1(DomainEvent):
    """CheckRaterRegistered as written before A7: no personal data."""

    aggregate_type = "satisfaction_check"
    old_version_of = "CheckRaterRegistered"
    check_id: str
    rater_id: str
    member_id: str | None = None


class FormulaV1(Value):
    """A formula as declared before it had a `reviews` rule."""

    version: int
    weights: dict[Source, float]
    when_missing: WhenMissing
    quotas: tuple[int, ...]


class FormulaDeclaredV1(DomainEvent):
    """FormulaDeclared as written before S2 scored the reviews' grades."""

    aggregate_type = "selection"
    old_version_of = "FormulaDeclared"
    selection_id: str
    formula: FormulaV1


@REGISTRY.upcaster("RaterRegistered", 1, reads=RaterRegisteredV1)
@REGISTRY.upcaster("CheckRaterRegistered", 1, reads=CheckRaterRegisteredV1)
def _rater_registered_v1(data: dict[str, Any]) -> dict[str, Any]:
    return {**data, "personal": None}  # raters registered before A7 carried no personal data


@REGISTRY.upcaster("FormulaDeclared", 1, reads=FormulaDeclaredV1)
def _formula_declared_v1(data: dict[str, Any]) -> dict[str, Any]:
    # formulas declared before the rule existed scored reviews by quarters reviewed (S2: they
    # must still compute as they did)
    rule = {"measure": "quarters_reviewed", "points": {}}
    return {**data, "formula": {**data["formula"], "reviews": rule}}
