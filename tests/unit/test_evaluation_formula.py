"""The selection's leadership-review component (S2, R3) without I/O: a formula scores the
reviews' dimension grades with the points it declares; a formula declared before it did so
(FormulaDeclared version 1) still counts quarters reviewed, as it did then."""

from __future__ import annotations

import pytest

from services.evaluation.events import REGISTRY
from services.evaluation.selection.aggregates import (
    REVIEW_POINTS,
    ReviewRecord,
    composite,
    reviews_value,
)
from services.evaluation.selection.events import (
    FormulaDeclared,
    Input,
    ReviewsMeasure,
    ReviewsRule,
    Source,
)
from shared.errors import InvalidInput, InvalidState
from tests.unit.test_evaluation_selection import FORMULA, a_selection

GRADES = ReviewsRule(measure=ReviewsMeasure.GRADES, points=REVIEW_POINTS)
QUARTERS = ReviewsRule(measure=ReviewsMeasure.QUARTERS_REVIEWED)


def review(quarter: str, *grades: str, review_id: str = "rv") -> ReviewRecord:
    return ReviewRecord(review_id, quarter, grades)


def test_the_default_points_are_the_member_appraisal_scale() -> None:
    assert REVIEW_POINTS == {
        "excellent": 100,
        "qualified": 85,
        "basically_qualified": 60,
        "unqualified": 0,
    }


def test_reviews_score_by_their_grades() -> None:
    excellent = review("2027Q1", "excellent", "excellent", "excellent", "excellent")
    mixed = review("2027Q1", "qualified", "basically_qualified", "unqualified", "qualified")
    assert reviews_value(GRADES, [excellent]) == 100.0
    assert reviews_value(GRADES, [mixed]) == 57.5  # (85 + 60 + 0 + 85) / 4
    assert reviews_value(GRADES, [excellent, mixed]) == 78.75  # each review counts once
    assert reviews_value(GRADES, []) is None  # no review: the formula's when_missing decides
    # the same coverage, graded worse, scores lower (by quarters both would be 25)
    assert reviews_value(QUARTERS, [excellent]) == reviews_value(QUARTERS, [mixed]) == 25.0


def test_the_formula_declares_the_points() -> None:
    strict = ReviewsRule(
        measure=ReviewsMeasure.GRADES,
        points={"excellent": 100, "qualified": 70, "basically_qualified": 30, "unqualified": 0},
    )
    graded = [review("2027Q2", "qualified", "basically_qualified")]
    assert reviews_value(strict, graded) == 50.0
    assert reviews_value(GRADES, graded) == 72.5
    with pytest.raises(InvalidState):  # a grade the formula gives no points
        reviews_value(GRADES, [review("2027Q2", "outstanding")])


def test_counting_quarters_stays_as_it_was() -> None:
    reviews = [review("2027Q1", "unqualified"), review("2027Q1"), review("2027Q3")]
    assert reviews_value(QUARTERS, reviews) == 50.0
    assert reviews_value(QUARTERS, []) is None


def test_a_formula_declared_before_grades_counted_still_counts_quarters() -> None:
    v1 = {
        "selection_id": "s-1",
        "formula": {
            "version": 1,
            "weights": {"ratings": 0.5, "reviews": 0.5},
            "when_missing": "zero",
            "quotas": [1],
        },
    }
    declared = REGISTRY.decode("FormulaDeclared", 1, v1)
    assert isinstance(declared, FormulaDeclared)
    assert declared.formula.reviews.measure is ReviewsMeasure.QUARTERS_REVIEWED
    assert FormulaDeclared.schema_version == 3  # 3 added the data window
    selection = a_selection()
    selection.apply(declared)
    reviews = [review("2027Q1", "unqualified"), review("2027Q2", "unqualified")]
    value = reviews_value(selection.the_formula.reviews, reviews)
    inputs = (
        Input(source=Source.RATINGS, value=80, evidence=()),
        Input(source=Source.REVIEWS, value=value, evidence=("rv",)),
    )
    assert composite(selection.the_formula, inputs) == 65.0  # 0.5·80 + 0.5·50, as in v1


def test_a_declared_formula_gives_points_to_every_review_grade() -> None:
    selection = a_selection()
    partial = GRADES.model_copy(update={"points": {"excellent": 100, "qualified": 80}})
    with pytest.raises(InvalidInput) as refused:
        selection.declare(FORMULA.model_copy(update={"reviews": partial}))
    assert refused.value.extra["errors"][0]["field"] == "review_points"
    selection.declare(FORMULA)
    declared = selection.pending[-1]
    assert isinstance(declared, FormulaDeclared)
    assert declared.formula.reviews == GRADES
    assert selection.the_formula.version == 1
