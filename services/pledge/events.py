"""The pledge service's events: the directory (D1–D3) and pledges (P1–P11).

Past tense, frozen, registered below; the registry also generates the AsyncAPI document.
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Any

from pydantic import ConfigDict

from shared.events import DomainEvent, EventRegistry, PlainText
from shared.files import FileRef


class BranchKind(StrEnum):
    VILLAGE = "village"
    AGENCY = "agency"
    SCHOOL = "school"


class PledgeStatus(StrEnum):
    """Where a pledge stands (read models and the ledger show it; the pledge decides it)."""

    DRAFTING = "drafting"
    UNDER_REVIEW = "under_review"
    RETURNED = "returned"
    APPROVED = "approved"
    PUBLISHED = "published"


class PledgerKind(StrEnum):
    BRANCH = "branch"
    MEMBER = "member"


class Standard(StrEnum):
    FIVE_GOOD = "five_good"  # 五个好, for branches
    FIVE_TAKE_THE_LEAD = "five_take_the_lead"  # 五带头, for members


class OpinionChannel(StrEnum):
    RESEARCH_VISIT = "research_visit"  # 调研走访
    TALK = "talk"  # 谈话交流
    SYMPOSIUM = "symposium"  # 座谈会
    SUGGESTION_BOX = "suggestion_box"  # 意见箱
    OPINION_FORM = "opinion_form"  # 意见表


class ReviewDecision(StrEnum):
    APPROVED = "approved"
    RETURNED = "returned"


class Verdict(StrEnum):
    SATISFIED = "satisfied"
    DISSATISFIED = "dissatisfied"


class OpenReason(StrEnum):
    """Why a published item is still open (P10); the pledge decides them (aggregates/)."""

    NOT_REPORTED_DONE = "not_reported_done"
    PROBLEM_NOT_SOLVED = "problem_not_solved"
    IMPLEMENTATION_NOT_VERIFIED = "implementation_not_verified"
    SATISFACTION_PENDING = "satisfaction_pending"
    SATISFACTION_NOT_RATED = "satisfaction_not_rated"  # 未开展满意度测评: the check had no ballot
    PUBLIC_NOT_SATISFIED = "public_not_satisfied"


class ClosingReason(StrEnum):
    """The passes that closed an item: P10's "three no-pass", all three."""

    PROBLEM_SOLVED = "problem_solved"
    IMPLEMENTATION_VERIFIED = "implementation_verified"
    PUBLIC_SATISFIED = "public_satisfied"


# An item's open reasons as they stand after one of its events (`None`: the event was written
# before they were recorded, and the ledger states them by the pledge's rule).
OpenReasons = tuple[OpenReason, ...] | None


class Value(PlainText):
    model_config = ConfigDict(frozen=True, extra="forbid")


class ItemProposal(Value):
    item_id: str
    title: str
    description: str
    category: str
    target: str  # the measurable target
    due_date: date
    shaped_by: tuple[str, ...] = ()  # opinion ids (P3)


class Evidence(Value):
    description: str
    url: str | None = None


# --- directory -------------------------------------------------------------------------


class CountyEstablished(DomainEvent):
    aggregate_type = "county"
    county_id: str
    name: str


class PledgeCalendarSet(DomainEvent):
    """`publication_deadline`: every approved pledge is published by then (P7); absent (and
    by default) sixteen days after the drafting deadline (March 31 for March 15)."""

    aggregate_type = "county"
    county_id: str
    year: int
    drafting_deadline: date
    publication_deadline: date | None = None


class CategoriesConfigured(DomainEvent):
    aggregate_type = "county"
    county_id: str
    kind: BranchKind
    categories: tuple[str, ...]


class TownshipEstablished(DomainEvent):
    aggregate_type = "township"
    township_id: str
    county_id: str
    name: str


class TownshipHeadAppointed(DomainEvent):
    aggregate_type = "township"
    township_id: str
    person_id: str
    name: str


class BranchEstablished(DomainEvent):
    aggregate_type = "branch"
    branch_id: str
    township_id: str
    county_id: str
    name: str
    kind: BranchKind
    village: str | None = None


class BranchSecretaryAppointed(DomainEvent):
    aggregate_type = "branch"
    branch_id: str
    member_id: str


class BranchMoved(DomainEvent):
    aggregate_type = "branch"
    branch_id: str
    from_township_id: str
    to_township_id: str


