"""The events of periodic ratings (E6): the township rates its branches every two months, each
branch its members every month. Registered with the others in services/evaluation/events.py."""

from __future__ import annotations

from datetime import date
from enum import StrEnum

from services.evaluation.rounds.events import SubjectKind, Value
from shared.events import DomainEvent


class RatingLevel(StrEnum):
    TOWNSHIP_RATES_BRANCHES = "township_rates_branches"  # every two months (E6)
    BRANCH_RATES_MEMBERS = "branch_rates_members"  # every month


class RatedSubject(Value):
    subject_kind: SubjectKind
    subject_id: str
    subject_name: str
    grade: str
    score: float


class RatingResultsPublished(DomainEvent):
    aggregate_type = "rating"
    rating_id: str
    township_id: str
    branch_id: str | None  # None when the township rates branches
    period: str  # "2027-01" monthly or "2027-B1" bimonthly
    level: RatingLevel
    published_on: date
    results: tuple[RatedSubject, ...]


EVENTS: list[type[DomainEvent]] = [RatingResultsPublished]
