"""Voting's projectors (issue 17), by the event they project."""

from services.evaluation.voting.projections import invitations
from shared.projections import Projection, Table

TABLE: Table = {
    "InvitationIssued": invitations.invitation_issued,
    "InvitationReissued": invitations.invitation_issued,
    "InvitationTextRefused": invitations.text_refused,
}
PROJECTION = Projection("evaluation", TABLE)
