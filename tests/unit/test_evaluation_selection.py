"""The annual selection without I/O (S1–S3): the declared formula, stages that shortlist from
the previous one, notice, objections, commendation around July 1. Also the verdict contract
the pledge service consumes (E8)."""

from __future__ import annotations

from datetime import date

import pytest

from services.evaluation.events import REGISTRY
from services.evaluation.rounds.events import SubjectKind
from services.evaluation.selection.aggregates import (
    REVIEW_POINTS,
    Candidate,
    Selection,
    composite,
    default_window,
    period_end,
    pledge_year,
    within,
)
from services.evaluation.selection.events import (
    Body,
    CommendationIssued,
    Decision,
    Formula,
    FormulaDeclared,
    Input,
    Level,
    ObjectionFiled,
    ReviewsMeasure,
    ReviewsRule,
    SelectionOpened,
    Source,
    StageDecided,
    StageScored,
    WhenMissing,
    Window,
)
from services.notification.contracts import Awardee as BoardAwardee
from services.pledge.contracts import CONSUMED
from shared.asyncapi import build_document
from shared.errors import InvalidInput, InvalidState

FORMULA = Formula(
    version=0,
    weights={Source.RATINGS: 0.4, Source.EVALUATION: 0.4, Source.REVIEWS: 0.2},
    when_missing=WhenMissing.REWEIGHT,
    quotas=(2, 1),
    reviews=ReviewsRule(measure=ReviewsMeasure.GRADES, points=REVIEW_POINTS),
    window=default_window(date(2027, 7, 5)),
)


def inputs(
    ratings: float | None, evaluation: float | None, reviews: float | None
) -> tuple[Input, ...]:
    return (
        Input(source=Source.RATINGS, value=ratings, evidence=()),
        Input(source=Source.EVALUATION, value=evaluation, evidence=()),
        Input(source=Source.REVIEWS, value=reviews, evidence=()),
    )


def test_a_missing_source_counts_as_the_formula_declares() -> None:
    assert composite(FORMULA, inputs(80, 90, 100)) == 88.0
    assert composite(FORMULA, inputs(80, 90, None)) == 85.0  # reweighted over 0.8
    zero = FORMULA.model_copy(update={"when_missing": WhenMissing.ZERO})
    assert composite(zero, inputs(80, 90, None)) == 68.0
    assert composite(FORMULA, inputs(None, None, None)) == 0.0


def test_the_composite_does_not_depend_on_the_order_of_the_weights() -> None:
    """A stored formula comes back from JSONB with its keys reordered; summed in the other
    order these inputs rounded to 23.86 against 23.85, and the recomputation disagreed."""
    weights = {
        Source.RATINGS: 0.3,
        Source.EVALUATION: 0.3,
        Source.PLEDGES: 0.2,
        Source.REVIEWS: 0.2,
    }
    values = {
        Source.RATINGS: 30.73,
        Source.EVALUATION: 24.64,
        Source.PLEDGES: 8.14,
        Source.REVIEWS: 28.08,
    }
    given = tuple(Input(source=s, value=v, evidence=()) for s, v in values.items())
    results = {
        composite(
            FORMULA.model_copy(update={"weights": dict(order), "when_missing": missing}), given
        )
        for order in (
            list(weights.items()),
            [
                (s, weights[s])
                for s in (Source.REVIEWS, Source.PLEDGES, Source.RATINGS, Source.EVALUATION)
            ],
        )
        for missing in (WhenMissing.REWEIGHT, WhenMissing.ZERO)
    }
    assert results == {23.85}


