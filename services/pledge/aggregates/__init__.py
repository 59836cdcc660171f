"""The pledge service's rules, one file per aggregate: the directory's county, townships,
branches and members (D1–D3) and the pledge (P1–P11). Pure; no I/O."""

from services.pledge.aggregates.directory import (
    DEFAULT_CATEGORIES,
    Branch,
    County,
    Member,
    Township,
    default_drafting_deadline,
)
from services.pledge.aggregates.pledge import Item, Pledge, Pledger, PledgeStatus

__all__ = [
    "DEFAULT_CATEGORIES",
    "Branch",
    "County",
    "Item",
    "Member",
    "Pledge",
    "PledgeStatus",
    "Pledger",
    "Township",
    "default_drafting_deadline",
]
