"""What the API returns (response models)."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel

from shared.files import FileRef


class Accepted(BaseModel):
    """A command was accepted: the id it concerns and the events it recorded."""

    id: str
    events: list[str]
    quarter: str | None = None
    version_id: str | None = None
    corrects: str | None = None


class AssessmentView(BaseModel):
    dimension: str
    grade: str
    comment: str


class PledgeStatusView(BaseModel):
    year: int
    pledge_id: str | None
    status: str
    items_total: int
    items_open: int
    items_closed: int


class ReviewView(BaseModel):
    review_id: str
    original_review_id: str
    corrects_review_id: str | None
    superseded_by: str | None
    township_id: str
    branch_id: str
    subject_kind: str
    subject_id: str
    subject_name: str
    reviewer_id: str
    reviewer_name: str
    occasion: str
    cadence: str
    quarter: str
    held_on: date
    achievements: str
    shortcomings: str
    direction: str
    assessments: list[AssessmentView]
    pledge_status: PledgeStatusView
    reason: str | None
    recorded_at: datetime
    files: list[FileRef] = []  # evidence files: GET /v1/files/{sha256}


class ReviewWithHistory(ReviewView):
    versions: list[ReviewView]


class Coded(BaseModel):
    code: str
    label: str  # what a person reads, in simplified Chinese


class ReviewScales(BaseModel):
    """R3: per subject kind, the dimensions a review must assess, every one; the grades."""

    dimensions: dict[str, list[Coded]]
    grades: list[Coded]
    occasions: list[Coded]


class Page(BaseModel):
    total: int
    limit: int
    offset: int


class ReviewPage(Page):
    rows: list[ReviewView]


class Tally(BaseModel):
    total: int
    reviewed: int


class NotReviewed(BaseModel):
    subject_kind: str
    subject_id: str
    branch_id: str
    name: str


class CoverageReport(BaseModel):
    """R5: who in the township has not been reviewed in the quarter."""

    township_id: str
    township_name: str
    quarter: str
    as_of: datetime | None = None  # null: live
    branches: Tally
    members: Tally
    complete: bool
    not_reviewed: list[NotReviewed]


class JournalEntryView(BaseModel):
    entry_id: str
    corrects_entry_id: str | None
    superseded_by: str | None
    township_id: str
    branch_id: str
    member_id: str
    month: str
    recorded_on: date
    work_content: str
    duty_performance: str
    reason: str | None
    entered_by: str | None  # the secretary who entered it from the member's paper (R6)
    recorded_at: datetime
    files: list[FileRef] = []  # evidence files: GET /v1/files/{sha256}


class PresentationView(BaseModel):
    member_id: str
    month: str
    presented_on: date
    entry_ids: list[str]
    grade: str
    evaluation: str
    evaluator_id: str
    evaluator_name: str


class JournalView(BaseModel):
    member_id: str
    month: str | None
    entries: list[JournalEntryView]
    presentations: list[PresentationView]


class BranchJournals(BaseModel):
    """R6: the month's journal of each member of a branch."""

    branch_id: str
    month: str
    journals: list[JournalView]


class VisitView(BaseModel):
    visit_id: str
    township_id: str
    branch_id: str
    cadre_id: str
    cadre_name: str
    visited_on: date
    summary: str
    problems_found: str | None
    guidance_given: str | None
    files: list[FileRef] = []  # evidence files: GET /v1/files/{sha256}


class VisitPage(Page):
    rows: list[VisitView]


class MemberCopy(BaseModel):
    member_id: str
    name: str
    post: str
    leadership_team: bool
    active: bool


class BranchCopy(BaseModel):
    branch_id: str
    township_id: str
    name: str
    kind: str
    secretary_id: str | None
    head_id: str | None
    active: bool
    members: list[MemberCopy]


class BranchLeader(BaseModel):
    """A leader the township office assigned to the branch (R1), while assigned."""

    branch_id: str
    leader_id: str
    leader_name: str
    assigned_on: date
    township_id: str


class LeaderPage(Page):
    rows: list[BranchLeader]
