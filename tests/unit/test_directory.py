"""Directory rules (D1–D3), no I/O."""

from __future__ import annotations

from datetime import date

import pytest

from services.pledge.aggregates import Branch, County, Member, Township
from services.pledge.events import BranchKind, BranchMoved, MemberTransferred
from shared.errors import InvalidInput, InvalidState


def township(tid: str = "t-1", county: str = "minqin") -> Township:
    return Township.establish(tid, county, "红沙梁镇")


def test_the_calendar_is_data_with_the_seed_default() -> None:
    county = County.establish("minqin", "民勤县")
    assert county.drafting_deadline(2027) == date(2027, 3, 15)
    county.set_calendar(2027, date(2027, 3, 31))
    assert County.replay(county.stream_id, "minqin", county.pending).drafting_deadline(2027) == (
        date(2027, 3, 31)
    )
    with pytest.raises(InvalidInput):
        county.set_calendar(2027, date(2028, 1, 1))


def test_secretary_must_be_an_active_member_of_the_branch() -> None:
    branch = Branch.establish("b-1", township(), "红沙梁村党支部", BranchKind.VILLAGE, "红沙梁村")
    other = Branch.establish("b-2", township(), "孙指挥村党支部", BranchKind.VILLAGE, None)
    outsider = Member.enrol("m-2", other, "孙永福", "书记", "主持", True)
    with pytest.raises(InvalidInput):
        branch.appoint_secretary(outsider)
    insider = Member.enrol("m-1", branch, "张建国", "书记", "主持", True)
    branch.appoint_secretary(insider)
    assert branch.secretary_id == "m-1"


def test_moves_and_retirements_are_events_and_retired_records_refuse_changes() -> None:
    branch = Branch.establish("b-1", township(), "红沙梁村党支部", BranchKind.VILLAGE, None)
    branch.move_to(township("t-2"))
    assert isinstance(branch.pending[-1], BranchMoved)
    assert branch.partition == "t-2"  # later events belong to the new township
    with pytest.raises(InvalidInput):
        branch.move_to(township("t-9", county="elsewhere"))
    member = Member.enrol("m-1", branch, "张建国", "书记", "主持", True)
    target = Branch.establish("b-3", township("t-3"), "羊路村党支部", BranchKind.VILLAGE, None)
    member.transfer_to(target)
    assert isinstance(member.pending[-1], MemberTransferred)
    assert (member.branch_id, member.partition) == ("b-3", "t-3")
    member.retire("退休")
    with pytest.raises(InvalidState):
        member.assign_post("岗位", "职责", False)
    branch.retire("撤并")
    with pytest.raises(InvalidState):
        Member.enrol("m-5", branch, "新人", "岗位", "职责", False)
