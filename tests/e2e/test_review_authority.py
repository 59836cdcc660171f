"""R1 over HTTP: every role against every kind of review subject. The head of the
upper-level organisation reviews a branch and its leadership team, the branch secretary the
branch's members; everyone else is refused (403, or 401 without a token) and nothing is
appended."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

import pytest

from tests.e2e.helpers import event_count
from tests.e2e.review_helpers import (
    Headers,
    ReviewWorld,
    pledge_and_review,
    review_body,
)
from tests.support import Servers


@pytest.fixture(scope="module")
async def world(servers: Servers) -> AsyncIterator[ReviewWorld]:
    async with pledge_and_review(servers) as (pledge, review):
        yield await ReviewWorld.build(pledge, review, servers)


ROLES: dict[str, Callable[[ReviewWorld], Headers]] = {
    "township committee's account, a head being named": lambda w: w.d.committee,
    "township head": lambda w: w.as_("township_committee", w.d.township, w.head),
    "township head, by subject": lambda w: w.head_by_subject,
    "committee of another township": lambda w: w.as_("township_committee", w.d.other_township),
    "township office": lambda w: w.d.office,
    "county administrator": lambda w: w.as_("county_admin", w.d.county),
    "branch secretary": lambda w: w.d.branch_secretary,
    "branch secretary role, not the appointed secretary": lambda w: w.as_(
        "branch_secretary", w.d.branch, w.other_secretary_id
    ),
    "secretary of another branch": lambda w: w.other_secretary,
    "the ordinary member": lambda w: w.d.the_member,
    "another member of the branch": lambda w: w.as_("member", w.d.branch, w.d.secretary),
    "rater": lambda w: w.as_("rater", w.d.township),
    "auditor": lambda w: w.as_("auditor"),
    "integration": lambda w: w.as_("integration"),
    "public (no token)": lambda w: {},
}

SUBJECTS: dict[str, Callable[[ReviewWorld], tuple[str, str]]] = {
    "branch": lambda w: ("branch", w.d.branch),
    "leadership-team member": lambda w: ("member", w.d.secretary),
    "ordinary member": lambda w: ("member", w.d.member),
}

ALLOWED = {
    ("township head", "branch"),
    ("township head", "leadership-team member"),
    ("township head, by subject", "branch"),
    ("township head, by subject", "leadership-team member"),
    ("branch secretary", "ordinary member"),
}

MATRIX = [(role, subject) for role in ROLES for subject in SUBJECTS]


@pytest.mark.parametrize(("role", "subject"), MATRIX, ids=[f"{r} / {s}" for r, s in MATRIX])
async def test_who_may_review_whom(world: ReviewWorld, role: str, subject: str) -> None:
    kind, subject_id = SUBJECTS[subject](world)
    before = await event_count(world.review)
    response = await world.review.client.post(
        "/v1/reviews",
        json=review_body(kind, subject_id, "2027-01-04"),
        headers=ROLES[role](world),
    )
    appended = await event_count(world.review) - before
    if (role, subject) in ALLOWED:
        assert response.status_code == 201, response.text
        assert appended == 1
    else:
        expected = 401 if role == "public (no token)" else 403
        assert response.status_code == expected, response.text
        assert response.json()["type"].endswith(
            "unauthenticated" if expected == 401 else "forbidden"
        )
        assert appended == 0
