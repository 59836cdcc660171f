"""The ledger as an Excel workbook, the way township offices keep it today (P8): headers and
cells in Chinese (shared/zh.py: 未销号, 党员, 群众不满意, 2027年3月15日), ids as they are."""

from __future__ import annotations

from datetime import tzinfo
from typing import Any

from shared import zh
from shared.workbook import workbook

COLUMNS = [  # (header, key, width)
    ("乡镇", "township", 14),
    ("党支部", "branch", 18),
    ("承诺人", "pledger_name", 12),
    ("类型", "pledger_kind", 8),
    ("承诺事项", "title", 30),
    ("类别", "category", 16),
    ("目标", "target", 30),
    ("时限", "due_date", 14),
    ("进度（%）", "progress_percent", 10),
    ("状态", "status", 10),
    ("未销号原因", "open_reasons", 32),
    ("定诺", "drafted_late", 10),
    ("销号时间", "closed_at", 18),
    ("事项编号", "item_id", 24),
]


def ledger_workbook(rows: list[dict[str, Any]], title: str, tz: tzinfo | None = None) -> bytes:
    return workbook(
        sheet="承诺台账",
        title=title,
        columns=[(header, width) for header, _, width in COLUMNS],
        rows=[[_cell(key, row[key], tz) for _, key, _ in COLUMNS] for row in rows],
    )


def _cell(key: str, value: Any, tz: tzinfo | None) -> Any:
    if key == "open_reasons":
        return zh.labels(value)
    if key == "drafted_late":
        return "逾期完成" if value else "按时完成"
    if key in ("pledger_kind", "status"):
        return zh.label(value)
    if key in ("due_date", "closed_at"):
        return zh.day(value, tz)
    return value