class BranchRetired(DomainEvent):
    aggregate_type = "branch"
    branch_id: str
    reason: str


class MemberEnrolled(DomainEvent):
    aggregate_type = "member"
    member_id: str
    branch_id: str
    township_id: str
    name: str
    post: str
    duties: str
    leadership_team: bool = False


class MemberPostAssigned(DomainEvent):
    aggregate_type = "member"
    member_id: str
    post: str
    duties: str
    leadership_team: bool


class MemberTransferred(DomainEvent):
    aggregate_type = "member"
    member_id: str
    from_branch_id: str
    to_branch_id: str
    to_township_id: str


class MemberRetired(DomainEvent):
    aggregate_type = "member"
    member_id: str
    reason: str


# --- pledges ---------------------------------------------------------------------------


class PledgeDrafted(DomainEvent):
    aggregate_type = "pledge"
    pledge_id: str
    year: int
    pledger_kind: PledgerKind
    branch_id: str
    branch_kind: BranchKind
    member_id: str | None
    pledger_name: str
    township_id: str
    county_id: str
    standard: Standard
    # the branch secretary who entered a member's pledge from paper on the member's behalf
    # (the envelope's actor); None: the pledger themself
    entered_by: str | None = None


class OpinionRecorded(DomainEvent):
    aggregate_type = "pledge"
    pledge_id: str
    opinion_id: str
    channel: OpinionChannel
    gathered_on: date
    summary: str
    # the branch secretary who entered it on the member's behalf (the member has no phone);
    # None: the pledger themself (and every opinion written before the field)
    entered_by: str | None = None


class PledgeProposed(DomainEvent):
    aggregate_type = "pledge"
    pledge_id: str
    round: int
    basis: str  # implementation plan / responsibility letter, or the member's post (P4)
    items: tuple[ItemProposal, ...]
    entered_by: str | None = None  # the secretary, entered from paper on the member's behalf


class ItemReviewed(DomainEvent):
    aggregate_type = "pledge"
    pledge_id: str
    round: int
    item_id: str
    shows_advanced_standard: bool
    matches_wishes: bool
    feasible: bool
    decision: ReviewDecision
    guidance: str | None = None


class PledgeReturned(DomainEvent):
    aggregate_type = "pledge"
    pledge_id: str
    round: int
    returned_item_ids: tuple[str, ...]


class PledgeResubmitted(DomainEvent):
    aggregate_type = "pledge"
    pledge_id: str
    round: int
    items: tuple[ItemProposal, ...]
    note: str
    entered_by: str | None = None  # the secretary, entered from paper on the member's behalf


class PledgeApproved(DomainEvent):
    """`late`: approved after the county's drafting deadline of the year, which
    `drafting_deadline` names (P6, 定诺工作于3月15日前完成); a late pledge stays marked late
    wherever drafting is reported. Absent from events written before (read as they were: not
    marked)."""

    aggregate_type = "pledge"
    pledge_id: str
    round: int
    approved_on: date | None = None  # local date
    drafting_deadline: date | None = None
    late: bool = False


class PledgePublished(DomainEvent):
    aggregate_type = "pledge"
    pledge_id: str
    letter_no: str
    item_ids: tuple[str, ...]  # tagged open on the ledger from now on (P8)
    open_reasons: OpenReasons = None  # every item's, as published


class ProgressReported(DomainEvent):
    """`files`: the evidence files attached (photos, scans, PDFs: shared/files.py), each by
    its SHA-256, size, type and name; files of a published item are public."""

    aggregate_type = "pledge"
    schema_version = 2
    pledge_id: str
    item_id: str
    report_id: str
    summary: str
    percent: int
    evidence: tuple[Evidence, ...] = ()
    files: tuple[FileRef, ...]


class FollowUpRecorded(DomainEvent):
    aggregate_type = "pledge"
    schema_version = 2
    pledge_id: str
    item_id: str
    follow_up_id: str
    note: str
    files: tuple[FileRef, ...]


class ItemReportedDone(DomainEvent):
    """The pledger reports the item done; the evaluation service runs its satisfaction check.
    `files`: the evidence attached (as a progress report's); `entered_by`: the branch
    secretary who reported a member's item on the member's behalf (absent before both)."""

    aggregate_type = "pledge"
    pledge_id: str
    item_id: str
    township_id: str
    title: str
    summary: str
    open_reasons: OpenReasons = None  # the item's, after this event
    files: tuple[FileRef, ...] = ()
    entered_by: str | None = None  # the secretary, on the member's behalf


