"""A roster import's plan executed by the handler (services/pledge/handlers.py,
`execute_roster`) with no server: each change decided by its aggregate, as one request
would be, the events in the plan's order; an aggregate's refusal stops it all."""

from __future__ import annotations

import pytest

from services.pledge import commands as c
from services.pledge import handlers as h
from services.pledge.aggregates.roster import Change, Plan
from services.pledge.events import REGISTRY, BranchKind
from shared.auth import Principal, Role
from shared.errors import InvalidState
from tests.support.memory import Memory

ADMIN = Principal(subject="admin", role=Role.COUNTY_ADMIN, org="c1")


async def county(memory: Memory) -> tuple[str, str, str]:
    """A county, a township, a branch with one member; (township, branch, member)."""
    await h.establish_county(memory.as_(ADMIN), c.EstablishCounty(county_id="c1", name="县"), ADMIN)
    town = await h.establish_township(
        memory.as_(ADMIN), "c1", c.EstablishTownship(name="镇"), ADMIN
    )
    branch = await h.establish_branch(
        memory.as_(ADMIN),
        c.EstablishBranch(township_id=town["id"], name="村党支部", kind=BranchKind.VILLAGE),
        ADMIN,
    )
    member = await h.enrol_member(
        memory.as_(ADMIN),
        c.EnrolMember(branch_id=branch["id"], name="张三", post="党员", duties="参加组织生活"),
        ADMIN,
    )
    return town["id"], branch["id"], member["id"]


async def test_the_plan_is_appended_in_its_order_through_the_aggregates() -> None:
    memory = Memory("pledge", REGISTRY)
    town, branch, member = await county(memory)
    mark = len(memory.events)
    plan = Plan(
        [
            Change(
                "BranchEstablished",
                "",
                town,
                branch=f"new:{town}:新村",
                data={"name": "新村党支部", "kind": "village", "village": None},
            ),
            Change(
                "MemberEnrolled",
                "",
                town,
                branch=f"new:{town}:新村",
                member="row:2",
                data={
                    "name": "李四",
                    "post": "支部书记",
                    "duties": "主持工作",
                    "leadership_team": True,
                },
            ),
            Change("MemberTransferred", "", town, branch=f"new:{town}:新村", member=member),
            Change("BranchSecretaryAppointed", "", town, branch=f"new:{town}:新村", member="row:2"),
            Change("BranchRetired", "", town, branch=branch, data={"reason": "合并"}),
        ],
        [],
        3,
    )
    uow = memory.as_(ADMIN)
    assert await h.execute_roster(uow, plan) == 5
    assert memory.types(mark) == [c.event for c in plan.changes]
    enrolled = memory.events[mark + 1].data
    assert len(enrolled["member_id"]) == len("m-") + 16  # 64 random bits: no collision
    appointed = memory.events[mark + 3].data
    assert appointed["member_id"] == enrolled["member_id"]


async def test_an_aggregate_still_refuses_what_it_would_refuse_one_request() -> None:
    memory = Memory("pledge", REGISTRY)
    town, branch, member = await county(memory)
    await h.retire_branch(memory.as_(ADMIN), branch, c.Retire(reason="撤销"), ADMIN)
    plan = Plan(
        [
            Change(
                "MemberPostAssigned",
                "",
                town,
                member=member,
                data={"post": "岗", "duties": "职责", "leadership_team": False},
            )
        ],
        [],
        1,
    )
    mark = len(memory.events)
    await memory.execute(lambda uow: h.execute_roster(uow, plan), context=memory.as_(ADMIN).context)
    assert memory.types(mark) == ["MemberPostAssigned"]  # a member of a retired branch may
    moved = Plan([Change("MemberTransferred", "", town, branch=branch, member=member)], [], 1)
    with pytest.raises(InvalidState):
        await memory.execute(
            lambda uow: h.execute_roster(uow, moved), context=memory.as_(ADMIN).context
        )
    assert memory.types(mark) == ["MemberPostAssigned"]  # nothing of the refused plan
