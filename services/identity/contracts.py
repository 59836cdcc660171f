"""Events of the pledge service that the identity service reads (their published contract):
the directory's appointments, enrolments, transfers, moves and retirements, turned into
posts by services/identity/policies.py. Parsed with `extra="ignore"`: only the fields named
here are read; tests/unit/test_consumed_contracts.py holds them to the pledge service's real
classes."""

from __future__ import annotations

from shared.consumed import Consumed, by_type


class TownshipHeadAppointed(Consumed):
    township_id: str
    person_id: str
    name: str


class BranchSecretaryAppointed(Consumed):
    branch_id: str
    member_id: str


class MemberEnrolled(Consumed):
    member_id: str
    branch_id: str
    township_id: str
    name: str


class MemberTransferred(Consumed):
    member_id: str
    from_branch_id: str
    to_branch_id: str
    to_township_id: str


class MemberRetired(Consumed):
    member_id: str
    reason: str


class BranchRetired(Consumed):
    branch_id: str
    reason: str


CONSUMED = by_type(
    TownshipHeadAppointed,
    BranchSecretaryAppointed,
    MemberEnrolled,
    MemberTransferred,
    MemberRetired,
    BranchRetired,
)
