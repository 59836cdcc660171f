"""Periodic ratings (E6) and the evaluation calendar (E4). Pure; no I/O.

The township rates its branches every two months ("2027-B1" .. "2027-B6"); each branch rates
its members every month ("2027-01" .. "2027-12"). One rating per organisation per period: the
id is derived, so a second one conflicts.
"""

from __future__ import annotations

import re
from datetime import date

from services.evaluation.events import (
    EvaluationCalendarSet,
    RatedSubject,
    RatingLevel,
    RatingResultsPublished,
)
from shared.aggregate import Aggregate
from shared.errors import InvalidInput, InvalidState
from shared.events import DomainEvent

PERIOD = {
    RatingLevel.TOWNSHIP_RATES_BRANCHES: re.compile(r"^(\d{4})-B([1-6])$"),
    RatingLevel.BRANCH_RATES_MEMBERS: re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$"),
}


def period_start(level: RatingLevel, period: str) -> date:
    match = PERIOD[level].match(period)
    if match is None:
        cadence = (
            "bimonthly, e.g. 2027-B1"
            if level is RatingLevel.TOWNSHIP_RATES_BRANCHES
            else ("monthly, e.g. 2027-01")
        )
        raise InvalidInput(f"period {period!r} is not {cadence}", field="period")
    year, part = int(match.group(1)), int(match.group(2))
    month = (part - 1) * 2 + 1 if level is RatingLevel.TOWNSHIP_RATES_BRANCHES else part
    return date(year, month, 1)


class Rating(Aggregate):
    def blank(self) -> None:
        self.published = False

    @staticmethod
    def id_for(organisation_id: str, period: str) -> str:
        return f"{organisation_id}-{period}"

    @classmethod
    def publish(
        cls,
        *,
        level: RatingLevel,
        township_id: str,
        branch_id: str | None,
        period: str,
        results: list[RatedSubject],
        today: date,
    ) -> Rating:
        if period_start(level, period) > today:
            raise InvalidInput(f"period {period} has not started yet", field="period")
        ids = [r.subject_id for r in results]
        if len(ids) != len(set(ids)):
            raise InvalidInput("a subject is rated twice", field="results")
        rating_id = cls.id_for(branch_id or township_id, period)
        rating = cls(f"rating-{rating_id}", township_id)
        rating._record(
            RatingResultsPublished(
                rating_id=rating_id,
                township_id=township_id,
                branch_id=branch_id,
                period=period,
                level=level,
                published_on=today,
                results=tuple(results),
            )
        )
        return rating

    def apply(self, event: DomainEvent) -> None:
        match event:
            case RatingResultsPublished():
                self.published = True


def default_closing_dates(year: int) -> tuple[date, date]:
    """E4's defaults: the first round closes by July 10, the second by January 5 next year."""
    return date(year, 7, 10), date(year + 1, 1, 5)


class EvaluationCalendar(Aggregate):
    """Per county and year (E4): data, not constants; the defaults apply until it is set."""

    def blank(self) -> None:
        self.county_id = ""
        self.year = 0
        self.closing: tuple[date, date] | None = None

    @staticmethod
    def stream_for(county_id: str, year: int) -> str:
        return f"calendar-{county_id}-{year}"

    def set(self, county_id: str, year: int, first: date, second: date) -> None:
        if not (first.year == year and second.year in (year, year + 1) and first < second):
            raise InvalidInput(
                "the first round closes in the year, the second after it, by January next year",
                field="second_round_closes" if first.year == year else "first_round_closes",
            )
        if self.closing == (first, second):
            raise InvalidState("the calendar already has these dates")
        self._record(
            EvaluationCalendarSet(
                county_id=county_id,
                year=year,
                first_round_closes=first,
                second_round_closes=second,
            )
        )

    def closing_dates(self, year: int) -> tuple[date, date]:
        return self.closing or default_closing_dates(year)

    def apply(self, event: DomainEvent) -> None:
        match event:
            case EvaluationCalendarSet():
                self.county_id, self.year = event.county_id, event.year
                self.closing = (event.first_round_closes, event.second_round_closes)
