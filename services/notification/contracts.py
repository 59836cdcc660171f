"""Events of other services that the notification service consumes (their published
contracts, see the briefing's cross-service contracts).

Parsed with `extra="ignore"`: only the fields named here are ever read, so a field a
publisher adds later (or one it should never have sent, like a rater id) cannot reach the
public board (N1).
"""

from __future__ import annotations

from datetime import date

from pydantic import model_validator

from shared.consumed import Consumed, by_type

# --- pledge (port 8101) ------------------------------------------------------------------


class PledgeCalendarSet(Consumed):
    county_id: str
    year: int
    drafting_deadline: date
    publication_deadline: date | None = None  # P7; the pledge service's default when absent


class PledgeReturned(Consumed):
    pledge_id: str
    returned_item_ids: tuple[str, ...] = ()  # the items to revise, named in the drafter's 待办


class PledgeApproved(Consumed):
    pledge_id: str
    late: bool = False  # P6: approved after the drafting deadline (absent before: not marked)


class CountyEstablished(Consumed):
    county_id: str
    name: str


class PledgeDrafted(Consumed):
    pledge_id: str
    year: int
    pledger_kind: str
    branch_id: str
    member_id: str | None = None
    pledger_name: str
    township_id: str
    county_id: str
    standard: str
    entered_by: str | None = None  # the secretary who entered a member's pledge for her


class ProposedItem(Consumed):
    item_id: str
    title: str
    description: str
    category: str
    target: str
    due_date: date


class PledgeProposed(Consumed):
    pledge_id: str
    items: tuple[ProposedItem, ...]
    entered_by: str | None = None  # the secretary, entered on the member's behalf


class PledgeResubmitted(PledgeProposed):
    pass


class PledgePublished(Consumed):
    pledge_id: str
    letter_no: str
    item_ids: tuple[str, ...]
    open_reasons: tuple[str, ...] | None = None  # of every item (absent before P10's field)


class ItemEvent(Consumed):
    pledge_id: str
    item_id: str


class AttachedFile(Consumed):
    sha256: str
    media_type: str


class ProgressReported(ItemEvent):
    percent: int
    summary: str
    files: tuple[AttachedFile, ...] = ()  # evidence files (v2); the board shows the photos


class ItemReportedDone(ItemEvent):
    summary: str
    open_reasons: tuple[str, ...] | None = None  # absent from events written before


class ProblemSolvedConfirmed(ItemEvent):
    note: str
    open_reasons: tuple[str, ...] | None = None  # absent from events written before


class ImplementationVerified(ItemEvent):
    note: str
    open_reasons: tuple[str, ...] | None = None  # absent from events written before


class SatisfactionVerdictRecorded(ItemEvent):
    verdict: str
    satisfaction_rate: float
    open_reasons: tuple[str, ...] | None = None  # absent from events written before


class SatisfactionNotRated(ItemEvent):
    """The item's check had no ballot: open, not rated (E8)."""

    open_reasons: tuple[str, ...] | None = None


class SatisfactionCheckReopened(ItemEvent):
    """The item's lapsed check was reopened: its verdict is pending again (E8)."""

    open_reasons: tuple[str, ...] | None = None


class ItemClosed(ItemEvent):
    # the passes that closed it (P10); published before the field, an item closed by all
    # three, as P10 has always needed
    reasons: tuple[str, ...] = ("problem_solved", "implementation_verified", "public_satisfied")


# --- review (port 8102) -----------------------------------------------------------------


class ReviewRecorded(Consumed):
    review_id: str
    township_id: str
    branch_id: str | None = None
    subject_kind: str
    subject_id: str
    subject_name: str
    reviewer_name: str
    occasion: str
    quarter: str
    held_on: date


class ReviewCorrected(Consumed):
    review_id: str
    corrects_review_id: str


class JournalEntryRecorded(Consumed):
    entry_id: str
    township_id: str
    branch_id: str
    member_id: str
    month: str


class QuarterlyPushRecorded(Consumed):
    """P11: the office assessed and pushed the pledge forward in the quarter."""

    pledge_id: str
    quarter: str


class MonthlyPresentationEvaluated(Consumed):
    township_id: str
    branch_id: str
    member_id: str
    month: str
    evaluation: str


