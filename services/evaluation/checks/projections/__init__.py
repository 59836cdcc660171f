"""The satisfaction checks' projectors (E8), by the event they project."""

from services.evaluation.checks.projections import checks
from shared.projections import Projection, Table

TABLE: Table = {
    "SatisfactionCheckOpened": checks.check_opened,
    "CheckRaterRegistered": checks.check_rater_registered,
    "CheckRaterParticipated": checks.check_rater_participated,
    "CheckBallotCast": checks.check_ballot_cast,
    "SatisfactionVerdictReached": checks.verdict_reached,
    "SatisfactionCheckLapsed": checks.check_lapsed,
    "SatisfactionCheckExtended": checks.check_extended,
    "CheckTermsSet": checks.terms_set,
}
PROJECTION = Projection("evaluation", TABLE)
