"""Periodic ratings (E6). Pure; no I/O.

The township rates its branches every two months ("2027-B1" .. "2027-B6"); each branch rates
its members every month ("2027-01" .. "2027-12"). One rating per organisation per period: the
id is derived, so a second one conflicts.
"""

from __future__ import annotations

import re
from datetime import date

from services.evaluation.ratings.events import RatedSubject, RatingLevel, RatingResultsPublished
from shared import zh
from shared.aggregate import Aggregate
from shared.errors import InvalidInput
from shared.events import DomainEvent

PERIOD = {
    RatingLevel.TOWNSHIP_RATES_BRANCHES: re.compile(r"^(\d{4})-B([1-6])$"),
    RatingLevel.BRANCH_RATES_MEMBERS: re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$"),
}


def period_start(level: RatingLevel, period: str) -> date:
    match = PERIOD[level].match(period)
    if match is None:
        cadence = (
            "双月（如 2027-B1）的格式"
            if level is RatingLevel.TOWNSHIP_RATES_BRANCHES
            else "月份（如 2027-01）的格式"
        )
        raise InvalidInput(f"期间“{period}”的格式不对：请按{cadence}填写。", field="period")
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
            raise InvalidInput(
                f"{zh.period(period)}还没有开始：请等该期间开始后再评定。", field="period"
            )
        ids = [r.subject_id for r in results]
        if len(ids) != len(set(ids)):
            raise InvalidInput("同一对象评定了两次：每个对象只评一次。", field="results")
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
