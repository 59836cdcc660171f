"""A round's results as an Excel workbook, the way township offices file them (E5)."""

from __future__ import annotations

from typing import Any

from shared.workbook import workbook


def results_workbook(title: str, grades: list[dict[str, Any]], rows: list[dict[str, Any]]) -> bytes:
    headers = ["对象 Subject", "类型 Kind", "编号 Id"]
    headers += [f"{g['label']} {g['grade']}" for g in grades]
    headers += ["满意率 Satisfaction rate", "得分 Score"]
    return workbook(
        sheet="测评结果 Results",
        title=title,
        columns=[(header, 18) for header in headers],
        rows=[
            [row["subject_name"], row["subject_kind"], row["subject_id"]]
            + [row["counts"].get(g["grade"], 0) for g in grades]
            + [row["satisfaction_rate"], row["score"]]
            for row in rows
        ],
    )
