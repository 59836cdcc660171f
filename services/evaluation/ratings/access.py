"""Who publishes periodic ratings (E6): the township (its office) rates its branches, the branch
secretary the branch's members. Pure functions of the caller."""

from __future__ import annotations

from services.evaluation.access import branch_secretary
from shared.auth import Principal, township_office


def rates_branches(principal: Principal, township_id: str) -> bool:
    return township_office(principal, township_id)


def rates_members(principal: Principal, branch_id: str) -> bool:
    return branch_secretary(principal, branch_id)
