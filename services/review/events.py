"""The review service's events: leadership reviews (R1–R5), work journals (R6) and
contact-point guidance visits (R7).

Past tense, frozen, registered below; the registry also generates the AsyncAPI document.
Nothing is edited in place: a correction is a new event that supersedes the earlier one.
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Any

from pydantic import ConfigDict

from shared.events import DomainEvent, EventRegistry, PlainText
from shared.files import FileRef


class SubjectKind(StrEnum):
    BRANCH = "branch"
    MEMBER = "member"


class Occasion(StrEnum):
    """R2: where the review is held."""

    ORGANISATION_LIFE_MEETING = "organisation_life_meeting"  # 组织生活会
    SECRETARIES_MEETING = "secretaries_meeting"  # 支部书记例会
    MEMBERS_MEETING = "members_meeting"  # 党员大会
    AD_HOC = "ad_hoc"  # 随机点评


class Cadence(StrEnum):
    """R4: quarterly in principle, ad hoc allowed."""

    QUARTERLY = "quarterly"
    AD_HOC = "ad_hoc"


class Grade(StrEnum):
    """The default member-appraisal scale (E7), used for every review dimension."""

    EXCELLENT = "excellent"  # 优秀
    QUALIFIED = "qualified"  # 合格
    BASICALLY_QUALIFIED = "basically_qualified"  # 基本合格
    UNQUALIFIED = "unqualified"  # 不合格


class Dimension(StrEnum):
    """R3: the content dimensions of a review."""

    KEY_WORK = "key_work"
    LEADERSHIP_TEAM_BUILDING = "leadership_team_building"
    GRASSROOTS_ORGANISATION_BUILDING = "grassroots_organisation_building"
    PARTY_CONDUCT = "party_conduct"
    SOLVING_PUBLIC_PROBLEMS = "solving_public_problems"
    WORK_APPROACH = "work_approach"
    EXECUTION = "execution"
    EFFICIENCY_AND_RESULTS = "efficiency_and_results"
    PLEDGE_FULFILMENT = "pledge_fulfilment"


DIMENSIONS: dict[SubjectKind, tuple[Dimension, ...]] = {
    SubjectKind.BRANCH: (
        Dimension.KEY_WORK,
        Dimension.LEADERSHIP_TEAM_BUILDING,
        Dimension.GRASSROOTS_ORGANISATION_BUILDING,
        Dimension.PARTY_CONDUCT,
        Dimension.SOLVING_PUBLIC_PROBLEMS,
        Dimension.PLEDGE_FULFILMENT,
    ),
    SubjectKind.MEMBER: (
        Dimension.WORK_APPROACH,
        Dimension.EXECUTION,
        Dimension.EFFICIENCY_AND_RESULTS,
        Dimension.PLEDGE_FULFILMENT,
    ),
}


class Value(PlainText):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Assessment(Value):
    dimension: Dimension
    grade: Grade
    comment: str


class PledgeLedgerStatus(Value):
    """The subject's pledge as this service's copy showed it when the review was recorded
    (R3 "fulfilment of pledges"); status "none" when the subject has no pledge that year."""

    year: int
    pledge_id: str | None
    status: str  # none / drafting / under_review / returned / approved / published
    items_total: int
    items_open: int
    items_closed: int


# --- leadership reviews (R1–R5) --------------------------------------------------------


class ReviewContent(DomainEvent):
    """Fields every version of a review carries (not registered itself)."""

    aggregate_type = "review"
    review_id: str
    township_id: str
    branch_id: str
    subject_kind: SubjectKind
    subject_id: str
    subject_name: str
    reviewer_id: str
    reviewer_name: str
    occasion: Occasion
    cadence: Cadence
    quarter: str  # e.g. "2027Q1", from held_on
    held_on: date
    achievements: str  # achievements affirmed
    shortcomings: str  # shortcomings found
    direction: str  # direction for improvement
    assessments: tuple[Assessment, ...]
    pledge_status: PledgeLedgerStatus


class ReviewRecorded(ReviewContent):
    """`files`: evidence files (shared/files.py), each by its SHA-256, size, type and name."""

    schema_version = 2
    files: tuple[FileRef, ...]


class ReviewCorrected(ReviewContent):
    """Supersedes `corrects_review_id` (the version current until now); `review_id` is the
    new version's id. Both stay in the log and in the ledger's history. `files`: the new
    version's."""

    schema_version = 2
    corrects_review_id: str
    original_review_id: str
    reason: str
    files: tuple[FileRef, ...]


# --- work journal (R6) -----------------------------------------------------------------


class JournalEntryRecorded(DomainEvent):
    aggregate_type = "journal"
    schema_version = 2
    entry_id: str
    township_id: str
    branch_id: str
    member_id: str
    month: str  # e.g. "2027-01"
    recorded_on: date
    work_content: str
    duty_performance: str
    # the branch secretary who entered it from the member's paper on the member's behalf
    # (the envelope's actor); None: the member themself (R6)
    entered_by: str | None = None
    files: tuple[FileRef, ...]  # evidence files (shared/files.py)


