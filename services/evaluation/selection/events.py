"""Events of the annual selection (S1–S3): declared formula, nominations, scored stages,
public notice and objections, commendation. Registered with the others in
services/evaluation/events.py."""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Annotated

from pydantic import Field

from services.evaluation.rounds.events import SubjectKind, Value
from shared.events import DomainEvent


class Source(StrEnum):
    """What the composite score combines (S2)."""

    RATINGS = "ratings"  # periodic ratings of the year (E6)
    EVALUATION = "evaluation"  # mass-evaluation results of the year (E5)
    PLEDGES = "pledges"  # pledge fulfilment: items closed / items published (P8, P10)
    REVIEWS = "reviews"  # leadership reviews of the year, as the formula's `reviews` rule says


class WhenMissing(StrEnum):
    ZERO = "zero"  # a source with no data scores 0
    REWEIGHT = "reweight"  # its weight is spread over the sources that have data


class ReviewsMeasure(StrEnum):
    """How the leadership-review component is computed: declared in the formula, so a formula
    keeps computing as it did when it was declared (S2)."""

    QUARTERS_REVIEWED = "quarters_reviewed"  # share of the year's quarters with a review
    GRADES = "grades"  # the points the formula gives the reviews' dimension grades (R3)


class ReviewsRule(Value):
    measure: ReviewsMeasure
    # grade -> points (0–100), for `grades`: each review scores the mean over its
    # dimensions, the component the mean over the year's reviews
    points: dict[str, Annotated[float, Field(ge=0, le=100)]] = Field(default_factory=dict)


class Window(Value):
    """The data window (S2): a record counts when the period it covers ends within it (a
    rating's month or two months, a pledge's year), a round when its results were published,
    a review when it was held. By default the twelve months before the selection opens."""

    starts_on: date
    ends_on: date  # inclusive


class Formula(Value):
    version: int
    weights: dict[Source, float]
    when_missing: WhenMissing
    quotas: tuple[int, ...]  # how many each stage shortlists; the last stage is the final list
    reviews: ReviewsRule
    # None: a formula declared before it had a window (schema 2) read the selection's calendar
    # year, as it did then (the pledge of that year, its rounds, ratings and quarters)
    window: Window | None


class Input(Value):
    source: Source
    value: float | None  # None: no data for this subject (see the formula's when_missing)
    evidence: tuple[str, ...]  # the records it was computed from (rating, round, item, review ids)


class Scored(Value):
    """A candidate's composite score and its parts: the evidence shown beside the candidate
    when the stage's body decides (S2). `suggested`: within the formula's quota by score, a
    suggestion only."""

    subject_id: str
    subject_name: str
    branch_id: str
    inputs: tuple[Input, ...]
    composite: float
    rank: int
    suggested: bool


class Body(StrEnum):
    """Who decides a stage (层层筛选): the body the stage names."""

    BRANCH = "branch"  # a branch's own selection of its members (its committee)
    TOWNSHIP_COMMITTEE = "township_committee"  # 镇党委
    COUNTY = "county"  # the county, selecting from the townships' winners
    FORMULA = "formula"  # stages scored before they were decisions (StageScored schema 1)


class Decision(Value):
    """Per candidate: advanced or not, and why, in the body's own words."""

    subject_id: str
    advanced: bool
    reason: str


class Awardee(Value):
    subject_kind: SubjectKind
    subject_id: str
    subject_name: str
    branch_id: str
    reason: str  # the last stage's decision, in the deciding body's words
    # the nomination's reason; None: issued before stages were decisions, when `reason` was
    # generated from the score (never shown on the board)
    nomination_reason: str | None = None


class Level(StrEnum):
    """各级党组织…每年开展一次: who holds the selection (the same events and rules)."""

    TOWNSHIP = "township"  # a township selects among its branches or members
    COUNTY = "county"  # the county selects across townships, from the townships' winners
    BRANCH = "branch"  # a branch selects among its own members


class SelectionOpened(DomainEvent):
    aggregate_type = "selection"
    selection_id: str
    # the township the selection is of; for a county selection, the county (its partition)
    township_id: str
    year: int
    title: str
    subject_kind: SubjectKind
    notice_days: int = Field(ge=5, le=30)
    commendation_on: date  # around July 1 (S3)
    opened_on: date | None = None  # None: opened before the data window existed
    level: Level = Level.TOWNSHIP  # selections opened before levels were the township's
    organisation_id: str | None = None  # the county or branch holding it; None: the township


