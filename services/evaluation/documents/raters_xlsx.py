"""Rater lists as workbooks (issue 19): the template of a round's raters and of the people a
satisfaction check's item served, and their rows read into the commands' parts (the same
validation as one JSON request: phone, resident ID number, kind). Personal data is sealed
per person when registered (A7); a preview shows masked names only."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from services.evaluation.checks.commands import ServedPerson
from services.evaluation.rounds.commands import RaterEntry
from services.evaluation.rounds.events import RaterKind
from shared.workbook import Column, Row, RowError, Sheet, template

KIND_LABELS = {
    RaterKind.TOWNSHIP_MEMBER: "乡镇党员",
    RaterKind.CADRE: "干部",
    RaterKind.PUBLIC: "群众",
    RaterKind.LOWER_ORG_HEAD: "下级组织负责人",
    RaterKind.LINKED_VILLAGE_REP: "联系村代表",
    RaterKind.SERVED_PEOPLE_REP: "服务对象代表",
    RaterKind.BRANCH_MEMBER: "本支部党员",
    RaterKind.VILLAGE_CADRE: "村干部",
}
KINDS = {label: kind for kind, label in KIND_LABELS.items()}

NAME = Column("姓名", required=False, width=12, note="：群众须填姓名、手机号或身份证号之一")
PHONE = Column("手机号", required=False, width=16)
ID_NUMBER = Column("身份证号", required=False, width=22, note="：18 位，末位可为 X")
MEMBER = Column("党员编号", required=False, width=14, note="：党员评议人填写，其余留空")

ROUND_RATERS = Sheet(
    "评议人",
    (
        NAME,
        PHONE,
        ID_NUMBER,
        Column("类别", choices=tuple(KINDS), width=16),
        MEMBER,
        Column("单位编号", required=False, width=14, note="：统计参评率的单位，默认本轮组织者"),
    ),
    example=("王淑珍", "13800000000", "", "群众", "", ""),
)
SERVED = Sheet(
    "服务对象",
    (NAME, PHONE, ID_NUMBER, MEMBER),
    example=("王淑珍", "13800000000", "", ""),
)
INSTRUCTIONS = (
    "每行一位评议人。姓名、手机号、身份证号只以加密方式记入系统，可按规定删除（A7）。",
    "带红色表头的列必填；“类别”请从下拉列表中选择。",
    "请不要使用公式、合并单元格或隐藏工作表；也可另存为 CSV（UTF-8 或 GBK）后上传。",
    "上传后系统逐行检查并列出将登记的人数，确认后才写入；同一文件重复导入不会重复登记。",
)
COLUMNS = {"name": "姓名", "phone": "手机号", "id_number": "身份证号", "member_id": "党员编号"}
COLUMNS |= {"kind": "类别", "organisation_id": "单位编号"}
REASONS = {
    "value_error": "格式不正确",
    "string_pattern_mismatch": "编号格式不正确",
    "string_too_long": "内容过长",
}


def raters_template(served: bool) -> bytes:
    sheet = SERVED if served else ROUND_RATERS
    title = "服务对象名单（满意度测评）" if served else "评议人名单（群众评议）"
    return template(title=title, instructions=INSTRUCTIONS, sheets=[sheet])


def read_raters(
    rows: dict[str, list[Row]], served: bool
) -> tuple[list[tuple[int, Any]], list[RowError]]:
    """Each row as the command's part (RaterEntry / ServedPerson), with its row number; a
    row the command would refuse is an error (row, column, reason in Chinese)."""
    sheet = SERVED if served else ROUND_RATERS
    parts: list[tuple[int, Any]] = []
    errors: list[RowError] = []
    seen: dict[str, int] = {}
    for row in rows.get(sheet.name, []):
        v = row.values
        fields: dict[str, Any] = {
            "name": v["姓名"] or None,
            "phone": v["手机号"] or None,
            "id_number": v["身份证号"] or None,
            "member_id": v["党员编号"] or None,
        }
        if not served:
            fields["kind"] = KINDS.get(v["类别"], v["类别"])
            fields["organisation_id"] = v["单位编号"] or None
        if not any(fields[k] for k in ("name", "phone", "id_number", "member_id")):
            errors.append(
                RowError(sheet.name, row.number, "姓名", "须填写姓名、手机号、身份证号或党员编号")
            )
            continue
        try:
            part = (ServedPerson if served else RaterEntry).model_validate(fields)
        except ValidationError as invalid:
            for e in invalid.errors():
                column = COLUMNS.get(str(e["loc"][0]) if e["loc"] else "", "姓名")
                reason = (
                    "只能从下拉列表中选择"
                    if column == "类别"
                    else REASONS.get(e["type"], "格式不正确")
                )
                errors.append(RowError(sheet.name, row.number, column, reason))
            continue
        for key in (part.id_number, part.phone, part.member_id):
            if key and key in seen:
                errors.append(
                    RowError(sheet.name, row.number, "姓名", f"与第 {seen[key]} 行是同一人（重复）")
                )
                break
            if key:
                seen[key] = row.number
        else:
            parts.append((row.number, part))
    return parts, errors
