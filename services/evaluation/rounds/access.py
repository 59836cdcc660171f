"""Who may do what in mass evaluation rounds (E2). Pure functions of the caller and the records."""

from __future__ import annotations

from services.evaluation.access import branch_secretary
from services.evaluation.rounds.aggregates import Round
from shared.auth import Principal, Role, township_office


def organises(principal: Principal, organiser_kind: str, organiser_id: str) -> bool:
    """E2: the upper-level organisation organises: the township for its branches (through its
    office), the branch (its secretary) for its members."""
    if organiser_kind == "township":
        return township_office(principal, organiser_id)
    return branch_secretary(principal, organiser_id)


def organiser_of(principal: Principal, round_: Round) -> bool:
    return organises(principal, round_.organiser_kind, round_.organiser_id)


def is_member(principal: Principal, member_id: str) -> bool:
    """A member's own rounds as a rater are theirs to see (whether invited, whether voted)."""
    return principal.is_(Role.MEMBER) and principal.subject == member_id
