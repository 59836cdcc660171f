"""The selection's composite score (S2), as a declared formula computes it. Pure; no I/O.

A formula is declared and versioned before the first stage; everything that turns records
into points is in it (weights, what a missing source counts as, how leadership reviews
score), so a candidate's score can be recomputed from the events it names."""

from __future__ import annotations

import calendar
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from math import fsum

from services.evaluation.aggregates.tally import MEMBER_APPRAISAL
from services.evaluation.selection.events import (
    Formula,
    Input,
    ReviewsMeasure,
    ReviewsRule,
    WhenMissing,
    Window,
)
from shared.errors import InvalidState

# R3: a review grades every dimension on the member-appraisal scale (E7); by default a grade
# is worth that scale's score
REVIEW_POINTS = {g.grade: g.score for g in MEMBER_APPRAISAL.grades}


@dataclass(frozen=True)
class ReviewRecord:
    """A current leadership review of the year, as this service's copy holds it."""

    review_id: str
    quarter: str  # e.g. "2027Q1"
    grades: tuple[str, ...]  # one per dimension assessed


def default_window(opened_on: date) -> Window:
    """S2: by default the twelve months before the selection opens (its opening day not
    included): a selection opened on 2027-07-05 reads 2026-07-05 .. 2027-07-04."""
    ends_on = opened_on - timedelta(days=1)
    try:
        starts_on = opened_on.replace(year=opened_on.year - 1)
    except ValueError:  # opened on February 29
        starts_on = date(opened_on.year - 1, 3, 1)
    return Window(starts_on=starts_on, ends_on=ends_on)


def calendar_year(year: int) -> Window:
    """The window of a formula declared before windows (schema 2): the selection's year."""
    return Window(starts_on=date(year, 1, 1), ends_on=date(year, 12, 31))


def _month_end(year: int, month: int) -> date:
    return date(year, month, calendar.monthrange(year, month)[1])


_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
_BIMONTH = re.compile(r"^(\d{4})-B([1-6])$")
_QUARTER = re.compile(r"^(\d{4})Q([1-4])$")


def period_end(period: str) -> date:
    """The last day a rating's period ("2027-01" monthly, "2027-B1" bimonthly) or a review's
    quarter ("2027Q1") covers."""
    if m := _MONTH.match(period):
        return _month_end(int(m[1]), int(m[2]))
    if m := _BIMONTH.match(period):
        return _month_end(int(m[1]), 2 * int(m[2]))
    if m := _QUARTER.match(period):
        return _month_end(int(m[1]), 3 * int(m[2]))
    raise ValueError(f"not a period: {period!r}")


def within(window: Window, day: date) -> bool:
    """A record counts when the period it covers ends within the window (S2)."""
    return window.starts_on <= day <= window.ends_on


def pledge_year(window: Window) -> int | None:
    """The pledge the window reads: the latest whose year (its items fall due at year end)
    ends within the window; None when no year end falls in it."""
    years = [y for y in range(window.starts_on.year, window.ends_on.year + 1)]
    ending = [y for y in years if within(window, date(y, 12, 31))]
    return max(ending) if ending else None


def _mean(values: Sequence[float]) -> float | None:
    return round(sum(values) / len(values), 2) if values else None


def reviews_value(rule: ReviewsRule, reviews: Sequence[ReviewRecord]) -> float | None:
    """The leadership-review component (0–100) by the formula's rule; None: no review."""
    if not reviews:
        return None
    if rule.measure is ReviewsMeasure.QUARTERS_REVIEWED:
        return round(100 * len({r.quarter for r in reviews}) / 4, 2)
    per_review: list[float] = []
    for review in reviews:
        unknown = sorted(set(review.grades) - set(rule.points))
        if unknown:
            raise InvalidState(
                f"评选办法没有为这些项目给分：{'、'.join(map(str, unknown))}，请补上后再声明。",
                review_id=review.review_id,
            )
        if review.grades:
            per_review.append(sum(rule.points[g] for g in review.grades) / len(review.grades))
    return _mean(per_review)


def composite(formula: Formula, inputs: tuple[Input, ...]) -> float:
    """The declared formula: a weighted sum of the inputs (0–100). A source with no data
    counts as 0, or its weight is spread over the others, as the formula declares. Summed
    with `fsum`, so the order the weights come in (a JSONB column reorders keys) cannot move
    the rounded result by a cent and make a recomputation disagree with the record."""
    values = {i.source: i.value for i in inputs}
    present = {s: w for s, w in formula.weights.items() if values.get(s) is not None}
    if formula.when_missing is WhenMissing.ZERO:
        total = fsum(w * (values.get(s) or 0.0) for s, w in formula.weights.items())
        return round(total, 2)
    weight = fsum(present.values())
    if weight == 0:
        return 0.0
    return round(fsum(w * (values[s] or 0.0) for s, w in present.items()) / weight, 2)