class FormulaDeclared(DomainEvent):
    """Declared and versioned before the first stage is scored (S2). Version 2 adds the
    formula's `reviews` rule; a version 1 formula counted quarters reviewed. Version 3 adds the
    data window; a version 2 formula read the selection's calendar year (upcasters in
    events.py)."""

    aggregate_type = "selection"
    schema_version = 3
    selection_id: str
    formula: Formula


class CandidateNominated(DomainEvent):
    aggregate_type = "selection"
    selection_id: str
    subject_id: str
    subject_name: str
    branch_id: str
    nominated_by: str  # "branch" (from below) or "township"
    reason: str


class StageScored(DomainEvent):
    """The stage's candidates scored by the declared formula: evidence for the body that
    decides the stage (StageDecided). Version 2: scoring no longer decides; a version 1 stage
    was decided by the cut, and its decisions come with it in `decided` (upcaster in
    events.py)."""

    aggregate_type = "selection"
    schema_version = 2
    selection_id: str
    stage: int
    formula_version: int
    scored_on: date
    candidates: tuple[Scored, ...]
    decided: tuple[Decision, ...] = ()  # only from schema 1: the cut's decisions


class StageDecided(DomainEvent):
    """The body the stage names decides, per candidate, advanced or not and why (S2)."""

    aggregate_type = "selection"
    selection_id: str
    stage: int
    body: Body
    decided_on: date
    decisions: tuple[Decision, ...]


class NoticePosted(DomainEvent):
    aggregate_type = "selection"
    selection_id: str
    posted_on: date
    notice_until: date
    finalists: tuple[str, ...]


class ObjectionFiled(DomainEvent):
    aggregate_type = "selection"
    selection_id: str
    objection_id: str
    subject_id: str
    summary: str
    in_person: bool = False  # recorded by the office for someone who came in person
    # the township in whose name a county selection's objection was filed: the objecting
    # committee's or office's own, or the township of the branch secretary or member filing
    # it. None: recorded in person, an objection to a township's or branch's selection, or
    # filed before objections named their township (read as they were)
    township_id: str | None = None


class ObjectionAnswered(DomainEvent):
    aggregate_type = "selection"
    selection_id: str
    objection_id: str
    answer: str
    upheld: bool  # an upheld objection takes the finalist off the list


class CommendationIssued(DomainEvent):
    aggregate_type = "selection"
    selection_id: str
    township_id: str  # as in SelectionOpened: the county's id for a county selection
    year: int
    title: str
    issued_on: date
    awardees: tuple[Awardee, ...]
    level: Level = Level.TOWNSHIP


EVENTS: list[type[DomainEvent]] = [
    SelectionOpened,
    FormulaDeclared,
    CandidateNominated,
    StageScored,
    StageDecided,
    NoticePosted,
    ObjectionFiled,
    ObjectionAnswered,
    CommendationIssued,
]


# --- old schema versions (upcast in services/evaluation/events.py) -----------------------


class FormulaV1(Value):
    """A formula as declared before it had a `reviews` rule."""

    version: int
    weights: dict[Source, float]
    when_missing: WhenMissing
    quotas: tuple[int, ...]


class FormulaV2(Value):
    """A formula as declared before it had a data window."""

    version: int
    weights: dict[Source, float]
    when_missing: WhenMissing
    quotas: tuple[int, ...]
    reviews: ReviewsRule


class FormulaDeclaredV2(DomainEvent):
    """FormulaDeclared as written before the formula declared its data window."""

    aggregate_type = "selection"
    old_version_of = "FormulaDeclared"
    schema_version = 2
    selection_id: str
    formula: FormulaV2


class FormulaDeclaredV1(DomainEvent):
    """FormulaDeclared as written before S2 scored the reviews' grades."""

    aggregate_type = "selection"
    old_version_of = "FormulaDeclared"
    selection_id: str
    formula: FormulaV1


class ScoredV1(Value):
    """A scored candidate as written when scoring cut the list: the cut and its reason."""

    subject_id: str
    subject_name: str
    branch_id: str
    inputs: tuple[Input, ...]
    composite: float
    rank: int
    shortlisted: bool
    reason: str


class StageScoredV1(DomainEvent):
    """StageScored as written before each stage was decided by its body (S2)."""

    aggregate_type = "selection"
    old_version_of = "StageScored"
    selection_id: str
    stage: int
    formula_version: int
    scored_on: date
    candidates: tuple[ScoredV1, ...]
