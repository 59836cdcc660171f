"""The evaluation domain without I/O: rounds and ballot boxes (E1–E5), satisfaction checks
(E8), ratings and the calendar (E4, E6)."""

from __future__ import annotations

from datetime import date

import pytest

from services.evaluation.aggregates import tally
from services.evaluation.checks.aggregates import (
    DEFAULT_THRESHOLD,
    DEFAULT_WINDOW,
    CheckBallots,
    CheckTerms,
    SatisfactionCheck,
)
from services.evaluation.checks.events import (
    SatisfactionCheckExtended,
    SatisfactionCheckLapsed,
    SatisfactionCheckOpened,
    SatisfactionVerdictReached,
    Verdict,
)
from services.evaluation.ratings.aggregates import Rating, period_start
from services.evaluation.ratings.events import RatedSubject, RatingLevel
from services.evaluation.rounds.aggregates import (
    BallotBox,
    EvaluationCalendar,
    NewRater,
    Round,
    check_grades,
)
from services.evaluation.rounds.events import (
    BallotCast,
    Channel,
    Grade,
    RaterKind,
    RaterParticipated,
    RoundOpened,
    Scale,
    Subject,
    SubjectKind,
)
from shared.errors import Forbidden, InvalidInput, InvalidState

JUNE = date(2027, 6, 1)


def branch(subject_id: str) -> Subject:
    return Subject(
        subject_kind=SubjectKind.BRANCH,
        subject_id=subject_id,
        subject_name=subject_id,
        branch_id=subject_id,
    )


def a_round(*raters: str) -> Round:
    round_ = Round.open(
        RoundOpened(
            round_id="r-1",
            township_id="t-1",
            organiser_kind="township",
            organiser_id="t-1",
            title="上半年群众评议",
            year=2027,
            half=1,
            content=("five_good", "pledge_fulfilment"),
            subjects=(branch("b-1"), branch("b-2")),
            scale=tally.PUBLIC_SATISFACTION,
            opens_on=date(2027, 5, 1),
            closes_on=date(2027, 7, 10),
        )
    )
    round_.register([NewRater(r, RaterKind.PUBLIC, "public") for r in raters])
    return Round.replay(round_.stream_id, round_.partition, round_.pending)


def test_a_rater_votes_once_per_subject_across_channels() -> None:
    round_ = a_round("rt-1")
    round_.participate("rt-1", ["b-1"], Channel.WEB, JUNE)
    with pytest.raises(InvalidState):
        round_.participate("rt-1", ["b-1", "b-2"], Channel.PAPER, JUNE, "officer")
    round_.participate("rt-1", ["b-2"], Channel.PAPER, JUNE, "officer")  # another subject
    assert [type(e) for e in round_.pending] == [RaterParticipated, RaterParticipated]


def test_nobody_unregistered_nothing_outside_the_window_nothing_after_close() -> None:
    round_ = a_round("rt-1")
    with pytest.raises(Forbidden):
        round_.participate("rt-2", ["b-1"], Channel.WEB, JUNE)
    with pytest.raises(InvalidState):
        round_.participate("rt-1", ["b-1"], Channel.WEB, date(2027, 7, 11))
    with pytest.raises(InvalidState):
        round_.participate("rt-1", ["b-1"], Channel.WEB, date(2027, 4, 30))
    round_.close(BallotBox.for_round(round_), JUNE)
    with pytest.raises(InvalidState):
        round_.participate("rt-1", ["b-1"], Channel.WEB, JUNE)
    with pytest.raises(InvalidState):
        round_.register([NewRater("rt-9", RaterKind.PUBLIC, "public")])


def test_a_round_closes_by_itself_only_once_its_window_has_ended_e4() -> None:
    round_ = a_round("rt-1")
    box = BallotBox.for_round(round_)
    with pytest.raises(InvalidState):
        round_.close_at_window_end(box, date(2027, 7, 10))  # its last day takes ballots
    round_.close_at_window_end(box, date(2027, 7, 11))
    assert [e.event_type() for e in round_.pending] == ["RoundClosed", "RoundResultsPublished"]
    with pytest.raises(InvalidState):
        round_.close(box, date(2027, 7, 11))


