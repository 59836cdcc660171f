"""The roster workbook (issue 19): a township's or the county's branches and members, the way
offices keep them in Excel. The template (with the current roster filled in, to edit and
import again) and the sheets' layout the import reads."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from services.pledge.events import BranchKind
from shared.workbook import Column, Sheet, prefilled, template

KINDS = {
    "村党支部": BranchKind.VILLAGE,
    "机关党支部": BranchKind.AGENCY,
    "学校党支部": BranchKind.SCHOOL,
}
KIND_NAMES = {kind: name for name, kind in KINDS.items()}
YES, NO = "是", "否"

BRANCHES = Sheet(
    "支部",
    (
        Column("支部编号", required=False, width=14, note="：已有支部的编号，新支部留空"),
        Column("乡镇", required=False, width=14, note="：全县名册必填；乡镇名册可留空"),
        Column("支部名称", width=24),
        Column("类型", choices=tuple(KINDS), width=14),
        Column("所在村", required=False, width=14),
        Column("支部书记", required=False, width=12, note="：须是本支部“党员”表中的一人"),
    ),
    example=("", "红沙梁镇", "红沙梁村党支部", "村党支部", "红沙梁村", "张建国"),
)
MEMBERS = Sheet(
    "党员",
    (
        Column("党员编号", required=False, width=14, note="：已有党员的编号，新党员留空"),
        Column("姓名", width=12),
        Column("所在支部", width=24, note="：与“支部”表中的支部名称一致"),
        Column("岗位", width=18),
        Column("职责", width=36),
        Column("班子成员", required=False, choices=(YES, NO), width=10, note="：留空即“否”"),
    ),
    example=("", "张建国", "红沙梁村党支部", "支部书记", "主持支部全面工作", YES),
)
SHEETS = (BRANCHES, MEMBERS)

INSTRUCTIONS = (
    "本表用于导入党组织名册：“支部”表每行一个党支部，“党员”表每行一名党员。",
    "带红色表头的列必填；“类型”“班子成员”请从下拉列表中选择。",
    "名册是完整的：导入后，表中没有的在册党员将登记为“离开”，表中没有的支部将撤销。",
    "已有的支部和党员请保留“编号”列（下载的模板已填好）；新支部、新党员的编号留空。",
    "没有编号时按姓名对应：同一名册中有同名党员的，请填写编号以免混淆。",
    "请不要使用公式、合并单元格或隐藏工作表；也可另存为 CSV（UTF-8 或 GBK）后上传，"
    "但 CSV 只能包含一张表，名册请上传 .xlsx。",
    "上传后系统会逐行检查并列出将要发生的变化（新增、调动、离开、书记变更），确认后才写入。",
)


def roster_template(
    title: str, branches: Sequence[dict[str, Any]], members: Sequence[dict[str, Any]]
) -> bytes:
    """The template with the current roster filled in (empty for a new township)."""
    names = {b["branch_id"]: b["name"] for b in branches}
    secretaries = {m["member_id"]: m["name"] for m in members}
    blank = template(title=title, instructions=INSTRUCTIONS, sheets=SHEETS)
    return prefilled(
        blank,
        {
            BRANCHES.name: [
                (
                    b["branch_id"],
                    b["township_name"],
                    b["name"],
                    KIND_NAMES[BranchKind(b["kind"])],
                    b["village"] or "",
                    secretaries.get(b["secretary_id"] or "", ""),
                )
                for b in branches
            ],
            MEMBERS.name: [
                (
                    m["member_id"],
                    m["name"],
                    names.get(m["branch_id"], ""),
                    m["post"],
                    m["duties"],
                    YES if m["leadership_team"] else NO,
                )
                for m in members
            ],
        },
    )
