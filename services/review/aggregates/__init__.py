"""The review service's rules, one file per aggregate: leadership reviews (R1–R4), work
journals (R6), guidance visits (R7), the branches' responsible leaders (R1), and what they
share (`common`). Pure; no I/O."""

from services.review.aggregates.common import (
    Person,
    Subject,
    month_of,
    not_ahead,
    quarter_of,
    require_active,
)
from services.review.aggregates.journal import Journal
from services.review.aggregates.leaders import BranchLeaders
from services.review.aggregates.review import Review
from services.review.aggregates.visit import Visit

__all__ = [
    "BranchLeaders",
    "Journal",
    "Person",
    "Review",
    "Subject",
    "Visit",
    "month_of",
    "not_ahead",
    "quarter_of",
    "require_active",
]
