"""Excel workbooks, the way township offices keep their ledgers today: a title row, a bold
header row, one row per record, wrapped text, frozen headers and a filter."""

from __future__ import annotations

import io
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter


def workbook(
    *,
    sheet: str,
    title: str,
    columns: Sequence[tuple[str, int]],
    rows: Sequence[Sequence[Any]],
) -> bytes:
    """`columns` are (header, width); each row holds one value per column."""
    book = Workbook()
    page = book.active
    assert page is not None
    page.title = sheet
    page.append([title])
    page["A1"].font = Font(bold=True, size=14)
    page.append([header for header, _ in columns])
    for cell in page[2]:
        cell.font = Font(bold=True)
        cell.fill = PatternFill("solid", fgColor="DDEBF7")
    for row in rows:
        page.append([_excel(value) for value in row])
    for index, (_, width) in enumerate(columns, start=1):
        page.column_dimensions[get_column_letter(index)].width = width
    for line in page.iter_rows(min_row=3):
        for cell in line:
            cell.alignment = Alignment(wrap_text=True, vertical="top")
    page.freeze_panes = "A3"
    page.auto_filter.ref = f"A2:{get_column_letter(len(columns))}{len(rows) + 2}"
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _excel(value: Any) -> Any:
    if isinstance(value, datetime):  # Excel has no time zones: local wall-clock time
        return value.replace(tzinfo=None)
    return value
