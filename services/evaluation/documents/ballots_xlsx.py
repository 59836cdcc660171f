"""A stack of paper ballots as a workbook (issue 19, E3a): the sign-in sheet (the round's
registered raters, each marked whether they handed a ballot in) and the ballots (one row
per ballot, one column per subject, the grade from the scale's drop-down). Made for one
round: its subjects, its scale, its raters."""

from __future__ import annotations

from typing import Any

from services.evaluation.rounds.aggregates import Round
from shared.workbook import Column, Row, RowError, Sheet, prefilled, template

SIGNED, NOT_SIGNED = "是", "否"
INSTRUCTIONS = (
    "一叠纸质选票（或现场评议票）连同签到表一并录入：",
    "“签到表”列出本轮登记的评议人，交了选票的填“是”；“选票”表每行一张选票，每列一个评议对象，"
    "从下拉列表中选择评价等次。",
    "签到为“是”的人数须与选票张数相同；选票录入后与签到表分开、随机排列，无法对应到个人。",
    "请不要使用公式、合并单元格或隐藏工作表。上传后系统逐行检查，确认后才写入。",
)


def subject_headers(round_: Round) -> dict[str, str]:
    """Each subject's column header (its name; with its id when two share a name)."""
    names = [s.subject_name for s in round_.subjects.values()]
    return {
        sid: s.subject_name if names.count(s.subject_name) == 1 else f"{s.subject_name}（{sid}）"
        for sid, s in round_.subjects.items()
    }


def sheets(round_: Round) -> tuple[Sheet, Sheet]:
    labels = tuple(g.label for g in round_.the_scale.grades)
    sign_in = Sheet(
        "签到表",
        (
            Column("评议人编号", width=16),
            Column("类别", required=False, width=16),
            Column("已交票", choices=(SIGNED, NOT_SIGNED), width=10),
        ),
    )
    ballots = Sheet(
        "选票",
        tuple(Column(h, choices=labels, width=18) for h in subject_headers(round_).values()),
    )
    return sign_in, ballots


def ballots_template(round_: Round) -> bytes:
    sign_in, ballots = sheets(round_)
    blank = template(
        title=f"纸质选票录入：{round_.title}", instructions=INSTRUCTIONS, sheets=[sign_in, ballots]
    )
    raters = [
        (rater_id, str(r.kind), NOT_SIGNED)
        for rater_id, r in sorted(round_.raters.items())
        if not r.voted_on
    ]
    return prefilled(blank, {sign_in.name: raters})


def read_stack(round_: Round, rows: dict[str, list[Row]]) -> tuple[list[Any], list[RowError]]:
    """The stack as [(participants, ballots)] (one part), or the rows' errors."""
    sign_in, ballots = sheets(round_)
    errors: list[RowError] = []
    participants: list[str] = []
    for row in rows.get(sign_in.name, []):
        rater_id = row.values["评议人编号"]
        if row.values["已交票"] != SIGNED:
            continue
        if rater_id not in round_.raters:
            errors.append(RowError(sign_in.name, row.number, "评议人编号", "不是本轮登记的评议人"))
        elif round_.raters[rater_id].voted_on:
            errors.append(RowError(sign_in.name, row.number, "评议人编号", "该评议人已经参评"))
        elif rater_id in participants:
            errors.append(RowError(sign_in.name, row.number, "评议人编号", "重复签到"))
        else:
            participants.append(rater_id)
    grade_of = {g.label: g.grade for g in round_.the_scale.grades}
    headers = subject_headers(round_)
    stack: list[dict[str, str]] = []
    for row in rows.get(ballots.name, []):
        ballot = {}
        for subject_id, header in headers.items():
            value = row.values[header]
            if value not in grade_of:
                reason = "必填项为空" if not value else "只能从下拉列表中选择"
                errors.append(RowError(ballots.name, row.number, header, reason))
            else:
                ballot[subject_id] = grade_of[value]
        stack.append(ballot)
    if not errors and len(participants) != len(stack):
        errors.append(
            RowError(
                ballots.name,
                0,
                "选票",
                f"签到“是”的有 {len(participants)} 人，选票有 {len(stack)} 张：数量须相同",
            )
        )
    if not errors and not stack:
        errors.append(RowError(ballots.name, 0, "选票", "没有选票"))
    return ([(participants, stack)] if not errors else []), errors