class ProblemSolvedConfirmed(DomainEvent):
    aggregate_type = "pledge"
    pledge_id: str
    item_id: str
    note: str
    open_reasons: OpenReasons = None  # the item's, after this event


class ImplementationVerified(DomainEvent):
    aggregate_type = "pledge"
    pledge_id: str
    item_id: str
    note: str
    open_reasons: OpenReasons = None  # the item's, after this event


class SatisfactionVerdictRecorded(DomainEvent):
    aggregate_type = "pledge"
    pledge_id: str
    item_id: str
    verdict: Verdict
    satisfaction_rate: float
    check_id: str
    source_event_id: str
    open_reasons: OpenReasons = None  # the item's, after this event


class SatisfactionNotRated(DomainEvent):
    """The item's satisfaction check ended with no ballot (the evaluation service's
    `SatisfactionCheckLapsed`): no verdict, so the item stays open, not rated (未开展满意度
    测评), not dissatisfied. It may be reported done again (a new check), or the office may
    extend or reopen the check."""

    aggregate_type = "pledge"
    pledge_id: str
    item_id: str
    check_id: str
    source_event_id: str
    open_reasons: OpenReasons = None  # the item's, after this event


class SatisfactionCheckReopened(DomainEvent):
    """The office reopened the item's lapsed check (the evaluation service's
    `SatisfactionCheckExtended`, reopened): the item is being rated again, its verdict
    pending."""

    aggregate_type = "pledge"
    pledge_id: str
    item_id: str
    check_id: str
    source_event_id: str
    open_reasons: OpenReasons = None  # the item's, after this event


class ItemClosed(DomainEvent):
    """The item has no open reasons left: closed by the passes in `reasons` (P10 needs all
    three, and always has: a log written before the field reads so)."""

    aggregate_type = "pledge"
    pledge_id: str
    item_id: str
    reasons: tuple[ClosingReason, ...] = tuple(ClosingReason)


class QuarterlyPushRecorded(DomainEvent):
    aggregate_type = "pledge"
    pledge_id: str
    quarter: str  # e.g. "2026Q2"
    assessment: str
    next_steps: str


REGISTRY = EventRegistry(
    "pledge",
    [
        CountyEstablished,
        PledgeCalendarSet,
        CategoriesConfigured,
        TownshipEstablished,
        TownshipHeadAppointed,
        BranchEstablished,
        BranchSecretaryAppointed,
        BranchMoved,
        BranchRetired,
        MemberEnrolled,
        MemberPostAssigned,
        MemberTransferred,
        MemberRetired,
        PledgeDrafted,
        OpinionRecorded,
        PledgeProposed,
        ItemReviewed,
        PledgeReturned,
        PledgeResubmitted,
        PledgeApproved,
        PledgePublished,
        ProgressReported,
        FollowUpRecorded,
        ItemReportedDone,
        ProblemSolvedConfirmed,
        ImplementationVerified,
        SatisfactionVerdictRecorded,
        SatisfactionNotRated,
        SatisfactionCheckReopened,
        ItemClosed,
        QuarterlyPushRecorded,
    ],
)


# --- old schema versions ------------------------------------------------------------------
# Frozen as they were written (invariant 6); nothing decides with them.


class ProgressReportedV1(DomainEvent):
    """ProgressReported as written before evidence files: no `files`."""

    aggregate_type = "pledge"
    old_version_of = "ProgressReported"
    pledge_id: str
    item_id: str
    report_id: str
    summary: str
    percent: int
    evidence: tuple[Evidence, ...] = ()


class FollowUpRecordedV1(DomainEvent):
    """FollowUpRecorded as written before evidence files: no `files`."""

    aggregate_type = "pledge"
    old_version_of = "FollowUpRecorded"
    pledge_id: str
    item_id: str
    follow_up_id: str
    note: str


@REGISTRY.upcaster("ProgressReported", 1, reads=ProgressReportedV1)
@REGISTRY.upcaster("FollowUpRecorded", 1, reads=FollowUpRecordedV1)
def _no_files(data: dict[str, Any]) -> dict[str, Any]:
    return {**data, "files": []}  # written before evidence files: none attached