def test_the_window_is_the_twelve_months_before_the_opening_s2() -> None:
    """A selection opened in July reads last year's second half and this year's first: the
    second round closing by January 5, this year's first round closing by July 10, the pledge
    whose items fell due at the end of last year."""
    window = default_window(date(2027, 7, 11))
    assert window == Window(starts_on=date(2026, 7, 11), ends_on=date(2027, 7, 10))
    assert within(window, date(2027, 1, 5))  # last year's second round closes
    assert within(window, date(2027, 7, 10))  # this year's first round closes
    assert not within(window, date(2026, 7, 10))  # last year's first round: the year before
    assert not within(window, date(2027, 7, 11))  # the opening day itself
    assert pledge_year(window) == 2026  # this year's items fall due in December: not yet
    assert default_window(date(2028, 2, 29)).starts_on == date(2027, 3, 1)


def test_a_record_counts_when_its_period_ends_in_the_window() -> None:
    assert period_end("2027-02") == date(2027, 2, 28)
    assert period_end("2026-B6") == date(2026, 12, 31)
    assert period_end("2027-B3") == date(2027, 6, 30)
    assert period_end("2026Q4") == date(2026, 12, 31)
    window = default_window(date(2027, 7, 5))
    counted = [
        p
        for p in ("2026-06", "2026-07", "2026-B6", "2027Q2", "2027-07")
        if within(window, period_end(p))
    ]
    assert counted == ["2026-07", "2026-B6", "2027Q2"]


def test_the_window_is_part_of_the_versioned_formula() -> None:
    selection = a_selection()
    backwards = Window(starts_on=date(2027, 6, 1), ends_on=date(2027, 1, 1))
    with pytest.raises(InvalidInput, match="结束日须晚于开始日"):
        selection.declare(FORMULA.model_copy(update={"window": backwards}))
    selection.declare(FORMULA)
    narrower = Window(starts_on=date(2027, 1, 1), ends_on=date(2027, 6, 30))
    selection.declare(FORMULA.model_copy(update={"window": narrower}))
    assert selection.the_formula.version == 2
    assert selection.the_formula.window == narrower


def test_formulas_declared_before_the_window_read_the_calendar_year() -> None:
    """Schema 1 and 2 logs upcast to a formula with no window: the queries read such a
    formula's inputs from the selection's calendar year, as they did (S2)."""
    v2 = {
        "selection_id": "s-2026-member-t-1",
        "formula": {
            "version": 1,
            "weights": {"ratings": 1.0},
            "when_missing": "zero",
            "quotas": [1],
            "reviews": {"measure": "grades", "points": REVIEW_POINTS},
        },
    }
    for version, data in ((2, v2), (1, {**v2, "formula": {**v2["formula"], "reviews": None}})):
        if version == 1:
            del data["formula"]["reviews"]
        event = REGISTRY.decode("FormulaDeclared", version, data)
        assert isinstance(event, FormulaDeclared)
        assert event.formula.window is None


def opening(
    kind: SubjectKind = SubjectKind.MEMBER, commendation_on: date = date(2027, 7, 1)
) -> SelectionOpened:
    return SelectionOpened(
        selection_id=Selection.id_for("t-1", 2027, kind),
        township_id="t-1",
        year=2027,
        title="优秀党员评选",
        subject_kind=kind,
        notice_days=7,
        commendation_on=commendation_on,
    )


def a_selection() -> Selection:
    selection = Selection.open(opening())
    return Selection.replay(selection.stream_id, selection.partition, selection.pending)


def test_commendation_is_around_july_1() -> None:
    with pytest.raises(InvalidInput):
        Selection.open(opening(SubjectKind.BRANCH, commendation_on=date(2027, 9, 1)))


def test_a_township_selects_each_kind_once_a_year() -> None:
    held = a_selection()
    again = opening()
    with pytest.raises(InvalidState, match="每年只评选一次"):
        Selection.open(again, held=held)
    ids = {
        Selection.id_for(t, y, k) for t in ("t-1", "t-2") for y in (2027, 2028) for k in SubjectKind
    }
    assert len(ids) == 8  # another township, year or kind is another selection


def advance(*ids: str, out: tuple[str, ...] = ()) -> list[Decision]:
    return [Decision(subject_id=i, advanced=True, reason="群众公认，实绩突出") for i in ids] + [
        Decision(subject_id=i, advanced=False, reason="本年度实绩不够突出") for i in out
    ]


