"""Commands of the annual selection (S1–S3), as the API receives them."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from pydantic import Field

from services.evaluation.commands import Id, Title, Year
from shared.events import Command
from shared.text import Lines

Weight = Annotated[float, Field(ge=0, le=1)]
Reason = Annotated[Lines, Field(min_length=2, max_length=2000)]


class OpenSelection(Command):
    """The organisation holding it, by level: the township (`township_id`), the county
    (`county_id`, selecting from the townships' winners) or a branch (`branch_id`, among its
    members)."""

    level: Literal["township", "county", "branch"] = "township"
    township_id: Id | None = None
    county_id: Id | None = None
    branch_id: Id | None = None
    year: Year
    title: Title
    subject_kind: Literal["branch", "member"]
    notice_days: Annotated[int, Field(ge=5, le=30)] = 7
    commendation_on: date | None = None  # None: July 1 of the year


ReviewGrade = Literal["excellent", "qualified", "basically_qualified", "unqualified"]


class DeclareFormula(Command):
    weights: Annotated[
        dict[Literal["ratings", "evaluation", "pledges", "reviews"], Weight],
        Field(min_length=1),
    ]
    when_missing: Literal["zero", "reweight"]
    quotas: Annotated[
        tuple[Annotated[int, Field(ge=1, le=500)], ...], Field(min_length=1, max_length=5)
    ]
    # points per review grade (R3), every grade; None: the member-appraisal scale's scores
    review_points: dict[ReviewGrade, Annotated[float, Field(ge=0, le=100)]] | None = None
    # the data window (S2), both or neither; neither: the twelve months before the opening
    window_starts_on: date | None = None
    window_ends_on: date | None = None


class Nominate(Command):
    subject_id: Id
    reason: Reason


class StageDecision(Command):
    subject_id: Id
    advanced: bool
    reason: Reason  # in the deciding body's own words: what the board shows


class DecideStage(Command):
    """S2: the body the stage names decides every candidate scored in it."""

    decisions: Annotated[list[StageDecision], Field(min_length=1, max_length=500)]


class FileObjection(Command):
    subject_id: Id
    summary: Reason


class AnswerObjection(Command):
    answer: Reason
    upheld: bool
