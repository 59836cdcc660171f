"""Events of other services that the annual selection reads (their published contracts): the
pledge service's pledges and closed items, and the review service's reviews with their grades,
which the selection scores (S2). Parsed with `extra="ignore"`:
only the fields named here are read; tests/unit/test_consumed_contracts.py holds them to
the publishers' real event classes."""

from __future__ import annotations

from datetime import date

from shared.consumed import Consumed, by_type

# --- pledge (port 8101) ------------------------------------------------------------------


class PledgeDrafted(Consumed):
    pledge_id: str
    year: int
    branch_id: str
    member_id: str | None = None
    township_id: str


class PledgePublished(Consumed):
    pledge_id: str
    item_ids: tuple[str, ...]


class ItemClosed(Consumed):
    pledge_id: str
    item_id: str


# --- review (port 8102) ------------------------------------------------------------------


class Assessment(Consumed):
    dimension: str
    grade: str


class ReviewRecorded(Consumed):
    review_id: str
    township_id: str
    subject_id: str
    quarter: str
    held_on: date  # the data window counts a review by the day it was held (S2)
    assessments: tuple[Assessment, ...] = ()


class ReviewCorrected(ReviewRecorded):
    corrects_review_id: str


CONSUMED = by_type(PledgeDrafted, PledgePublished, ItemClosed, ReviewRecorded, ReviewCorrected)