class LeaderAssigned(Consumed):
    """R1: the office assigns a leader of the township to a branch; the leader is then
    chased, beside the head, for the branch's missing reviews (N3)."""

    township_id: str
    branch_id: str
    leader_id: str  # the person (the subject of their township committee token)


class LeaderUnassigned(Consumed):
    branch_id: str
    leader_id: str


class GuidanceVisitRecorded(Consumed):
    visit_id: str
    township_id: str
    branch_id: str
    cadre_id: str | None = None
    cadre_name: str
    visited_on: date
    summary: str


# --- evaluation (port 8103) ---------------------------------------------------------------


class EvaluationCalendarSet(Consumed):
    county_id: str
    year: int
    first_round_closes: date
    second_round_closes: date


class RoundResult(Consumed):
    subject_kind: str
    subject_id: str
    subject_name: str
    branch_id: str | None = None
    counts: dict[str, int]
    satisfaction_rate: float
    score: float | None = None


class RoundResultsPublished(Consumed):
    round_id: str
    township_id: str
    title: str
    published_on: date
    results: tuple[RoundResult, ...]


class RatingResult(Consumed):
    subject_kind: str
    subject_id: str
    subject_name: str
    grade: str
    score: float | None = None


class RatingResultsPublished(Consumed):
    rating_id: str
    township_id: str
    branch_id: str | None = None
    period: str
    level: str
    published_on: date
    results: tuple[RatingResult, ...]


class Awardee(Consumed):
    """What the board shows of an awardee (S2): the deciding body's reason and the
    nomination's, in their own words. An awardee of a commendation issued before stages were
    decisions (no `nomination_reason`) had a reason generated from the score ("shortlisted:
    rank 1 of 5 …"): that never reaches the board, which shows the name alone."""

    subject_kind: str
    subject_id: str
    subject_name: str
    branch_id: str | None = None
    reason: str
    nomination_reason: str | None = None

    @model_validator(mode="after")
    def _only_words_people_wrote(self) -> Awardee:
        if self.nomination_reason is None:
            return self.model_copy(update={"reason": ""})
        shown = f"评定意见：{self.reason}；推荐理由：{self.nomination_reason}"
        return self.model_copy(update={"reason": shown})


class CommendationIssued(Consumed):
    selection_id: str
    township_id: str
    year: int
    title: str
    issued_on: date
    awardees: tuple[Awardee, ...]
    level: str = "township"  # a county's selection is not on a township's board (yet)


# the selection's public notice (S3): what is posted, for whom, until when; objections only
# by which finalist they concern and whether they were upheld (not their text, nor who filed)
class SelectionOpened(Consumed):
    selection_id: str
    township_id: str
    year: int
    title: str
    subject_kind: str
    level: str = "township"  # a county's selection is not on a township's board (yet)


class CandidateNominated(Consumed):
    selection_id: str
    subject_id: str
    subject_name: str
    branch_id: str | None = None


class NoticePosted(Consumed):
    selection_id: str
    posted_on: date
    notice_until: date
    finalists: tuple[str, ...]


class ObjectionFiled(Consumed):
    selection_id: str
    objection_id: str
    subject_id: str


class ObjectionAnswered(Consumed):
    selection_id: str
    objection_id: str
    upheld: bool


CONSUMED = by_type(
    PledgeCalendarSet,
    PledgeReturned,
    PledgeApproved,
    CountyEstablished,
    PledgeDrafted,
    PledgeProposed,
    PledgeResubmitted,
    PledgePublished,
    ProgressReported,
    ItemReportedDone,
    ProblemSolvedConfirmed,
    ImplementationVerified,
    SatisfactionVerdictRecorded,
    SatisfactionNotRated,
    SatisfactionCheckReopened,
    ItemClosed,
    ReviewRecorded,
    ReviewCorrected,
    JournalEntryRecorded,
    MonthlyPresentationEvaluated,
    QuarterlyPushRecorded,
    GuidanceVisitRecorded,
    LeaderAssigned,
    LeaderUnassigned,
    EvaluationCalendarSet,
    RoundResultsPublished,
    RatingResultsPublished,
    SelectionOpened,
    CandidateNominated,
    NoticePosted,
    ObjectionFiled,
    ObjectionAnswered,
    CommendationIssued,
)
