"""Response models of satisfaction checks (E8)."""

from __future__ import annotations

from datetime import date

from services.evaluation.schemas import AuditProblem, Erasure, PersonalView, View


class CheckAuditView(View):
    check_id: str
    registered_raters: int
    raters_who_voted: int
    participations: int  # by distinct registered raters
    ballots: int
    in_urn: int  # web ballots waiting for their shuffled batch (0 once closed)
    problems: list[AuditProblem]
    consistent: bool
    erasures: list[Erasure]  # raters whose personal data was erased (A7): when, by whom


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
    invited: bool  # an invitation (code) was issued to them
    channel: str | None


class CheckRatersView(View):
    check_id: str
    raters: list[CheckRaterView]


class CheckTermsView(View):
    """The county's terms for a year's satisfaction checks (P10c); `default`: not set."""

    county_id: str
    year: int
    threshold: float
    window_days: int
    default: bool
