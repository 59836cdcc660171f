"""The evaluation calendar (E4): by when each half-year's round closes, per county and year.
Pure; no I/O."""

from __future__ import annotations

from datetime import date

from services.evaluation.rounds.events import EvaluationCalendarSet
from shared.aggregate import Aggregate
from shared.errors import InvalidInput, InvalidState
from shared.events import DomainEvent


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
                "第一轮评议须在当年内结束，第二轮在次年1月内结束：请按此修改日期。",
                field="second_round_closes" if first.year == year else "first_round_closes",
            )
        if self.closing == (first, second):
            raise InvalidState("评议日历已经是这些日期，无需再次设置。")
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
