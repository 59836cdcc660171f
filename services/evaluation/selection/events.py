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
    rating's month or two months, a round's closing day, a review's quarter, a pledge's year).
    By default the twelve months before the selection opens."""

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
    subject_id: str
    subject_name: str
    branch_id: str
    inputs: tuple[Input, ...]
    composite: float
    rank: int
    shortlisted: bool
    reason: str


class Awardee(Value):
    subject_kind: SubjectKind
    subject_id: str
    subject_name: str
    branch_id: str
    reason: str


class SelectionOpened(DomainEvent):
    aggregate_type = "selection"
    selection_id: str
    township_id: str
    year: int
    title: str
    subject_kind: SubjectKind
    notice_days: int = Field(ge=5, le=30)
    commendation_on: date  # around July 1 (S3)
    opened_on: date | None = None  # None: opened before the data window existed


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
    aggregate_type = "selection"
    selection_id: str
    stage: int
    formula_version: int
    scored_on: date
    candidates: tuple[Scored, ...]


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


class ObjectionAnswered(DomainEvent):
    aggregate_type = "selection"
    selection_id: str
    objection_id: str
    answer: str
    upheld: bool  # an upheld objection takes the finalist off the list


class CommendationIssued(DomainEvent):
    aggregate_type = "selection"
    selection_id: str
    township_id: str
    year: int
    title: str
    issued_on: date
    awardees: tuple[Awardee, ...]


EVENTS: list[type[DomainEvent]] = [
    SelectionOpened,
    FormulaDeclared,
    CandidateNominated,
    StageScored,
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
