"""The rounds' projectors (E1–E5) and the calendar's (E4), by the event they project."""

from services.evaluation.rounds.projections import rounds
from shared.projections import Projection, Table

TABLE: Table = {
    "EvaluationCalendarSet": rounds.calendar_set,
    "RoundOpened": rounds.round_opened,
    "RaterRegistered": rounds.rater_registered,
    "RaterParticipated": rounds.rater_participated,
    "BallotCast": rounds.ballot_cast,
    "RoundClosed": rounds.round_closed,
    "RoundResultsPublished": rounds.results_published,
}
PROJECTION = Projection("evaluation", TABLE)
