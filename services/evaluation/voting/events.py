"""The events of invitations to vote (issue 17): that a rater of a round or a satisfaction
check was sent or handed an invitation, that a lost one was replaced, and that the SMS
provider refused the text that carried one. Never the code:
only its hash is kept, in the `invitations` table beside the log. Stream
`invitations-<round or check id>`; registered with the others in services/evaluation/events.py.
"""

from __future__ import annotations

from enum import StrEnum

from shared.events import DomainEvent


class Scope(StrEnum):
    ROUND = "round"
    CHECK = "check"


class InvitationIssued(DomainEvent):
    """A rater got an invitation (a code and its link) to vote in a round or check."""

    aggregate_type = "invitations"
    scope: Scope
    scope_id: str
    rater_id: str
    by_sms: bool = False


class InvitationReissued(DomainEvent):
    """A lost invitation was replaced: the old code no longer votes."""

    aggregate_type = "invitations"
    scope: Scope
    scope_id: str
    rater_id: str
    by_sms: bool = False


class InvitationTextRefused(DomainEvent):
    """The SMS provider refused the text that carried an invitation's link (its error code,
    never the phone): the rater has the code only on paper, and turnout does not count the
    text as sent."""

    aggregate_type = "invitations"
    scope: Scope
    scope_id: str
    rater_id: str
    reason: str  # the provider's error code, e.g. "isv.MOBILE_NUMBER_ILLEGAL"


EVENTS: list[type[DomainEvent]] = [InvitationIssued, InvitationReissued, InvitationTextRefused]
