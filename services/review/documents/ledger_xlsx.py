"""The review ledger as an Excel workbook, the way township offices keep it today (R4):
headers and cells in Chinese (shared/zh.py), ids as they are."""

from __future__ import annotations

from typing import Any

from shared import zh
from shared.workbook import workbook

COLUMNS = [  # (header, key, width)
    ("季度", "quarter", 14),
    ("日期", "held_on", 14),
    ("点评对象", "subject_name", 18),
    ("类型", "subject_kind", 8),
    ("点评人", "reviewer_name", 14),
    ("场合", "occasion", 20),
    ("肯定成绩", "achievements", 36),
    ("指出不足", "shortcomings", 36),
    ("努力方向", "direction", 36),
    ("各项评价", "assessments", 44),
    ("承诺践诺", "pledge_status", 22),
    ("更正", "corrects_review_id", 16),
    ("编号", "review_id", 18),
]


def _cell(key: str, value: Any) -> Any:
    if key == "assessments":
        return "\n".join(
            f"{zh.label(a['dimension'])}：{zh.label(a['grade'])} — {a['comment']}" for a in value
        )
    if key == "pledge_status":
        if not value["pledge_id"]:
            return "无"
        closed, total = value["items_closed"], value["items_total"]
        return f"{zh.label(value['status'])}（已销号 {closed}/{total} 项）"
    if key == "quarter":
        return zh.period(value) if value else value
    if key == "held_on":
        return zh.day(value)
    if key in ("subject_kind", "occasion"):
        return zh.label(value)
    return value


def review_workbook(rows: list[dict[str, Any]], title: str) -> bytes:
    return workbook(
        sheet="点评台账",
        title=title,
        columns=[(header, width) for header, _, width in COLUMNS],
        rows=[[_cell(key, row[key]) for _, key, _ in COLUMNS] for row in rows],
    )
