"""Commands of mass evaluation rounds (E1–E5, E7) and of the calendar (E4), as the API receives
them: imperative, validated, no unknown fields."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from pydantic import Field, model_validator

from services.evaluation.commands import GradeName, Id, Name, PersonalData, Title, Year
from services.evaluation.rounds.events import Channel, Grade, RaterKind
from shared.events import Command, Part

Grades = Annotated[dict[Id, GradeName], Field(min_length=1, max_length=500)]


class SetEvaluationCalendar(Command):
    year: Year
    first_round_closes: date
    second_round_closes: date


class ScaleGrade(Part):
    """A grade of a configured scale, as the organiser gives it (E7)."""

    grade: GradeName
    label: Name
    score: Annotated[float, Field(ge=0, le=100)]
    satisfied: bool  # counts toward the satisfaction rate

    def value(self) -> Grade:
        return Grade(**self.model_dump())


class CustomScale(Command):
    name: Annotated[str, Field(pattern=r"^[a-z][a-z_]{1,39}$")]
    grades: Annotated[tuple[ScaleGrade, ...], Field(min_length=2, max_length=10)]

    @model_validator(mode="after")
    def _distinct(self) -> CustomScale:
        if len({g.grade for g in self.grades}) != len(self.grades):
            raise ValueError("等次不能重复：请修改重复的等次")
        return self


class OpenRound(Command):
    """E1, E2, E4: the township office organises for its branches (`township_id`); a branch
    secretary for the branch's members (`branch_id`)."""

    title: Title
    year: Year
    half: Literal[1, 2]
    township_id: Id | None = None
    branch_id: Id | None = None
    subject_ids: Annotated[tuple[Id, ...], Field(max_length=500)] = ()  # () = all of them
    scale: Literal["public_satisfaction", "member_appraisal"] | None = None  # E7 defaults
    custom_scale: CustomScale | None = None  # E7: a configured scale instead
    opens_on: date
    closes_on: date | None = None  # None: the county calendar's date for this half
    # E4: held together with the branch secretary's annual report (述职评议)
    held_with: Literal["secretary_annual_report"] | None = None
    # web ballots wait in the urn until this many are appended together, shuffled (issue 17;
    # None: the service's GONGKAI_URN_BATCH, 10 by default)
    urn_batch: Annotated[int, Field(ge=2, le=1000)] | None = None

    @model_validator(mode="after")
    def _one_organiser(self) -> OpenRound:
        if (self.township_id is None) == (self.branch_id is None):
            raise ValueError(
                "请填写乡镇（township_id）或支部（branch_id）中的一个，不能都填或都不填"
            )
        if self.scale is not None and self.custom_scale is not None:
            raise ValueError("请选用默认等次或自定义等次中的一种，不能同时填写")
        return self


class RaterEntry(PersonalData):
    kind: RaterKind
    organisation_id: Id | None = None  # for turnout; default: the member's branch / organiser


class RegisterRaters(Command):
    raters: Annotated[list[RaterEntry], Field(min_length=1, max_length=500)]


class CastBallot(Command):
    """A rater votes on the web (E3a): grades per subject."""

    grades: Grades


class EnterPaperBallots(Command):
    """An officer enters a stack of paper / on-site ballots with its sign-in sheet (E3a): who
    handed one in, and the ballots, in no particular order (they are shuffled anyway)."""

    channel: Literal[Channel.PAPER, Channel.ON_SITE]
    participants: Annotated[list[Id], Field(min_length=1, max_length=500)]
    ballots: Annotated[list[Grades], Field(min_length=1, max_length=500)]

    @model_validator(mode="after")
    def _one_ballot_each(self) -> EnterPaperBallots:
        if len(self.participants) != len(self.ballots):
            raise ValueError("每位签到的参会人只对应一张选票：请核对选票数与签到名单")
        if len(set(self.participants)) != len(self.participants):
            raise ValueError("签到名单中有人出现了两次：请删去重复的人")
        return self