def test_the_formula_is_versioned_and_fixed_before_the_first_stage() -> None:
    selection = a_selection()
    with pytest.raises(InvalidState):  # no formula yet
        selection.score_stage({}, date(2027, 5, 1))
    with pytest.raises(InvalidInput):
        selection.declare(FORMULA.model_copy(update={"quotas": (1, 2)}))
    with pytest.raises(InvalidInput):
        selection.declare(FORMULA.model_copy(update={"weights": {Source.RATINGS: 0.5}}))
    selection.declare(FORMULA)
    selection.declare(FORMULA)
    assert selection.the_formula.version == 2
    for subject in ("m-1", "m-2", "m-3"):
        selection.nominate(Candidate(subject, subject, "b-1", "branch", "表现突出"))
    with pytest.raises(InvalidState):
        selection.nominate(Candidate("m-1", "m-1", "b-1", "branch", "again"))
    scores = {"m-1": inputs(90, 90, None), "m-2": inputs(70, 70, 100), "m-3": inputs(95, 95, 95)}
    selection.score_stage(scores, date(2027, 5, 1))
    with pytest.raises(InvalidState):
        selection.declare(FORMULA)
    with pytest.raises(InvalidState):
        selection.nominate(Candidate("m-4", "m-4", "b-1", "branch", "late"))
    [scored] = [e for e in selection.pending if isinstance(e, StageScored)]
    # the score is evidence with a suggestion; nothing is decided by it
    assert [(c.subject_id, c.rank, c.suggested) for c in scored.candidates] == [
        ("m-3", 1, True),
        ("m-1", 2, True),
        ("m-2", 3, False),
    ]
    assert selection.state.stages == []


def test_each_stage_is_decided_by_its_body_with_reasons_s2() -> None:
    """层层筛选 is a decision: the committee may depart from the suggestion, and says why for
    every candidate; the next stage waits for the decision."""
    selection = a_selection()
    selection.declare(FORMULA)
    for subject in ("m-1", "m-2", "m-3"):
        selection.nominate(Candidate(subject, subject, "b-1", "branch", "表现突出"))
    scores = {"m-1": inputs(90, 90, None), "m-2": inputs(70, 70, 100), "m-3": inputs(95, 95, 95)}
    selection.score_stage(scores, date(2027, 5, 1))
    with pytest.raises(InvalidState, match="已计分但还没有决定"):
        selection.score_stage(scores, date(2027, 5, 2))
    body = Body.TOWNSHIP_COMMITTEE
    with pytest.raises(InvalidInput, match="尚未决定"):
        selection.decide(1, body, advance("m-3"), date(2027, 5, 3))
    with pytest.raises(InvalidInput, match="不是第"):
        selection.decide(1, body, advance("m-3", "m-9", out=("m-1", "m-2")), date(2027, 5, 3))
    with pytest.raises(InvalidInput, match="决定了两次"):
        selection.decide(1, body, advance("m-3", "m-3", out=("m-1", "m-2")), date(2027, 5, 3))
    with pytest.raises(InvalidInput, match="至少要有一个候选对象晋级"):
        selection.decide(1, body, advance(out=("m-1", "m-2", "m-3")), date(2027, 5, 3))
    with pytest.raises(InvalidState):
        selection.decide(2, body, advance("m-3", out=("m-1", "m-2")), date(2027, 5, 3))
    # the suggestion was m-3 and m-1; the committee advances m-3 and m-2 and says why
    selection.decide(1, body, advance("m-2", "m-3", out=("m-1",)), date(2027, 5, 3))
    decided = selection.pending[-1]
    assert isinstance(decided, StageDecided)
    assert decided.body is Body.TOWNSHIP_COMMITTEE
    assert [d.subject_id for d in decided.decisions] == ["m-3", "m-1", "m-2"]  # as scored
    assert selection.state.stages == [("m-3", "m-2")]
    with pytest.raises(InvalidState):  # decided once
        selection.decide(1, body, advance("m-3", out=("m-1", "m-2")), date(2027, 5, 4))
    selection.score_stage(scores, date(2027, 5, 20))  # only the decided list is in the running
    assert selection.state.scored[-1] == ("m-3", "m-2")
    selection.decide(2, body, advance("m-2", out=("m-3",)), date(2027, 5, 21))
    assert selection.state.stages[-1] == ("m-2",)
    with pytest.raises(InvalidState):
        selection.score_stage(scores, date(2027, 5, 22))
    again = Selection.replay(selection.stream_id, selection.partition, selection.pending)
    assert again.state.stages == selection.state.stages