def test_a_participation_of_nobody_registered_in_the_log_does_not_break_the_round() -> None:
    """A forged one is the audit's to report; the round still loads and closes."""
    round_ = a_round("rt-1")
    forged = RaterParticipated(
        round_id="r-1", rater_id="rt-forged", subject_ids=("b-1",), channel=Channel.WEB
    )
    round_.apply(forged)  # as loading the round's stream does
    assert set(round_.raters) == {"rt-1"}
    round_.close(BallotBox.for_round(round_), JUNE)


def test_raters_follow_the_subject_kind_e2() -> None:
    round_ = a_round()
    with pytest.raises(InvalidInput):
        round_.register([NewRater("rt-1", RaterKind.BRANCH_MEMBER, "b-1")])
    round_.register([NewRater("rt-1", RaterKind.LINKED_VILLAGE_REP, "b-1")])
    with pytest.raises(InvalidState):
        round_.register([NewRater("rt-1", RaterKind.PUBLIC, "b-1")])


def test_ballots_carry_no_rater_and_a_token_is_used_once() -> None:
    round_ = a_round("rt-1")
    box = BallotBox.for_round(round_)
    box.cast(round_, "token-a", {"b-1": "satisfied"})
    with pytest.raises(InvalidState):
        box.cast(round_, "token-a", {"b-2": "satisfied"})
    [cast] = box.pending
    assert isinstance(cast, BallotCast)
    assert set(cast.model_dump()) == {"round_id", "token_hash", "grades"}
    assert "token-a" not in cast.token_hash


def test_grades_are_checked_against_the_scale_and_the_subjects() -> None:
    scale = tally.PUBLIC_SATISFACTION
    check_grades(scale, {"b-1": "mostly_satisfied"}, {"b-1"}, "grades")
    with pytest.raises(InvalidInput):
        check_grades(scale, {"b-1": "excellent"}, {"b-1"}, "grades")
    with pytest.raises(InvalidInput):
        check_grades(scale, {"b-9": "satisfied"}, {"b-1"}, "grades")
    with pytest.raises(InvalidInput):
        check_grades(scale, {}, {"b-1"}, "grades")


def test_closing_publishes_counts_rate_and_score_per_subject_e5() -> None:
    round_ = a_round("rt-1", "rt-2", "rt-3")
    box = BallotBox.for_round(round_)
    for token, grades in [
        ("a", {"b-1": "satisfied", "b-2": "dissatisfied"}),
        ("b", {"b-1": "mostly_satisfied"}),
        ("c", {"b-1": "dissatisfied", "b-2": "dissatisfied"}),
    ]:
        box.cast(round_, token, grades)
    box = BallotBox.replay(box.stream_id, box.partition, box.pending)
    round_.close(box, JUNE)
    closed, published = round_.pending
    assert closed.model_dump()["participated"] == 0  # nobody participated through the round
    first, second = published.model_dump()["results"]
    assert first["counts"] == {"satisfied": 1, "mostly_satisfied": 1, "dissatisfied": 1}
    assert (first["satisfaction_rate"], first["score"]) == (0.6667, 60.0)
    assert (second["satisfaction_rate"], second["score"]) == (0.0, 0.0)


def test_scales_are_configurable_e7() -> None:
    stars = Scale(
        name="stars",
        grades=(
            Grade(grade="five", label="★★★★★", score=100, satisfied=True),
            Grade(grade="one", label="★", score=20, satisfied=False),
        ),
    )
    assert tally.summarise(stars, {"five": 3, "one": 1}) == ({"five": 3, "one": 1}, 0.75, 80.0)
    assert tally.summarise(tally.MEMBER_APPRAISAL, {}) == (
        {"excellent": 0, "qualified": 0, "basically_qualified": 0, "unqualified": 0},
        0.0,
        0.0,
    )


