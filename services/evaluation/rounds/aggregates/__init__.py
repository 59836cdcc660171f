"""The rules of mass evaluation rounds (E1–E5, E7): the round, its ballot box kept apart (E3),
and the county's evaluation calendar (E4)."""

from services.evaluation.rounds.aggregates.ballot_box import BallotBox
from services.evaluation.rounds.aggregates.calendar import EvaluationCalendar, default_closing_dates
from services.evaluation.rounds.aggregates.round import (
    RATERS_FOR,
    NewRater,
    Rater,
    Round,
    RoundStatus,
    check_grades,
)

__all__ = [
    "RATERS_FOR",
    "BallotBox",
    "EvaluationCalendar",
    "NewRater",
    "Rater",
    "Round",
    "RoundStatus",
    "check_grades",
    "default_closing_dates",
]
