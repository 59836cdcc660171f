"""Commands of periodic ratings (E6), as the API receives them."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, model_validator

from services.evaluation.commands import Id
from services.evaluation.ratings.events import RatingLevel
from shared.events import Command


class RatedEntry(Command):
    subject_id: Id
    grade: Literal["excellent", "qualified", "basically_qualified", "unqualified"]
    score: Annotated[float, Field(ge=0, le=100)]


class PublishRating(Command):
    level: RatingLevel
    township_id: Id | None = None  # the township rates its branches
    branch_id: Id | None = None  # the branch rates its members
    period: Annotated[str, Field(pattern=r"^\d{4}-(B[1-6]|0[1-9]|1[0-2])$")]
    results: Annotated[list[RatedEntry], Field(min_length=1, max_length=500)]

    @model_validator(mode="after")
    def _organisation(self) -> PublishRating:
        wanted = "township_id" if self.level is RatingLevel.TOWNSHIP_RATES_BRANCHES else "branch_id"
        if getattr(self, wanted) is None:
            raise ValueError(f"这一级评定须填写 {wanted}")
        return self
