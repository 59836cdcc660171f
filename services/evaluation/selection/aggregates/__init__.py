"""The rules of the annual selection (S1–S3): the selection, and the declared formula its
composite score is computed by (formula.py)."""

from services.evaluation.selection.aggregates.formula import (
    REVIEW_POINTS,
    ReviewRecord,
    composite,
    reviews_value,
)
from services.evaluation.selection.aggregates.selection import (
    Candidate,
    Objection,
    Selection,
    SelectionState,
)

__all__ = [
    "REVIEW_POINTS",
    "Candidate",
    "Objection",
    "ReviewRecord",
    "Selection",
    "SelectionState",
    "composite",
    "reviews_value",
]