def test_a_stage_scored_before_decisions_was_decided_by_its_cut() -> None:
    """StageScored schema 1 carried the cut and a generated reason: read as it was, the cut is
    the stage's decision (by the formula), and old selections continue as they were."""
    v1 = {
        "selection_id": "s-2026-member-t-1",
        "stage": 1,
        "formula_version": 1,
        "scored_on": "2026-06-01",
        "candidates": [
            {
                "subject_id": s,
                "subject_name": s,
                "branch_id": "b-1",
                "inputs": [],
                "composite": score,
                "rank": rank,
                "shortlisted": rank == 1,
                "reason": f"{'shortlisted' if rank == 1 else 'not shortlisted'}: rank {rank} of 2",
            }
            for rank, (s, score) in enumerate((("m-1", 90.0), ("m-2", 80.0)), start=1)
        ],
    }
    event = REGISTRY.decode("StageScored", 1, v1)
    assert isinstance(event, StageScored)
    assert [c.suggested for c in event.candidates] == [True, False]
    assert [(d.subject_id, d.advanced) for d in event.decided] == [("m-1", True), ("m-2", False)]
    selection = a_selection()
    selection.declare(FORMULA.model_copy(update={"quotas": (1,)}))
    selection.nominate(Candidate("m-1", "m-1", "b-1", "branch", "表现突出"))
    selection.nominate(Candidate("m-2", "m-2", "b-1", "branch", "表现突出"))
    history = [*selection.pending, event]
    old = Selection.replay(selection.stream_id, selection.partition, history)
    assert old.state.stages == [("m-1",)]
    old.post_notice(date(2027, 6, 10))  # decided: the notice may follow


def test_notice_objections_and_commendation() -> None:
    selection = a_selection()
    selection.declare(FORMULA.model_copy(update={"quotas": (2,)}))
    for subject in ("m-1", "m-2"):
        selection.nominate(Candidate(subject, subject, "b-1", "branch", f"{subject}表现突出"))
    with pytest.raises(InvalidState):
        selection.post_notice(date(2027, 6, 1))
    selection.score_stage({"m-1": inputs(90, 90, 90), "m-2": inputs(80, 80, 80)}, date(2027, 6, 1))
    with pytest.raises(InvalidState, match="先完成每一轮的计分和决定"):
        selection.post_notice(date(2027, 6, 1))
    selection.decide(1, Body.TOWNSHIP_COMMITTEE, advance("m-1", "m-2"), date(2027, 6, 2))
    with pytest.raises(InvalidState):  # no notice yet
        selection.file_objection("o-1", "m-1", "有意见", date(2027, 6, 2))
    selection.post_notice(date(2027, 6, 10))
    with pytest.raises(InvalidInput):
        selection.file_objection("o-1", "m-9", "不在名单", date(2027, 6, 11))
    selection.file_objection("o-1", "m-2", "群众反映问题", date(2027, 6, 11), in_person=True)
    filed = selection.pending[-1]
    assert isinstance(filed, ObjectionFiled)
    assert filed.in_person
    with pytest.raises(InvalidState):  # the notice runs until June 17
        selection.issue(date(2027, 6, 17))
    with pytest.raises(InvalidState):  # an objection is unanswered
        selection.issue(date(2027, 6, 30))
    with pytest.raises(InvalidState):  # after the notice period
        selection.file_objection("o-2", "m-1", "晚了", date(2027, 6, 18))
    selection.answer("o-1", "经核查属实", upheld=True)
    with pytest.raises(InvalidState):
        selection.answer("o-1", "again", upheld=False)
    with pytest.raises(InvalidState):  # not around July 1
        selection.issue(date(2027, 8, 1))
    selection.issue(date(2027, 6, 30))
    issued = selection.pending[-1]
    assert isinstance(issued, CommendationIssued)
    assert [a.subject_id for a in issued.awardees] == ["m-1"]  # m-2's objection upheld
    # the committee's words and the nomination's: nothing generated
    assert issued.awardees[0].reason == "群众公认，实绩突出"
    assert issued.awardees[0].nomination_reason == "m-1表现突出"


