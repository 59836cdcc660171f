"""The rules of the annual selection (S1–S3): the selection, and the declared formula its
composite score is computed by (formula.py)."""

from services.evaluation.selection.aggregates.formula import (
    REVIEW_POINTS,
    ReviewRecord,
    calendar_year,
    composite,
    default_window,
    period_end,
    pledge_year,
    reviews_value,
    within,
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
    "calendar_year",
    "composite",
    "default_window",
    "period_end",
    "pledge_year",
    "reviews_value",
    "within",
]
