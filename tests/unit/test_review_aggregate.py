"""Reviews, journals and visits: the content rules, with no I/O (R2–R4, R6, R7)."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from services.review.aggregates import Journal, Person, Review, Subject, Visit, quarter_of
from services.review.commands import CorrectReview, RecordReview
from services.review.events import (
    DIMENSIONS,
    Grade,
    JournalEntryCorrected,
    MonthlyPresentationEvaluated,
    PledgeLedgerStatus,
    ReviewCorrected,
    ReviewRecorded,
    SubjectKind,
)
from shared.errors import InvalidInput, InvalidState

TODAY = date(2027, 3, 20)
BRANCH = Subject(SubjectKind.BRANCH, "b-1", "红沙梁村党支部", "b-1", "t-1", "minqin", True)
MEMBER = Subject(SubjectKind.MEMBER, "m-2", "李秀英", "b-1", "t-1", "minqin", True, False, "m-1")
HEAD = Person("head-t-1", "红沙梁镇党委书记")
STATUS = PledgeLedgerStatus(
    year=2027,
    pledge_id="p2027-b-1",
    status="published",
    items_total=2,
    items_open=1,
    items_closed=1,
)


def body(kind: SubjectKind, **extra: Any) -> dict[str, Any]:
    return {
        "occasion": "organisation_life_meeting",
        "held_on": "2027-03-18",
        "achievements": "节水改造按期推进",
        "shortcomings": "群众参与不够",
        "direction": "多开院坝会",
        "assessments": {
            d.value: {"grade": "qualified", "comment": "较好"} for d in DIMENSIONS[kind]
        },
        **extra,
    }


def record(subject: Subject = BRANCH, **extra: Any) -> Review:
    cmd = RecordReview(
        subject_kind=subject.kind, subject_id=subject.subject_id, **body(subject.kind, **extra)
    )
    return Review.record("r-1", subject, HEAD, cmd, STATUS, TODAY)


def test_a_branch_review_records_the_three_parts_every_dimension_and_the_pledge_status() -> None:
    review = record()
    [event] = review.pending
    assert isinstance(event, ReviewRecorded)
    assert (event.quarter, event.cadence, event.township_id) == ("2027Q1", "quarterly", "t-1")
    assert [a.dimension for a in event.assessments] == list(DIMENSIONS[SubjectKind.BRANCH])
    assert event.pledge_status == STATUS
    assert event.achievements
    assert event.shortcomings
    assert event.direction


def test_the_dimensions_must_be_exactly_the_subject_kinds() -> None:
    member_dimensions = body(SubjectKind.MEMBER)["assessments"]
    with pytest.raises(InvalidInput) as refused:
        record(assessments=member_dimensions)
    assert refused.value.extra["missing"] == [
        "grassroots_organisation_building",
        "key_work",
        "leadership_team_building",
        "party_conduct",
        "solving_public_problems",
    ]
    assert "work_approach" in refused.value.extra["unexpected"]
    incomplete = body(SubjectKind.MEMBER)["assessments"]
    del incomplete["pledge_fulfilment"]
    with pytest.raises(InvalidInput):
        record(MEMBER, assessments=incomplete)


def test_ad_hoc_reviews_and_dates() -> None:
    review = record(occasion="ad_hoc")
    assert review.content.cadence == "ad_hoc"
    assert record(cadence="ad_hoc").content.cadence == "ad_hoc"  # ad hoc at a meeting
    with pytest.raises(InvalidInput, match="不定期"):
        record(occasion="ad_hoc", cadence="quarterly")
    with pytest.raises(InvalidInput, match="还没到"):
        record(held_on="2027-03-21")
    assert quarter_of(date(2027, 12, 31)) == "2027Q4"
    assert quarter_of(date(2027, 4, 1)) == "2027Q2"


def test_a_retired_subject_is_not_reviewed() -> None:
    retired = Subject(SubjectKind.BRANCH, "b-1", "x", "b-1", "t-1", "minqin", False)
    with pytest.raises(InvalidState, match="已撤销或不在册"):
        record(retired)


def test_a_correction_supersedes_the_current_version_and_keeps_the_pledge_status() -> None:
    review = record(MEMBER)
    fix = CorrectReview(**body(SubjectKind.MEMBER, held_on="2027-04-01"), reason="日期记错")
    first = review.correct(HEAD, fix, "日期记错", date(2027, 4, 2))
    second = review.correct(HEAD, fix, "再次更正", date(2027, 4, 2))
    corrections = review.pending[1:]
    assert all(isinstance(e, ReviewCorrected) for e in corrections)
    assert [e.corrects_review_id for e in corrections] == ["r-1", first]  # type: ignore[attr-defined]
    assert review.content.review_id == second
    assert review.content.quarter == "2027Q2"
    assert review.content.pledge_status == STATUS
    rebuilt = Review.replay(review.stream_id, review.partition, review.pending)
    assert rebuilt.content == review.content
    assert rebuilt.versions == 3


def month_journal() -> Journal:
    journal = Journal.open(MEMBER, "2027-03")
    journal.record_entry("e-1", date(2027, 3, 2), "滴灌推广", "带动三户", TODAY)
    journal.record_entry("e-2", date(2027, 3, 9), "入户宣讲", "讲清四笔账", TODAY)
    return journal


def test_a_journal_month_gathers_current_entries_for_its_presentation() -> None:
    journal = month_journal()
    journal.correct_entry("e-1", "e-3", date(2027, 3, 2), "滴灌推广五户", "带动五户", "写错", TODAY)
    journal.evaluate(date(2027, 3, 19), Grade.EXCELLENT, "记实具体", Person("m-1", "张"), TODAY)
    corrected, evaluated = journal.pending[2:]
    assert isinstance(corrected, JournalEntryCorrected)
    assert corrected.corrects_entry_id == "e-1"
    assert isinstance(evaluated, MonthlyPresentationEvaluated)
    assert evaluated.entry_ids == ("e-3", "e-2")
    with pytest.raises(InvalidState, match="已经"):
        journal.record_entry("e-4", date(2027, 3, 19), "x", "y", TODAY)
    with pytest.raises(InvalidState, match="已经"):
        journal.evaluate(date(2027, 3, 20), Grade.QUALIFIED, "x", Person("m-1", "张"), TODAY)
    replayed = Journal.replay(journal.stream_id, journal.partition, journal.pending)
    assert replayed.entries == ["e-3", "e-2"]
    assert replayed.presented


def test_journal_dates_and_entries_are_checked() -> None:
    journal = Journal.open(MEMBER, "2027-03")
    with pytest.raises(InvalidInput, match="不在 2027年3月"):
        journal.record_entry("e-1", date(2027, 2, 28), "x", "y", TODAY)
    with pytest.raises(InvalidInput, match="还没到"):
        journal.record_entry("e-1", date(2027, 3, 21), "x", "y", TODAY)
    with pytest.raises(InvalidState, match="还没有纪实可以汇报"):
        journal.evaluate(date(2027, 3, 19), Grade.QUALIFIED, "x", HEAD, TODAY)
    with pytest.raises(InvalidInput, match="现行纪实"):
        month_journal().correct_entry("e-9", "e-10", date(2027, 3, 2), "x", "y", "z", TODAY)


def test_a_guidance_visit_is_recorded_for_an_active_branch() -> None:
    visit = Visit.record("v-1", BRANCH, HEAD, date(2027, 3, 1), "指导节水", None, None, TODAY)
    assert visit.stream_id == "visit-v-1"
    assert visit.partition == "t-1"
    with pytest.raises(InvalidInput):
        Visit.record("v-2", BRANCH, HEAD, date(2027, 4, 1), "x", None, None, TODAY)
