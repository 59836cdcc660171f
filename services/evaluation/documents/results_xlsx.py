"""A round's results as an Excel workbook, the way township offices file them (E5): headers
and cells in Chinese (shared/zh.py), ids as they are."""

from __future__ import annotations

from typing import Any

from shared import zh
from shared.workbook import workbook


def results_workbook(title: str, grades: list[dict[str, Any]], rows: list[dict[str, Any]]) -> bytes:
    headers = ["评议对象", "类型", "编号"]
    headers += [zh.simplified(g["label"]) for g in grades]
    headers += ["满意率", "得分"]
    return workbook(
        sheet="测评结果",
        title=title,
        columns=[(header, 18) for header in headers],
        rows=[
            [row["subject_name"], zh.label(row["subject_kind"]), row["subject_id"]]
            + [row["counts"].get(g["grade"], 0) for g in grades]
            + [zh.percent(row["satisfaction_rate"]), row["score"]]
            for row in rows
        ],
    )