def test_each_level_selects_once_a_year_and_its_own_body_decides() -> None:
    """S1: townships, the county and branches each hold their own selection, with the same
    events and rules; the body that decides is the level's."""
    ids = {
        Selection.id_for("t-1", 2027, SubjectKind.MEMBER),
        Selection.id_for("c-1", 2027, SubjectKind.MEMBER, Level.COUNTY),
        Selection.id_for("b-1", 2027, SubjectKind.MEMBER, Level.BRANCH),
    }
    assert len(ids) == 3
    branch = opening().model_copy(
        update={"level": Level.BRANCH, "organisation_id": "b-1", "subject_kind": "branch"}
    )
    with pytest.raises(InvalidInput, match="只在本支部党员中评选"):
        Selection.open(branch)
    county = Selection.open(opening().model_copy(update={"level": Level.COUNTY}))
    assert county.body is Body.COUNTY
    county.declare(FORMULA.model_copy(update={"quotas": (1,)}))
    county.nominate(Candidate("m-1", "m-1", "b-1", "township", "镇级优秀党员"))
    county.score_stage({"m-1": inputs(90, 90, 90)}, date(2027, 7, 5))
    with pytest.raises(InvalidState, match="由县委决定"):
        county.decide(1, Body.TOWNSHIP_COMMITTEE, advance("m-1"), date(2027, 7, 6))
    county.decide(1, Body.COUNTY, advance("m-1"), date(2027, 7, 6))
    assert a_selection().body is Body.TOWNSHIP_COMMITTEE  # opened before levels: a township's


def test_the_board_shows_only_reasons_people_wrote() -> None:
    """A commendation issued before stages were decisions carried a generated English reason:
    the board reads it as no reason; a new one shows the decision's and the nomination's."""
    old = {"subject_kind": "member", "subject_id": "m-1", "subject_name": "李秀英"}
    read = BoardAwardee.model_validate(old | {"reason": "shortlisted: rank 1 of 2, composite 84"})
    assert read.reason == ""
    new = old | {"reason": "群众公认", "nomination_reason": "带头节水"}
    assert BoardAwardee.model_validate(new).reason == "评定意见：群众公认；推荐理由：带头节水"


def test_the_verdict_keeps_the_pledge_services_contract_e8() -> None:
    ours = REGISTRY.types["SatisfactionVerdictReached"]
    theirs = CONSUMED["SatisfactionVerdictReached"]  # what the pledge service reads of it
    assert ours.aggregate_type == "satisfaction_check"
    sent, read = ours.model_json_schema()["properties"], theirs.model_json_schema()["properties"]
    assert read == {name: sent[name] for name in read}
    document = build_document({"evaluation": REGISTRY})
    channel = document["channels"]["evaluation.SatisfactionVerdictReached"]
    assert channel["address"] == (
        "gongkai.evaluation.{township}.satisfaction_check.SatisfactionVerdictReached"
    )
    for name in ("RoundResultsPublished", "RatingResultsPublished", "CommendationIssued"):
        assert f"evaluation.{name}" in document["channels"]
