"""R1 over HTTP: every role against every kind of review subject. The head of the
upper-level organisation, or a leader the township office assigned to the branch, reviews a
branch and its leadership team, the branch secretary the branch's members; everyone else is
refused (403, or 401 without a token) and nothing is appended. Coverage counts the reviews of
whoever was entitled when they were made."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

import pytest

from tests.e2e.helpers import event_count
from tests.e2e.review_helpers import (
    Headers,
    ReviewWorld,
    pledge_and_review,
    review_body,
    seated,
)
from tests.support import Servers


@pytest.fixture(scope="module")
async def world(servers: Servers) -> AsyncIterator[ReviewWorld]:
    async with pledge_and_review(servers) as (pledge, review):
        w = await ReviewWorld.build(pledge, review, servers)
        await seated(review, servers, w.d.township, DEPUTY, ELSEWHERE)  # on its committee
        for branch, leader in ((w.d.branch, DEPUTY), (w.other_branch, ELSEWHERE)):
            assigned = await w.review.client.post(
                f"/v1/branches/{branch}/leaders",
                json={"leader_id": leader, "leader_name": "副书记"},
                headers=w.d.office,
            )
            assert assigned.status_code == 201, assigned.text
        yield w


DEPUTY, ELSEWHERE = "l-deputy", "l-elsewhere"  # leaders of the township, not its head


ROLES: dict[str, Callable[[ReviewWorld], Headers]] = {
    "township committee's account, a head being named": lambda w: w.d.committee,
    "township head": lambda w: w.as_("township_committee", w.d.township, w.head),
    "township head, by subject": lambda w: w.head_by_subject,
    "committee of another township": lambda w: w.as_("township_committee", w.d.other_township),
    "leader assigned to the branch": lambda w: w.as_("township_committee", w.d.township, DEPUTY),
    "leader assigned to another branch": lambda w: w.as_(
        "township_committee", w.d.township, ELSEWHERE
    ),
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
    ("leader assigned to the branch", "branch"),
    ("leader assigned to the branch", "leadership-team member"),
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


async def test_an_assigned_leaders_review_counts_and_ends_with_the_assignment(
    world: ReviewWorld,
) -> None:
    """R1, R5: the leader assigned to the other branch reviews it, and coverage counts that
    review; once the office ends the assignment the leader is refused, the review stays."""
    w, c = world, world.review.client
    leader = w.as_("township_committee", w.d.township, ELSEWHERE)

    async def branch_reviewed() -> bool:
        found = await c.get(f"/v1/townships/{w.d.township}/coverage", params={"quarter": "2027Q1"})
        assert found.status_code == 200, found.text
        missing = {r["subject_id"] for r in found.json()["not_reviewed"]}
        return w.other_branch not in missing

    assert not await branch_reviewed()
    body = review_body("branch", w.other_branch, "2027-01-04")
    made = await c.post("/v1/reviews", json=body, headers=leader)
    assert made.status_code == 201, made.text
    assert await branch_reviewed()
    listed = await c.get(f"/v1/branches/{w.other_branch}/leaders")
    assert [x["leader_id"] for x in listed.json()] == [ELSEWHERE]
    ended = await c.post(
        f"/v1/branches/{w.other_branch}/leaders/{ELSEWHERE}/unassignment", headers=w.d.office
    )
    assert ended.status_code == 200, ended.text
    assert (await c.get(f"/v1/branches/{w.other_branch}/leaders")).json() == []
    refused = await c.post("/v1/reviews", json=body, headers=leader)
    assert refused.status_code == 403, refused.text
    assert await branch_reviewed()  # entitled when it was made: it still counts
