"""Response models of periodic ratings (E6)."""

from __future__ import annotations

from datetime import date

from services.evaluation.schemas import View


class RatedView(View):
    subject_kind: str
    subject_id: str
    subject_name: str
    grade: str
    score: float


class RatingView(View):
    rating_id: str
    township_id: str
    branch_id: str | None
    period: str
    level: str
    published_on: date
    results: list[RatedView]


class RatingPage(View):
    total: int
    limit: int
    offset: int
    rows: list[RatingView]
