"""Response models of invitations (issue 17). The codes are in the answer that issues them,
once; never in a read."""

from __future__ import annotations

from services.evaluation.schemas import View


class IssuedInvitation(View):
    rater_id: str
    code: str  # shown once: only its hash is kept
    link: str  # the voting page with the code in the fragment (never sent to a server)
    name: str | None  # masked (张*兰), for a named rater; None for an anonymous one
    by_sms: bool  # the link was handed to the county's SMS channel
    sms_failed: bool = False  # it was to go by SMS, but the channel refused it: hand the code


class InvitationsIssued(View):
    id: str
    events: list[str]
    invitations: list[IssuedInvitation]


class InvitationTurnout(View):
    scope_id: str
    registered: int
    invited: int  # raters with an invitation
    reissued: int  # invitations replaced
    voted: int
    in_urn: int  # ballots waiting in the urn for their batch
    by_sms: int  # raters whose latest invitation went by a text the provider accepted
    sms_refused: int = 0  # raters whose latest invitation's text it refused (code on paper)
    sms: bool  # the county has an SMS channel: invitations can go by SMS (`by_sms`)
