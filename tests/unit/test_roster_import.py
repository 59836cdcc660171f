"""A roster import planned (services/pledge/aggregates/roster.py): the rows against the
directory as it stands, as the directory's own events; every bad row named, and then no
event at all."""

from __future__ import annotations

from services.pledge.aggregates.roster import KnownBranch, KnownMember, Scope, plan_roster
from services.pledge.documents.roster_xlsx import BRANCHES, MEMBERS
from shared.workbook import Row

TOWN = "t-1"


def branch_row(number: int, name: str, secretary: str = "", **more: str) -> Row:
    values = {"支部编号": "", "乡镇": "", "支部名称": name, "类型": "村党支部", "所在村": ""}
    return Row(BRANCHES.name, number, {**values, "支部书记": secretary, **more})


def member_row(number: int, name: str, branch: str, post: str = "党员", **more: str) -> Row:
    values = {"党员编号": "", "姓名": name, "所在支部": branch, "岗位": post}
    values["职责"] = "参加组织生活"
    return Row(MEMBERS.name, number, {**values, "班子成员": "", **more})


def scope(branches: tuple[KnownBranch, ...] = (), members: tuple[KnownMember, ...] = ()) -> Scope:
    return Scope("township", TOWN, {TOWN: "红沙梁镇"}, branches, members)


RED = KnownBranch("b-1", TOWN, "红沙梁村党支部", "village", "红沙梁村", "m-1")
SHEEP = KnownBranch("b-2", TOWN, "羊路村党支部", "village", None, None)


def known(member_id: str, name: str, branch_id: str = "b-1", post: str = "党员") -> KnownMember:
    return KnownMember(member_id, branch_id, TOWN, name, post, "参加组织生活", False)


def test_a_new_township_is_established_branches_members_and_secretaries() -> None:
    plan = plan_roster(
        scope(),
        {
            BRANCHES.name: [branch_row(2, "红沙梁村党支部", secretary="张建国")],
            MEMBERS.name: [
                member_row(2, "张建国", "红沙梁村党支部", "支部书记", 班子成员="是"),
                member_row(3, "李秀英", "红沙梁村党支部"),
            ],
        },
    )
    assert plan.errors == []
    assert [c.event for c in plan.changes] == [
        "BranchEstablished",
        "MemberEnrolled",
        "MemberEnrolled",
        "BranchSecretaryAppointed",
    ]
    assert plan.changes[1].data["leadership_team"] is True
    assert plan.changes[3].member == "row:2"
    assert plan.preview()["summary"]["members_new"] == 2


def test_a_re_import_says_who_is_new_moved_left_and_which_secretary_changes() -> None:
    state = scope(
        (RED, SHEEP),
        (known("m-1", "张建国"), known("m-2", "李秀英"), known("m-3", "王强")),
    )
    plan = plan_roster(
        state,
        {
            BRANCHES.name: [
                branch_row(2, "红沙梁村党支部", secretary="李秀英", 支部编号="b-1"),
                branch_row(3, "羊路村党支部"),
            ],
            MEMBERS.name: [
                member_row(2, "张建国", "羊路村党支部", 党员编号="m-1"),  # moved
                member_row(3, "李秀英", "红沙梁村党支部", "支部书记"),  # new post
                member_row(4, "赵敏", "羊路村党支部"),  # new
            ],  # 王强 left
        },
    )
    assert plan.errors == []
    assert [(c.event, c.member) for c in plan.changes] == [
        ("MemberTransferred", "m-1"),
        ("MemberPostAssigned", "m-2"),
        ("MemberEnrolled", "row:4"),
        ("BranchSecretaryAppointed", "m-2"),
        ("MemberRetired", "m-3"),
    ]
    assert "王强" in plan.changes[-1].text


def test_the_same_roster_again_plans_nothing() -> None:
    state = scope((RED,), (known("m-1", "张建国"),))
    rows = {
        BRANCHES.name: [branch_row(2, "红沙梁村党支部", secretary="张建国")],
        MEMBERS.name: [member_row(2, "张建国", "红沙梁村党支部")],
    }
    plan = plan_roster(state, rows)
    assert (plan.errors, plan.changes) == ([], [])


def test_any_bad_row_is_named_and_nothing_is_planned() -> None:
    state = scope((RED,), (known("m-1", "张建国"), known("m-9", "张建国", "b-1")))
    plan = plan_roster(
        state,
        {
            BRANCHES.name: [
                branch_row(2, "红沙梁村党支部", secretary="不存在的人"),
                branch_row(3, "红沙梁村党支部"),
                branch_row(4, "新村党支部", 类型="合作社"),
            ],
            MEMBERS.name: [
                member_row(2, "张建国", "红沙梁村党支部"),  # two of that name: an id is needed
                member_row(3, "李四", "没有的支部"),
                member_row(4, "王五", "红沙梁村党支部", 党员编号="m-404"),
                member_row(5, "赵六", "红沙梁村党支部", 岗位=""),
            ],
        },
    )
    assert plan.changes == []
    assert [(e.sheet, e.row, e.column) for e in plan.errors] == [
        ("支部", 2, "支部书记"),
        ("支部", 3, "支部名称"),
        ("支部", 4, "类型"),
        ("党员", 2, "党员编号"),
        ("党员", 3, "所在支部"),
        ("党员", 4, "党员编号"),
        ("党员", 5, "岗位"),
    ]
    assert all(e.reason for e in plan.errors)


def test_a_township_roster_cannot_move_a_branch_to_another_township() -> None:
    county = Scope("county", "minqin", {TOWN: "红沙梁镇", "t-2": "苏武镇"}, (RED,), ())
    rows = {BRANCHES.name: [branch_row(2, "红沙梁村党支部", 乡镇="苏武镇", 支部编号="b-1")]}
    assert [c.event for c in plan_roster(county, rows).changes] == ["BranchMoved"]
    town = Scope("township", TOWN, {TOWN: "红沙梁镇"}, (RED,), ())
    assert plan_roster(town, rows).errors[0].column == "乡镇"


def test_the_basis_changes_with_the_directory() -> None:
    assert scope((RED,)).basis() == scope((RED,)).basis()
    assert scope((RED,)).basis() != scope((RED, SHEEP)).basis()


def test_a_csv_of_members_only_leaves_the_branches_as_they_are() -> None:
    plan = plan_roster(
        scope((RED, SHEEP), (known("m-1", "张建国"),)),
        {MEMBERS.name: [member_row(2, "张建国", "羊路村党支部")]},
    )
    assert [(c.event, c.branch) for c in plan.changes] == [("MemberTransferred", "b-2")]
