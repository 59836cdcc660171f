"""Deadlines and cadences as data (N3, P6): the default calendar of a county's year.

Pure: a county administrator may replace any of it (per county and year); the scheduler only
reads what was set, or these defaults when nothing was.
"""

from __future__ import annotations

from datetime import date, timedelta

from services.notification.events import Deadline, DeadlineKind

TITLES: dict[DeadlineKind, str] = {
    DeadlineKind.DRAFTING: "公开承诺拟定",
    DeadlineKind.QUARTERLY_REVIEW: "季度点评",
    DeadlineKind.EVALUATION_ROUND: "群众评议",
    DeadlineKind.SELECTION: "评选表彰",
    DeadlineKind.MEMBER_RATING: "党员评星定级结果公示",
    DeadlineKind.BRANCH_RATING: "支部评星定级结果公示",
}


def _deadline(kind: DeadlineKind, period: str, due_on: date, days: int, title: str) -> Deadline:
    return Deadline(
        deadline_id=f"{kind.value}-{period}",
        kind=kind,
        title=title,
        due_on=due_on,
        remind_days_before=days,
        period=period,
    )


def _month_after(year: int, month: int, day: int) -> date:
    return date(year + month // 12, month % 12 + 1, day)


def default_deadlines(year: int, drafting_deadline: date | None = None) -> tuple[Deadline, ...]:
    """Drafting by March 15 (or the county's pledge calendar), quarterly reviews at each
    quarter's end, evaluation rounds on July 10 and January 5, selection around July 1,
    member ratings monthly and branch ratings every two months (N2)."""
    k = DeadlineKind
    found = [
        _deadline(
            k.DRAFTING, str(year), drafting_deadline or date(year, 3, 15), 7, "公开承诺拟定截止"
        ),
        _deadline(k.SELECTION, str(year), date(year, 7, 1), 10, f"{year}年度评选表彰"),
        _deadline(k.EVALUATION_ROUND, f"{year}H1", date(year, 7, 10), 10, "上半年群众评议"),
        _deadline(k.EVALUATION_ROUND, f"{year}H2", date(year + 1, 1, 5), 10, "下半年群众评议"),
    ]
    for quarter in range(1, 5):
        end = _month_after(year, quarter * 3, 1) - timedelta(days=1)
        found.append(
            _deadline(k.QUARTERLY_REVIEW, f"{year}Q{quarter}", end, 7, f"第{quarter}季度点评")
        )
    for month in range(1, 13):
        found.append(
            _deadline(
                k.MEMBER_RATING,
                f"{year}-{month:02d}",
                _month_after(year, month, 5),
                3,
                f"{month}月党员评星结果公示",
            )
        )
    for pair in range(1, 7):
        found.append(
            _deadline(
                k.BRANCH_RATING,
                f"{year}-B{pair}",
                _month_after(year, pair * 2, 10),
                3,
                f"第{pair}期(双月)支部评星结果公示",
            )
        )
    return tuple(sorted(found, key=lambda d: (d.due_on, d.deadline_id)))


def phase(deadline: Deadline, today: date) -> str | None:
    """'reminder' in the reminding window, 'overdue' after the due date, else None."""
    if today > deadline.due_on:
        return "overdue"
    if today >= deadline.due_on - timedelta(days=deadline.remind_days_before):
        return "reminder"
    return None