def a_check(*raters: str) -> SatisfactionCheck:
    check = SatisfactionCheck.open(
        check_id="c-1",
        pledge_id="p-1",
        item_id="p-1-i1",
        township_id="t-1",
        title="改造支渠",
        summary="已完成",
        opens_on=JUNE,
        source_event_id="e-1",
    )
    check.register([(r, None, None) for r in raters])
    return SatisfactionCheck.replay(check.stream_id, check.partition, check.pending)


def verdict_for(grades: list[str]) -> tuple[Verdict, float]:
    check = a_check(*[f"rt-{i}" for i in range(len(grades))])
    box = CheckBallots.for_check(check)
    for index, grade in enumerate(grades):
        check.participate(f"rt-{index}", grade, Channel.WEB, JUNE, None)
        box.cast(check.check_id, f"token-{index}", grade)
    verdict = check.close(box)
    return verdict, check.pending[-1].model_dump()["satisfaction_rate"]


def test_the_verdict_follows_the_threshold_e8() -> None:
    assert verdict_for(["satisfied"] * 3 + ["mostly_satisfied", "dissatisfied"]) == (
        Verdict.SATISFIED,
        0.8,
    )
    assert verdict_for(["satisfied", "dissatisfied"]) == (Verdict.DISSATISFIED, 0.5)


def test_a_check_with_no_ballot_has_no_verdict_and_may_be_extended_or_reopened_e8() -> None:
    check = a_check("rt-1")
    assert check.close(CheckBallots.for_check(check)) is None
    [lapsed] = check.pending[-1:]
    assert isinstance(lapsed, SatisfactionCheckLapsed)
    assert not any(isinstance(e, SatisfactionVerdictReached) for e in check.pending)
    later = date(2027, 6, 20)
    with pytest.raises(InvalidState, match="延长截止日期"):  # lapsed: no ballot until reopened
        check.participate("rt-1", "satisfied", Channel.WEB, JUNE, None)
    with pytest.raises(InvalidState, match="延长截止日期"):
        check.close(CheckBallots.for_check(check))
    with pytest.raises(InvalidInput, match="之后、"):
        check.extend(JUNE, later)
    check.extend(date(2027, 6, 30), later)  # the office reopens it
    reopened = check.pending[-1]
    assert isinstance(reopened, SatisfactionCheckExtended)
    assert reopened.reopened
    box = CheckBallots.for_check(check)
    check.participate("rt-1", "satisfied", Channel.PAPER, later, "office")
    box.cast(check.check_id, "token-1", "satisfied")
    assert check.close(box) is Verdict.SATISFIED


def test_the_threshold_and_window_are_the_countys_data_per_year() -> None:
    terms = CheckTerms(CheckTerms.stream_for("minqin", 2027), "minqin")
    assert (terms.threshold, terms.window) == (DEFAULT_THRESHOLD, DEFAULT_WINDOW)
    terms.set("minqin", 2027, 0.9, 21)
    with pytest.raises(InvalidState):
        terms.set("minqin", 2027, 0.9, 21)
    terms = CheckTerms.replay(terms.stream_id, terms.partition, terms.pending)
    check = SatisfactionCheck.open(
        check_id="c-2",
        pledge_id="p-1",
        item_id="p-1-i1",
        township_id="t-1",
        title="改造支渠",
        summary="已完成",
        opens_on=JUNE,
        source_event_id="e-2",
        terms=terms,
    )
    opened = check.pending[0]
    assert isinstance(opened, SatisfactionCheckOpened)
    assert (opened.threshold, (opened.closes_on - opened.opens_on).days) == (0.9, 21)
    # 0.85 of the ballots satisfied: enough under the default, not under this county's 0.9
    box = CheckBallots.for_check(check)
    grades = ["satisfied"] * 17 + ["dissatisfied"] * 3
    check.register([(f"rt-{i}", None, None) for i in range(len(grades))])
    for index, grade in enumerate(grades):
        check.participate(f"rt-{index}", grade, Channel.WEB, JUNE, None)
        box.cast(check.check_id, f"token-{index}", grade)
    assert check.close(box) is Verdict.DISSATISFIED


