"""Events of other services that the review service consumes (their published contract):
enough of each pledge to record its status with a review (R3 "fulfilment of pledges"), and
the identity service's posts, for who sits on a township committee (R1: the office assigns
the township's leaders). Parsed with `extra="ignore"`: only the fields named here are read;
tests/unit/test_consumed_contracts.py holds them to the publishers' real classes."""

from __future__ import annotations

from shared.consumed import Consumed, by_type


class PledgeEvent(Consumed):
    pledge_id: str


class PledgeDrafted(PledgeEvent):
    year: int
    branch_id: str
    member_id: str | None = None
    township_id: str


class ProposedItem(Consumed):
    item_id: str


class PledgeProposed(PledgeEvent):
    items: tuple[ProposedItem, ...]


class PledgeResubmitted(PledgeProposed):
    pass


class PledgeReturned(PledgeEvent):
    pass


class PledgeApproved(PledgeEvent):
    pass


class PledgePublished(PledgeEvent):
    item_ids: tuple[str, ...]


class ItemClosed(PledgeEvent):
    item_id: str


class PostEvent(Consumed):
    """A post a person holds (the identity service's): `role` at `org`."""

    person_id: str
    role: str
    org: str


class PostStarted(PostEvent):
    pass


class PostEnded(PostEvent):
    pass


CONSUMED = by_type(
    PledgeDrafted,
    PledgeProposed,
    PledgeResubmitted,
    PledgeReturned,
    PledgeApproved,
    PledgePublished,
    ItemClosed,
    PostStarted,
    PostEnded,
)
