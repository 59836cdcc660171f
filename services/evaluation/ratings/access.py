"""Who publishes periodic ratings (E6): the township committee (镇党委) rates its branches every
two months, the branch secretary the branch's members. Pure functions of the caller."""

from __future__ import annotations

from services.evaluation.access import branch_secretary
from shared.auth import Principal, township_committee


def rates_branches(principal: Principal, township_id: str) -> bool:
    """The township committee publishes the bimonthly branch ratings (not its office)."""
    return township_committee(principal, township_id)


def rates_members(principal: Principal, branch_id: str) -> bool:
    return branch_secretary(principal, branch_id)
