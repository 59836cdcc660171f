"""Who may object to a selection's public notice (S3): the township's people, its committee
and office, and the county above it; nobody from elsewhere. No I/O."""

from __future__ import annotations

import pytest

from services.evaluation.selection.access import of_township
from shared.auth import Principal, Role


def who(role: Role, org: str | None, subject: str = "someone") -> Principal:
    return Principal(subject=subject, role=role, org=org)


@pytest.mark.parametrize(
    ("principal", "home", "allowed"),
    [
        (who(Role.MEMBER, "b-1", "m-1"), "t-1", True),
        (who(Role.MEMBER, "b-9", "m-9"), "t-2", False),  # a member of another township
        (who(Role.MEMBER, "b-1", "m-gone"), None, False),  # not (or no longer) in the copy
        (who(Role.BRANCH_SECRETARY, "b-1"), "t-1", True),
        (who(Role.BRANCH_SECRETARY, "b-9"), "t-2", False),
        (who(Role.TOWNSHIP_OFFICE, "t-1"), None, True),
        (who(Role.TOWNSHIP_COMMITTEE, "t-1"), None, True),
        (who(Role.TOWNSHIP_OFFICE, "t-2"), None, False),
        (who(Role.TOWNSHIP_COMMITTEE, "t-2"), None, False),
        (who(Role.COUNTY_ADMIN, "minqin"), None, True),
        (who(Role.COUNTY_ADMIN, "gulang"), None, False),
        (who(Role.RATER, "r-1", "rt-1"), None, False),  # a token for one round's ballot
        (who(Role.TOWNSHIP_OFFICE, "t-2"), "t-1", False),  # `home` counts only for people
    ],
)
def test_objections_come_from_the_township_and_the_county_above(
    principal: Principal, home: str | None, allowed: bool
) -> None:
    assert of_township(principal, "t-1", "minqin", home) is allowed
