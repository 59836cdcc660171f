"""The ledger as an Excel workbook, the way township offices keep it today (P8)."""

from __future__ import annotations

import io
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

COLUMNS = [  # (header, key, width)
    ("镇 Township", "township", 14),
    ("支部 Branch", "branch", 18),
    ("承诺人 Pledger", "pledger_name", 12),
    ("类型 Kind", "pledger_kind", 8),
    ("事项 Item", "title", 30),
    ("类别 Category", "category", 16),
    ("目标 Target", "target", 30),
    ("时限 Due", "due_date", 12),
    ("进度 Progress %", "progress_percent", 10),
    ("状态 Status", "status", 10),
    ("未销号原因 Open because", "open_reasons", 32),
    ("销号 Closed", "closed_at", 18),
    ("编号 Item id", "item_id", 24),
]


def ledger_workbook(rows: list[dict[str, Any]], title: str) -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "台账 Ledger"
    sheet.append([title])
    sheet["A1"].font = Font(bold=True, size=14)
    sheet.append([header for header, _, _ in COLUMNS])
    for cell in sheet[2]:
        cell.font = Font(bold=True)
        cell.fill = PatternFill("solid", fgColor="DDEBF7")
    for row in rows:
        values = []
        for _, key, _ in COLUMNS:
            value = row[key]
            if key == "open_reasons":
                value = ", ".join(value)
            elif key == "closed_at" and value is not None:
                value = value.replace(tzinfo=None)
            values.append(value)
        sheet.append(values)
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
