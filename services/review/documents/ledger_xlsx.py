"""The review ledger as an Excel workbook, the way township offices keep it today (R4)."""

from __future__ import annotations

from typing import Any

from shared.workbook import workbook

COLUMNS = [  # (header, key, width)
    ("季度 Quarter", "quarter", 10),
    ("日期 Held on", "held_on", 12),
    ("点评对象 Subject", "subject_name", 18),
    ("类型 Kind", "subject_kind", 8),
    ("点评人 Reviewer", "reviewer_name", 14),
    ("场合 Occasion", "occasion", 20),
    ("肯定成绩 Achievements", "achievements", 36),
    ("指出不足 Shortcomings", "shortcomings", 36),
    ("努力方向 Direction", "direction", 36),
    ("各项评价 Dimensions", "assessments", 44),
    ("承诺践诺 Pledge status", "pledge_status", 22),
    ("更正 Corrects", "corrects_review_id", 16),
    ("编号 Review id", "review_id", 18),
]


def _cell(key: str, value: Any) -> Any:
    if key == "assessments":
        return "\n".join(f"{a['dimension']}: {a['grade']} — {a['comment']}" for a in value)
    if key == "pledge_status":
        return (
            f"{value['status']} ({value['items_closed']}/{value['items_total']} closed)"
            if value["pledge_id"]
            else "none"
        )
    return value


def review_workbook(rows: list[dict[str, Any]], title: str) -> bytes:
    return workbook(
        sheet="点评台账 Reviews",
        title=title,
        columns=[(header, width) for header, _, width in COLUMNS],
        rows=[[_cell(key, row[key]) for _, key, _ in COLUMNS] for row in rows],
    )
