"""Periodic ratings as workbooks (issue 19, E6): a branch's monthly ratings of its members, a
township's bimonthly ratings of its branches. The template lists who is rated (ids kept),
each with a grade from a drop-down and a score."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pydantic import ValidationError

from services.evaluation.ratings.commands import RatedEntry
from shared.workbook import Column, Row, RowError, Sheet, check_rows, prefilled, template

GRADES = {
    "优秀": "excellent",
    "合格": "qualified",
    "基本合格": "basically_qualified",
    "不合格": "unqualified",
}
SHEET = Sheet(
    "评定结果",
    (
        Column("编号", width=16, note="：下载的模板已填好，请勿修改"),
        Column("姓名或名称", required=False, width=24),
        Column("等次", choices=tuple(GRADES), width=12),
        Column("得分", width=10, note="：0 到 100"),
    ),
    example=("m-1a2b3c4d", "张建国", "优秀", "95"),
)
INSTRUCTIONS = (
    "每行一位被评定的党员（或一个党支部）：选择等次，填写得分（0 到 100）。",
    "请不要增删“编号”；请不要使用公式、合并单元格或隐藏工作表。",
    "上传后系统逐行检查，确认后才发布；同一期的评定只能发布一次。",
)


def ratings_template(title: str, subjects: Sequence[tuple[str, str]]) -> bytes:
    blank = template(title=title, instructions=INSTRUCTIONS, sheets=[SHEET])
    return prefilled(blank, {SHEET.name: [(sid, name, "", "") for sid, name in subjects]})


def read_ratings(rows: dict[str, list[Row]]) -> tuple[list[tuple[int, Any]], list[RowError]]:
    """Each row as the command's RatedEntry, with its row number; or its errors."""
    lines = rows.get(SHEET.name, [])
    errors = check_rows(SHEET, lines)
    bad = {e.row for e in errors}
    parts: list[tuple[int, Any]] = []
    seen: dict[str, int] = {}
    for row in lines:
        if row.number in bad:
            continue
        v = row.values
        try:
            score = float(v["得分"])
        except ValueError:
            errors.append(RowError(SHEET.name, row.number, "得分", "须是 0 到 100 的数"))
            continue
        if v["编号"] in seen:
            errors.append(
                RowError(SHEET.name, row.number, "编号", f"与第 {seen[v['编号']]} 行重复")
            )
            continue
        seen[v["编号"]] = row.number
        try:
            entry = RatedEntry(subject_id=v["编号"], grade=GRADES[v["等次"]], score=score)
        except ValidationError as invalid:
            for e in invalid.errors():
                column = {"subject_id": "编号", "score": "得分"}.get(str(e["loc"][0]), "等次")
                reason = "须是 0 到 100 的数" if column == "得分" else "格式不正确"
                errors.append(RowError(SHEET.name, row.number, column, reason))
            continue
        parts.append((row.number, entry))
    if not errors and not parts:
        errors.append(RowError(SHEET.name, 0, "文件", "没有评定结果"))
    return parts, errors
