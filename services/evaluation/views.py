"""Response models: what the API answers (never a rater id next to a ballot: E3)."""

from __future__ import annotations

from datetime import date
from typing import Any

from pydantic import BaseModel, ConfigDict

from services.evaluation.events import SubjectResult


class View(BaseModel):
    model_config = ConfigDict(extra="ignore")


class Accepted(BaseModel):
    model_config = ConfigDict(extra="allow")

    id: str
    events: list[str]


class CalendarView(View):
    county_id: str
    year: int
    first_round_closes: date
    second_round_closes: date
    default: bool


class SubjectView(View):
    subject_kind: str
    subject_id: str
    subject_name: str
    branch_id: str


class RoundView(View):
    round_id: str
    township_id: str
    organiser_kind: str
    organiser_id: str
    title: str
    year: int
    half: int
    content: list[str]
    scale: dict[str, Any]
    opens_on: date
    closes_on: date
    status: str
    closed_on: date | None
    held_with: str | None = None  # E4: "secretary_annual_report" when combined with it
    subjects: list[SubjectView]


class OrganisationTurnout(View):
    organisation_id: str
    registered: int
    voted: int
    rate: float


class ChannelTurnout(View):
    channel: str
    raters: int


class TurnoutView(View):
    round_id: str
    registered: int
    voted: int
    rate: float
    by_organisation: list[OrganisationTurnout]
    by_channel: list[ChannelTurnout]


class PersonalView(View):
    """A member of the public's personal data for the office that registered them: masked,
    or 已删除 once erased (A7). Never in a public page or release."""

    name: str | None
    phone: str | None
    id_number: str | None
    erased: bool


class RaterView(PersonalView):
    """A registered rater, for the round's organiser."""

    rater_id: str
    rater_kind: str
    organisation_id: str
    member_id: str | None
    voted: bool


class RatersView(View):
    round_id: str
    raters: list[RaterView]


class ResultsView(View):
    round_id: str
    title: str
    published: bool
    published_on: date | None = None
    results: list[SubjectResult]


class SubjectAudit(View):
    subject_id: str
    participations: int
    ballots: int


class AuditProblem(View):
    # unregistered_rater, repeated_participation, not_a_subject or ballots_differ
    problem: str
    rater_id: str | None  # who took part (never what they chose)
    subject_id: str
    detail: str


class AuditView(View):
    round_id: str
    registered_raters: int
    raters_who_voted: int
    ballots: int
    subjects: list[SubjectAudit]
    problems: list[AuditProblem]
    consistent: bool


class CheckAuditView(View):
    check_id: str
    registered_raters: int
    raters_who_voted: int
    participations: int  # by distinct registered raters
    ballots: int
    problems: list[AuditProblem]
    consistent: bool


class CheckView(View):
    check_id: str
    pledge_id: str
    item_id: str
    township_id: str
    title: str
    summary: str
    threshold: float
    opens_on: date
    closes_on: date
    status: str
    verdict: str | None
    satisfaction_rate: float | None
    ballots: int | None
    registered: int
    voted: int


class CheckRaterView(PersonalView):
    rater_id: str
    member_id: str | None
    voted: bool
    channel: str | None


class CheckRatersView(View):
    check_id: str
    raters: list[CheckRaterView]


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


class MemberCopy(View):
    member_id: str
    name: str
    post: str


class BranchCopy(View):
    branch_id: str
    name: str
    kind: str
    secretary_id: str | None
    members: list[MemberCopy]


class TownshipCopy(View):
    township_id: str
    county_id: str
    name: str
    branches: list[BranchCopy]
