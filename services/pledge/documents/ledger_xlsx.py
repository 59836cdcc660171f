"""The ledger as an Excel workbook, the way township offices keep it today (P8)."""

from __future__ import annotations

from typing import Any

from shared.workbook import workbook

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
    return workbook(
        sheet="台账 Ledger",
        title=title,
        columns=[(header, width) for header, _, width in COLUMNS],
        rows=[[_cell(key, row[key]) for _, key, _ in COLUMNS] for row in rows],
    )


def _cell(key: str, value: Any) -> Any:
    return ", ".join(value) if key == "open_reasons" else value
