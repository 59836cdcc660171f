"""The pledge service's rules, one file per aggregate: the directory's county, townships,
branches and members (D1–D3) and the pledge (P1–P11). Pure; no I/O."""

from services.pledge.aggregates.branch import Branch
from services.pledge.aggregates.county import (
    DEFAULT_CATEGORIES,
    County,
    default_drafting_deadline,
    default_publication_deadline,
)
from services.pledge.aggregates.member import Member
from services.pledge.aggregates.pledge import Item, Pledge, Pledger
from services.pledge.aggregates.township import Township
from services.pledge.events import PledgeStatus

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
    "default_publication_deadline",
]
