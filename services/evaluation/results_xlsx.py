"""A round's results as an Excel workbook, the way township offices file them (E5)."""

from __future__ import annotations

import io
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Font, PatternFill
from openpyxl.utils import get_column_letter


def results_workbook(title: str, grades: list[dict[str, Any]], rows: list[dict[str, Any]]) -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "测评结果 Results"
    sheet.append([title])
    sheet["A1"].font = Font(bold=True, size=14)
    headers = ["对象 Subject", "类型 Kind", "编号 Id"]
    headers += [f"{g['label']} {g['grade']}" for g in grades]
    headers += ["满意率 Satisfaction rate", "得分 Score"]
    sheet.append(headers)
    for cell in sheet[2]:
        cell.font = Font(bold=True)
        cell.fill = PatternFill("solid", fgColor="DDEBF7")
    for row in rows:
        sheet.append(
            [row["subject_name"], row["subject_kind"], row["subject_id"]]
            + [row["counts"].get(g["grade"], 0) for g in grades]
            + [row["satisfaction_rate"], row["score"]]
        )
    for index in range(1, len(headers) + 1):
        sheet.column_dimensions[get_column_letter(index)].width = 18
    sheet.freeze_panes = "A3"
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
