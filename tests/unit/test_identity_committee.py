"""A township's committee has several members (R1: the office assigns its leaders to branches):
the county grants the post to each; a new head appointed by the directory ends the head
before, not the members the county granted the post to."""

from __future__ import annotations

from services.identity import commands as c
from services.identity import handlers as h
from shared.auth import Role
from tests.unit.test_identity_handlers import ADMIN, county, posts, register


async def test_a_new_head_leaves_the_granted_committee_members_on_it() -> None:
    w = await county()
    member = await register(w, name="刘建国")
    seat = c.GrantPost(role=Role.TOWNSHIP_COMMITTEE, org="t1")
    await h.grant_post(w.memory.as_(ADMIN), member, seat, ADMIN)
    await w.directory("TownshipHeadAppointed", township_id="t1", person_id="h2", name="李书记")
    assert await posts(w, "h1") == set()  # the head before leaves
    assert await posts(w, "h2") == {("township_committee", "t1")}
    assert await posts(w, member) == {("township_committee", "t1")}  # the member stays