class JournalEntryCorrected(DomainEvent):
    aggregate_type = "journal"
    schema_version = 2
    entry_id: str  # the new version
    corrects_entry_id: str
    township_id: str
    branch_id: str
    member_id: str
    month: str
    recorded_on: date
    work_content: str
    duty_performance: str
    reason: str
    entered_by: str | None = None  # the secretary, from the member's paper (R6)
    files: tuple[FileRef, ...]  # the new version's evidence files


class MonthlyPresentationEvaluated(DomainEvent):
    """The member presented the month's journal at the organisation life meeting and got
    this evaluation (R6)."""

    aggregate_type = "journal"
    township_id: str
    branch_id: str
    member_id: str
    month: str
    presented_on: date
    entry_ids: tuple[str, ...]  # the current versions gathered for the presentation
    grade: Grade
    evaluation: str
    evaluator_id: str
    evaluator_name: str


# --- guidance visits (R7) --------------------------------------------------------------


class GuidanceVisitRecorded(DomainEvent):
    aggregate_type = "visit"
    schema_version = 2
    visit_id: str
    township_id: str
    branch_id: str
    cadre_id: str
    cadre_name: str
    visited_on: date
    summary: str
    problems_found: str | None = None
    guidance_given: str | None = None
    files: tuple[FileRef, ...]  # evidence files (shared/files.py): photos, minutes


# --- responsible leaders (R1: 创先办安排负责人…普遍开展点评) ------------------------------


class LeaderAssigned(DomainEvent):
    """The township office assigns a leader of the township to a branch: from now the leader
    reviews the branch, its leadership team and its secretary, beside the head (R1). Stream
    `leaders-<branch_id>`."""

    aggregate_type = "branch_leaders"
    township_id: str
    branch_id: str
    leader_id: str  # the person, as a township committee token names them (its subject)
    leader_name: str
    assigned_on: date


class LeaderUnassigned(DomainEvent):
    """The assignment ends: the leader's reviews stay; new ones are the head's or another's."""

    aggregate_type = "branch_leaders"
    township_id: str
    branch_id: str
    leader_id: str
    unassigned_on: date


REGISTRY = EventRegistry(
    "review",
    [
        ReviewRecorded,
        ReviewCorrected,
        JournalEntryRecorded,
        JournalEntryCorrected,
        MonthlyPresentationEvaluated,
        GuidanceVisitRecorded,
        LeaderAssigned,
        LeaderUnassigned,
    ],
)


# --- old schema versions ------------------------------------------------------------------
# Frozen as they were written (invariant 6); nothing decides with them.


class ReviewRecordedV1(ReviewContent):
    """ReviewRecorded as written before evidence files: no `files`."""

    old_version_of = "ReviewRecorded"


class ReviewCorrectedV1(ReviewContent):
    """ReviewCorrected as written before evidence files: no `files`."""

    old_version_of = "ReviewCorrected"
    corrects_review_id: str
    original_review_id: str
    reason: str


class JournalEntryRecordedV1(DomainEvent):
    """JournalEntryRecorded as written before evidence files: no `files`."""

    aggregate_type = "journal"
    old_version_of = "JournalEntryRecorded"
    entry_id: str
    township_id: str
    branch_id: str
    member_id: str
    month: str
    recorded_on: date
    work_content: str
    duty_performance: str
    entered_by: str | None = None


class JournalEntryCorrectedV1(DomainEvent):
    """JournalEntryCorrected as written before evidence files: no `files`."""

    aggregate_type = "journal"
    old_version_of = "JournalEntryCorrected"
    entry_id: str
    corrects_entry_id: str
    township_id: str
    branch_id: str
    member_id: str
    month: str
    recorded_on: date
    work_content: str
    duty_performance: str
    reason: str
    entered_by: str | None = None


class GuidanceVisitRecordedV1(DomainEvent):
    """GuidanceVisitRecorded as written before evidence files: no `files`."""

    aggregate_type = "visit"
    old_version_of = "GuidanceVisitRecorded"
    visit_id: str
    township_id: str
    branch_id: str
    cadre_id: str
    cadre_name: str
    visited_on: date
    summary: str
    problems_found: str | None = None
    guidance_given: str | None = None


@REGISTRY.upcaster("ReviewRecorded", 1, reads=ReviewRecordedV1)
@REGISTRY.upcaster("ReviewCorrected", 1, reads=ReviewCorrectedV1)
@REGISTRY.upcaster("JournalEntryRecorded", 1, reads=JournalEntryRecordedV1)
@REGISTRY.upcaster("JournalEntryCorrected", 1, reads=JournalEntryCorrectedV1)
@REGISTRY.upcaster("GuidanceVisitRecorded", 1, reads=GuidanceVisitRecordedV1)
def _no_files(data: dict[str, Any]) -> dict[str, Any]:
    return {**data, "files": []}  # written before evidence files: none attached