def test_a_check_takes_one_ballot_per_registered_person_within_its_window() -> None:
    check = a_check("rt-1")
    with pytest.raises(Forbidden):
        check.participate("rt-2", "satisfied", Channel.WEB, JUNE, None)
    with pytest.raises(InvalidState):
        check.participate("rt-1", "satisfied", Channel.WEB, date(2027, 6, 16), None)
    check.participate("rt-1", "satisfied", Channel.PAPER, JUNE, "office")
    with pytest.raises(InvalidState):
        check.participate("rt-1", "satisfied", Channel.WEB, JUNE, None)
    check.close(CheckBallots.for_check(check))
    with pytest.raises(InvalidState):
        check.close(CheckBallots.for_check(check))


def test_rating_periods_follow_the_cadence_e6() -> None:
    branches, members = RatingLevel.TOWNSHIP_RATES_BRANCHES, RatingLevel.BRANCH_RATES_MEMBERS
    assert period_start(branches, "2027-B3") == date(2027, 5, 1)
    assert period_start(members, "2027-11") == date(2027, 11, 1)
    with pytest.raises(InvalidInput):
        period_start(branches, "2027-05")
    with pytest.raises(InvalidInput):
        period_start(members, "2027-B1")
    rated = RatedSubject(
        subject_kind=SubjectKind.BRANCH,
        subject_id="b-1",
        subject_name="b",
        grade="excellent",
        score=95,
    )
    rating = Rating.publish(
        level=branches,
        township_id="t-1",
        branch_id=None,
        period="2027-B3",
        results=[rated],
        today=JUNE,
    )
    assert rating.stream_id == "rating-t-1-2027-B3"
    with pytest.raises(InvalidInput):  # not started yet
        Rating.publish(
            level=branches,
            township_id="t-1",
            branch_id=None,
            period="2027-B4",
            results=[rated],
            today=JUNE,
        )
    with pytest.raises(InvalidInput):
        Rating.publish(
            level=branches,
            township_id="t-1",
            branch_id=None,
            period="2027-B3",
            results=[rated, rated],
            today=JUNE,
        )


def test_the_calendar_is_data_with_the_seeds_defaults_e4() -> None:
    calendar = EvaluationCalendar(EvaluationCalendar.stream_for("minqin", 2027), "minqin")
    assert calendar.closing_dates(2027) == (date(2027, 7, 10), date(2028, 1, 5))
    calendar.set("minqin", 2027, date(2027, 7, 8), date(2028, 1, 3))
    assert calendar.closing_dates(2027) == (date(2027, 7, 8), date(2028, 1, 3))
    with pytest.raises(InvalidState):
        calendar.set("minqin", 2027, date(2027, 7, 8), date(2028, 1, 3))
    with pytest.raises(InvalidInput):
        calendar.set("minqin", 2027, date(2028, 7, 8), date(2028, 12, 3))
    with pytest.raises(InvalidInput):
        calendar.set("minqin", 2027, date(2027, 7, 8), date(2029, 1, 3))


def test_a_window_that_closes_before_it_opens_is_refused_saying_what_to_do() -> None:
    backwards = RoundOpened(
        round_id="r-2",
        township_id="t-1",
        organiser_kind="township",
        organiser_id="t-1",
        title="下半年群众评议",
        year=2027,
        half=1,
        content=("five_good",),
        subjects=(branch("b-1"),),
        scale=tally.PUBLIC_SATISFACTION,
        opens_on=date(2027, 5, 1),
        closes_on=date(2027, 4, 30),
    )
    with pytest.raises(InvalidInput, match="请把结束日期改到开始日期当天或之后"):
        Round.open(backwards)
