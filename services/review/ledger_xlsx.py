"""The review ledger as an Excel workbook, the way township offices keep it today (R4)."""

from __future__ import annotations

import io
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

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
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "点评台账 Reviews"
    sheet.append([title])
    sheet["A1"].font = Font(bold=True, size=14)
    sheet.append([header for header, _, _ in COLUMNS])
    for cell in sheet[2]:
        cell.font = Font(bold=True)
        cell.fill = PatternFill("solid", fgColor="DDEBF7")
    for row in rows:
        sheet.append([_cell(key, row[key]) for _, key, _ in COLUMNS])
    for index, (_, _, width) in enumerate(COLUMNS, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width
    for line in sheet.iter_rows(min_row=3):
        for cell in line:
            cell.alignment = Alignment(wrap_text=True, vertical="top")
    sheet.freeze_panes = "A3"
    sheet.auto_filter.ref = f"A2:{get_column_letter(len(COLUMNS))}{len(rows) + 2}"
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
