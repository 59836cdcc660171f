"""Response models of mass evaluation rounds (E1–E5) and the calendar (E4): what the API answers
(never a rater id next to a ballot: E3)."""

from __future__ import annotations

from datetime import date
from typing import Any

from services.evaluation.rounds.events import SubjectResult
from services.evaluation.schemas import AuditProblem, Erasure, PersonalView, View


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


class RoundSummary(View):
    round_id: str
    township_id: str
    organiser_kind: str
    organiser_id: str
    title: str
    year: int
    half: int
    opens_on: date
    closes_on: date
    status: str
    closed_on: date | None


class RoundPage(View):
    total: int
    limit: int
    offset: int
    rows: list[RoundSummary]


class MemberRound(RoundSummary):
    """A round a member rates in: invited (a code was issued to them), voted."""

    invited: bool
    voted: bool


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


class RaterView(PersonalView):
    """A registered rater, for the round's organiser."""

    rater_id: str
    rater_kind: str
    organisation_id: str
    member_id: str | None
    voted: bool
    invited: bool  # an invitation (code) was issued to them


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


class AuditView(View):
    round_id: str
    registered_raters: int
    raters_who_voted: int
    ballots: int
    in_urn: int  # web ballots waiting for their shuffled batch (0 once closed)
    subjects: list[SubjectAudit]
    problems: list[AuditProblem]
    consistent: bool
    erasures: list[Erasure]  # raters whose personal data was erased (A7): when, by whom
