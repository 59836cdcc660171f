"""R1 (创先办安排负责人): the township office assigns the township's leaders to branches, the
members of its committee as the identity service seats them (copied from its `PostStarted`
and `PostEnded` of the `township_committee` post), and the head in any case. Anyone else is
refused beside the leader's field, in Chinese, nothing appended. The handlers in memory
(tests/support/review.py); against the real identity service:
tests/unit/test_console_seats.py."""

from __future__ import annotations

from services.review import commands as c
from services.review import handlers as h
from shared.errors import InvalidInput
from tests.unit.test_review_handlers import OFFICE, data, named, refused, world

NOT_A_LEADER = "该同志不是本镇党委成员，不能安排为联系领导。"


def post(person_id: str, org: str, role: str = "township_committee") -> dict[str, str]:
    return {"person_id": person_id, "role": role, "org": org}


async def test_only_a_member_of_the_township_committee_or_its_head_is_assigned() -> None:
    memory, copies = world()  # township t1 (head h1): branches b1, b2; township t2
    assign = c.AssignLeader(leader_id="l1", leader_name="王副书记")

    async def refused_for(branch_id: str) -> None:
        error = await refused(
            memory,
            InvalidInput,
            lambda: h.assign_leader(memory.as_(OFFICE), branch_id, assign, OFFICE),
        )
        assert named(error) == ["leader_id"]
        assert error.detail == NOT_A_LEADER

    await refused_for("b1")  # a person with no post at all
    copies.apply("PostStarted", post("l1", "t2"))  # another township's committee
    copies.apply("PostStarted", post("l1", "t1", role="township_office"))  # its office
    copies.apply("PostStarted", post("l1", "b1", role="branch_secretary"))
    await refused_for("b1")
    assert memory.events == []

    copies.apply("PostStarted", post("l1", "t1"))  # seated on t1's committee
    result = await h.assign_leader(memory.as_(OFFICE), "b1", assign, OFFICE)
    assert result["events"] == ["LeaderAssigned"]
    assert data(memory)["leader_id"] == "l1"
    # the head, seated by the directory, whatever the identity service's copy says
    head = c.AssignLeader(leader_id="h1", leader_name="党委书记")
    await h.assign_leader(memory.as_(OFFICE), "b2", head, OFFICE)
    assert data(memory)["leader_id"] == "h1"

    # the seat ends: no new assignment; the office still ends the one made
    copies.apply("PostEnded", post("l1", "t1"))
    await refused_for("b2")
    await h.unassign_leader(memory.as_(OFFICE), "b1", "l1", OFFICE)
    assert memory.types() == ["LeaderAssigned", "LeaderAssigned", "LeaderUnassigned"]
    await refused_for("b1")
