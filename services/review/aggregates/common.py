"""What every aggregate of the review service shares: the subject as this service's copy of
the directory (D2) shows it, the person acting, and the rules for dates. Pure; no I/O.

Who the subject is, where it sits and who may act on it come from the directory copy and are
handed in as a `Subject`; the aggregates check the content rules.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from services.review.events import SubjectKind
from shared import zh
from shared.errors import InvalidInput, InvalidState


@dataclass(frozen=True)
class Subject:
    """A branch or member as the directory copy shows it now, with its place in the tiers."""

    kind: SubjectKind
    subject_id: str
    name: str
    branch_id: str
    township_id: str
    county_id: str
    active: bool
    leadership_team: bool = False  # members only
    secretary_id: str | None = None  # the branch's current secretary
    head_id: str | None = None  # the township's current head
    leaders: frozenset[str] = frozenset()  # the leaders assigned to its branch now (R1)


@dataclass(frozen=True)
class Person:
    person_id: str
    name: str


def quarter_of(day: date) -> str:
    return f"{day.year}Q{(day.month - 1) // 3 + 1}"


def month_of(day: date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


def not_ahead(day: date, today: date, field: str) -> None:
    if day > today:
        raise InvalidInput(f"日期 {zh.day(day)} 还没到：请填写今天或以前的日期。", field=field)
    if day.year < 2000:
        raise InvalidInput(f"日期 {zh.day(day)} 太早：请填写2000年以后的日期。", field=field)


def require_active(subject: Subject) -> None:
    if not subject.active:
        raise InvalidState(
            f"{zh.label(subject.kind.value)} {subject.subject_id} 已撤销或不在册，不能再办理此事项"
            "。"
        )
