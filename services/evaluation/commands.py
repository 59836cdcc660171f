"""Commands, as the API receives them: imperative, validated, no unknown fields."""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated, Literal

from pydantic import AfterValidator, Field, model_validator

from services.evaluation.events import Channel, Grade, RaterKind, RatingLevel
from shared.events import ID_PATTERN, Command
from shared.text import Line, Lines

Id = Annotated[str, Field(pattern=ID_PATTERN)]
Name = Annotated[Line, Field(min_length=1, max_length=100)]
Title = Annotated[Line, Field(min_length=2, max_length=200)]
Year = Annotated[int, Field(ge=2000, le=2100)]
GradeName = Annotated[str, Field(pattern=r"^[a-z][a-z_]{0,39}$")]
Grades = Annotated[dict[Id, GradeName], Field(min_length=1, max_length=500)]


class SetEvaluationCalendar(Command):
    year: Year
    first_round_closes: date
    second_round_closes: date


class GradeInput(Command):
    grade: GradeName
    label: Name
    score: Annotated[float, Field(ge=0, le=100)]
    satisfied: bool  # counts toward the satisfaction rate

    def value(self) -> Grade:
        return Grade(**self.model_dump())


class CustomScale(Command):
    name: Annotated[str, Field(pattern=r"^[a-z][a-z_]{1,39}$")]
    grades: Annotated[tuple[GradeInput, ...], Field(min_length=2, max_length=10)]

    @model_validator(mode="after")
    def _distinct(self) -> CustomScale:
        if len({g.grade for g in self.grades}) != len(self.grades):
            raise ValueError("grades must be distinct")
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

    @model_validator(mode="after")
    def _one_organiser(self) -> OpenRound:
        if (self.township_id is None) == (self.branch_id is None):
            raise ValueError("give exactly one of township_id and branch_id")
        if self.scale is not None and self.custom_scale is not None:
            raise ValueError("give a default scale or a custom scale, not both")
        return self


ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
ID_CHECK = "10X98765432"  # GB 11643: the check character for sum(weights * digits) mod 11


def valid_phone(value: str) -> str:
    """7 to 20 digits, an optional leading +; spaces and hyphens are dropped."""
    digits = value.replace(" ", "").replace("-", "")
    if not re.fullmatch(r"\+?\d{7,20}", digits):
        raise ValueError("a phone number is 7 to 20 digits (spaces, hyphens, a leading +)")
    return digits


def valid_id_number(value: str) -> str:
    """A resident ID number (GB 11643): 17 digits and the check character (0-9 or X)."""
    number = value.upper()
    if not re.fullmatch(r"\d{17}[\dX]", number):
        raise ValueError("an ID number is 17 digits and a check character (0-9 or X)")
    total = sum(int(d) * w for d, w in zip(number, ID_WEIGHTS, strict=False))
    if ID_CHECK[total % 11] != number[-1]:
        raise ValueError("the ID number's check character does not match (GB 11643)")
    return number


class PersonalData(Command):
    """A member of the public's personal data, only sealed in the log (A7); a member's is the
    directory's."""

    member_id: Id | None = None  # a member in the directory; None: someone outside it
    name: Name | None = None
    phone: Annotated[str, AfterValidator(valid_phone)] | None = None
    id_number: Annotated[str, AfterValidator(valid_id_number)] | None = None

    def personal(self) -> dict[str, str]:
        fields = {"name": self.name, "phone": self.phone, "id_number": self.id_number}
        return {k: v for k, v in fields.items() if v is not None}


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
            raise ValueError("one ballot per participant on the sign-in sheet")
        if len(set(self.participants)) != len(self.participants):
            raise ValueError("a participant appears twice on the sign-in sheet")
        return self


class ServedPerson(PersonalData):
    """Someone the item served: a member, or a member of the public (optionally with a name
    and contact details, for the office to reach them)."""


class RegisterServed(Command):
    raters: Annotated[list[ServedPerson], Field(min_length=1, max_length=200)]


class CheckBallot(Command):
    grade: Literal["satisfied", "mostly_satisfied", "dissatisfied"]
    rater_id: Id | None = None  # only when an officer enters a paper / on-site ballot
    channel: Channel = Channel.WEB


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
            raise ValueError(f"{wanted} is required for {self.level.value}")
        return self


# --- annual selection (S1–S3) ------------------------------------------------------------

Weight = Annotated[float, Field(ge=0, le=1)]
Reason = Annotated[Lines, Field(min_length=2, max_length=2000)]


class OpenSelection(Command):
    township_id: Id
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


class Nominate(Command):
    subject_id: Id
    reason: Reason


class FileObjection(Command):
    subject_id: Id
    summary: Reason


class AnswerObjection(Command):
    answer: Reason
    upheld: bool
