"""What the API returns (response models)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import BaseModel


class Accepted(BaseModel):
    """A command was accepted: the id it concerns and the events it recorded."""

    id: str
    events: list[str]
    item_ids: list[str] | None = None
    opinion_id: str | None = None
    report_id: str | None = None
    follow_up_id: str | None = None
    status: str | None = None
    round: int | None = None


class TownshipSummary(BaseModel):
    township_id: str
    name: str
    head_name: str | None


class CountyView(BaseModel):
    county_id: str
    name: str
    townships: list[TownshipSummary]
    calendars: dict[int, date]
    categories: dict[str, list[str]]


class BranchSummary(BaseModel):
    branch_id: str
    name: str
    kind: str
    village: str | None
    active: bool


class TownshipView(BaseModel):
    township_id: str
    county_id: str
    name: str
    head_name: str | None
    branches: list[BranchSummary]


class MemberView(BaseModel):
    member_id: str
    branch_id: str
    township_id: str
    name: str
    post: str
    duties: str
    leadership_team: bool
    active: bool


class BranchView(BaseModel):
    branch_id: str
    township_id: str
    county_id: str
    name: str
    kind: str
    village: str | None
    secretary_id: str | None
    active: bool
    members: list[MemberView]


class ItemView(BaseModel):
    item_id: str
    title: str
    description: str
    category: str
    target: str
    due_date: date
    shaped_by: list[str]
    review_status: str
    guidance: str | None
    ledger_status: str | None
    done_reported: bool
    problem_solved: bool
    implementation_verified: bool
    verdict: str | None
    satisfaction_rate: float | None
    progress_percent: int
    closed_at: datetime | None
    open_reasons: list[str]


class RevisionView(BaseModel):
    """A returned pledge resubmitted: its round, the pledger's note (修改说明), the items
    it revised."""

    round: int
    note: str
    item_ids: list[str]
    at: datetime


class PledgeView(BaseModel):
    pledge_id: str
    year: int
    pledger_kind: str
    pledger_name: str
    branch_id: str
    member_id: str | None
    township_id: str
    standard: str
    status: str
    round: int
    basis: str | None
    letter_no: str | None
    published_at: datetime | None
    items: list[ItemView]
    opinions: list[dict[str, Any]]
    reviews: list[dict[str, Any]]  # every round's, in order (P5)
    revisions: list[RevisionView] = []  # each resubmission's note, in order (P5)
    # a member's pledge entered (in part) by the branch secretary on the member's behalf
    entered_on_behalf: bool = False
    activity: list[dict[str, Any]]
    quarterly_pushes: list[dict[str, Any]]


class PledgeSummary(BaseModel):
    pledge_id: str
    year: int
    pledger_kind: str
    pledger_name: str
    branch_id: str
    member_id: str | None
    township_id: str
    status: str
    published_at: datetime | None


class LedgerRow(BaseModel):
    item_id: str
    pledge_id: str
    year: int
    township: str
    branch: str
    pledger_kind: str
    pledger_name: str
    title: str
    category: str
    target: str
    due_date: date
    status: str
    progress_percent: int
    open_reasons: list[str]
    closed_at: datetime | None
    drafted_late: bool = False  # P6: the pledge was approved after the drafting deadline


class Page(BaseModel):
    total: int
    limit: int
    offset: int


class LedgerPage(Page):
    rows: list[LedgerRow]


class MemberRow(MemberView):
    branch: str  # the branch's name


class MemberPage(Page):
    rows: list[MemberRow]


class PledgePage(Page):
    rows: list[PledgeSummary]


class PledgerStatus(BaseModel):
    pledger_kind: str
    branch_id: str
    member_id: str | None
    name: str
    pledge_id: str | None
    status: str  # none / drafting / under_review / returned / approved / published
    finished: bool
    approved_on: date | None = None
    late: bool = False  # P6: approved after the drafting deadline, or not approved by it


class DraftingReport(BaseModel):
    """P6: who has not finished drafting by the deadline."""

    township_id: str
    year: int
    deadline: date
    today: date
    overdue: bool
    not_finished: list[PledgerStatus]
    finished: int
    finished_late: list[PledgerStatus]  # approved after the deadline: still marked late
    publication_deadline: date
    not_published: list[PledgerStatus]  # P7: approved, not yet published
    publication_overdue: bool


class QuarterlyPushReport(BaseModel):
    township_id: str
    quarter: str
    pushed: list[str]
    not_pushed: list[str]
