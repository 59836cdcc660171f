"""Commands of voting from a phone (issue 17), as the API and the voting page receive them."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from services.evaluation.commands import Id
from services.evaluation.rounds.commands import Grades
from shared.events import Command

# what a person may type as a code: checked (and forgiven) by codes.normalise
TypedCode = Annotated[str, Field(min_length=1, max_length=40)]


class IssueInvitations(Command):
    """Invite raters of a round or check (none given: every registered rater not invited
    yet). `by_sms`: send the link by SMS to those with a phone, where the county has SMS."""

    rater_ids: Annotated[tuple[Id, ...], Field(max_length=2000)] = ()
    by_sms: bool = False


class ReissueInvitation(Command):
    """Replace a lost invitation: the old code dies."""

    by_sms: bool = False


class VoteWithCode(Command):
    """A ballot from the voting page: the code, the round or check it was opened for, and a
    grade per subject (a check's one subject is `item`)."""

    code: TypedCode
    scope_id: Id
    grades: Grades


class OpenBallot(Command):
    """Open the voting page's ballot with a code (the code typed in, or from the link)."""

    code: TypedCode
