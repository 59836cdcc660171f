"""The rules of the satisfaction check of a pledge item (E8, P10c): the check, and its ballots
kept apart (E3)."""

from services.evaluation.checks.aggregates.check import (
    DEFAULT_THRESHOLD,
    DEFAULT_WINDOW,
    CheckTerms,
    SatisfactionCheck,
)
from services.evaluation.checks.aggregates.check_ballots import CheckBallots

__all__ = [
    "DEFAULT_THRESHOLD",
    "DEFAULT_WINDOW",
    "CheckBallots",
    "CheckTerms",
    "SatisfactionCheck",
]
