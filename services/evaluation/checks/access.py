"""Who may do what in a satisfaction check (E8): the township office registers the people the
item served, enters paper ballots and closes it; the raters vote (services/evaluation/access.py,
`voter_id`). Pure functions of the caller and the records."""

from __future__ import annotations

from services.evaluation.checks.aggregates import SatisfactionCheck
from shared.auth import Principal, township_office


def office_of(principal: Principal, check: SatisfactionCheck) -> bool:
    return township_office(principal, check.township_id)


def sees_raters(principal: Principal, township_id: str) -> bool:
    """Only the township office sees the people an item served (A7)."""
    return township_office(principal, township_id)
