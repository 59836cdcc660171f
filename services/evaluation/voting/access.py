"""Who may invite (issue 17): the round's organiser, the township office for a check. Pure."""

from __future__ import annotations

from services.evaluation.checks.access import office_of
from services.evaluation.checks.aggregates import SatisfactionCheck
from services.evaluation.rounds.access import organiser_of
from services.evaluation.rounds.aggregates import Round
from shared.auth import Principal


def invites(principal: Principal, target: Round | SatisfactionCheck) -> bool:
    """Who registers the raters invites them."""
    if isinstance(target, Round):
        return organiser_of(principal, target)
    return office_of(principal, target)
