"""Deadlines and cadences as data (N3, P6): the default calendar of a county's year, and
the Calendar aggregate that keeps the one a county set.

Pure: a county administrator may replace any of it (per county and year); the scheduler only
reads what was set, or these defaults when nothing was. Two kinds of deadline belong to other
services, and their dates are always theirs: the drafting deadline is the pledge service's
(P6, `PledgeCalendarSet`) and the evaluation rounds' closing dates are the evaluation
service's (E4, `EvaluationCalendarSet`). This service keeps no second copy of those dates:
they come from the owners' events (or the owners' defaults), whatever calendar was set here.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, timedelta

from services.notification.events import CalendarSet, Deadline, DeadlineKind
from shared import zh
from shared.aggregate import Aggregate
from shared.errors import InvalidInput, InvalidState
from shared.events import DomainEvent

TITLES: dict[DeadlineKind, str] = {
    DeadlineKind.DRAFTING: "公开承诺拟定",
    DeadlineKind.PUBLICATION: "公开承诺亮诺",
    DeadlineKind.QUARTERLY_REVIEW: "季度点评",
    DeadlineKind.EVALUATION_ROUND: "群众评议",
    DeadlineKind.SELECTION: "评选表彰",
    DeadlineKind.MEMBER_RATING: "党员评星定级结果公示",
    DeadlineKind.BRANCH_RATING: "支部评星定级结果公示",
    DeadlineKind.QUARTERLY_PUSH: "承诺季度推进",
    DeadlineKind.JOURNAL_MEETING: "党员纪实月度讲评",
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


# whose date each deadline that is not this service's is, and where it is set
OWNERS: dict[DeadlineKind, str] = {
    DeadlineKind.DRAFTING: "全县的承诺日历（定诺截止日期）",
    DeadlineKind.PUBLICATION: "全县的承诺日历（公开截止日期）",
    DeadlineKind.EVALUATION_ROUND: "全县的评议日历",
}


def owned_dates(
    year: int,
    drafting: date | None = None,
    rounds: tuple[date, date] | None = None,
    publication: date | None = None,
) -> dict[str, date]:
    """The dates other services own, by deadline id: as the county set them there, else
    those services' defaults (P6: March 15; P7: sixteen days after drafting, March 31; E4:
    July 10 and January 5 of the next year)."""
    first, second = rounds or (date(year, 7, 10), date(year + 1, 1, 5))
    drafted_by = drafting or date(year, 3, 15)
    return {
        f"{DeadlineKind.DRAFTING.value}-{year}": drafted_by,
        f"{DeadlineKind.PUBLICATION.value}-{year}": publication or drafted_by + timedelta(days=16),
        f"{DeadlineKind.EVALUATION_ROUND.value}-{year}H1": first,
        f"{DeadlineKind.EVALUATION_ROUND.value}-{year}H2": second,
    }


def follow_owners(
    deadlines: tuple[Deadline, ...], owned: Mapping[str, date]
) -> tuple[Deadline, ...]:
    """The calendar with the other services' deadlines on their owners' dates."""
    moved = [
        d.model_copy(update={"due_on": owned[d.deadline_id]}) if d.deadline_id in owned else d
        for d in deadlines
    ]
    return tuple(sorted(moved, key=lambda d: (d.due_on, d.deadline_id)))


def check_owned(deadlines: tuple[Deadline, ...], owned: Mapping[str, date]) -> None:
    """A calendar set here may tune another service's deadline (its title, how early to
    remind) but not move it: its date is set where it is kept (InvalidInput otherwise)."""
    for index, d in enumerate(deadlines):
        expected = owned.get(d.deadline_id)
        if d.kind in OWNERS and expected != d.due_on:
            what = f"的日期应为 {zh.day(expected)}" if expected else "不属于本年度"
            raise InvalidInput(
                f"{d.deadline_id}{what}：它的日期在{OWNERS[d.kind]}中设置，请到那里修改。",
                field=f"deadlines.{index}.due_on",
            )


def default_deadlines(
    year: int,
    drafting_deadline: date | None = None,
    rounds: tuple[date, date] | None = None,
    publication_deadline: date | None = None,
) -> tuple[Deadline, ...]:
    """Drafting by March 15 and publication by March 31 (or the county's pledge calendar),
    each quarter's push of every published pledge (P11) and each month's journal meeting (R6)
    by the period's end, quarterly reviews at each
    quarter's end, evaluation rounds on July 10 and January 5 (or the evaluation service's
    calendar), selection around July 1, member ratings monthly and branch ratings every two
    months (N2)."""
    k = DeadlineKind
    owned = owned_dates(year, drafting_deadline, rounds, publication_deadline)
    found = [
        _deadline(k.DRAFTING, str(year), owned[f"drafting-{year}"], 7, f"{year}年公开承诺拟定"),
        _deadline(
            k.PUBLICATION,
            str(year),
            owned[f"publication-{year}"],
            7,
            f"{year}年已审定承诺公开（亮诺）",
        ),
        _deadline(k.SELECTION, str(year), date(year, 7, 1), 10, f"{year}年度评选表彰"),
        _deadline(
            k.EVALUATION_ROUND,
            f"{year}H1",
            owned[f"evaluation_round-{year}H1"],
            10,
            f"{year}年上半年群众评议",
        ),
        _deadline(
            k.EVALUATION_ROUND,
            f"{year}H2",
            owned[f"evaluation_round-{year}H2"],
            10,
            f"{year}年下半年群众评议",
        ),
    ]
    for quarter in range(1, 5):
        end = _month_after(year, quarter * 3, 1) - timedelta(days=1)
        found.append(
            _deadline(
                k.QUARTERLY_REVIEW,
                f"{year}Q{quarter}",
                end,
                7,
                f"{zh.period(f'{year}Q{quarter}')}点评",
            )
        )
    for quarter in range(1, 5):
        end = _month_after(year, quarter * 3, 1) - timedelta(days=1)
        found.append(
            _deadline(
                k.QUARTERLY_PUSH,
                f"{year}Q{quarter}",
                end,
                7,
                f"{zh.period(f'{year}Q{quarter}')}公开承诺推进",
            )
        )
    for month in range(1, 13):
        end = _month_after(year, month, 1) - timedelta(days=1)
        found.append(
            _deadline(
                k.JOURNAL_MEETING,
                f"{year}-{month:02d}",
                end,
                5,
                f"{zh.period(f'{year}-{month:02d}')}党员纪实讲评",
            )
        )
    for month in range(1, 13):
        found.append(
            _deadline(
                k.MEMBER_RATING,
                f"{year}-{month:02d}",
                _month_after(year, month, 5),
                3,
                f"{zh.period(f'{year}-{month:02d}')}党员评星结果公示",
            )
        )
    for pair in range(1, 7):
        found.append(
            _deadline(
                k.BRANCH_RATING,
                f"{year}-B{pair}",
                _month_after(year, pair * 2, 10),
                3,
                f"{zh.period(f'{year}-B{pair}')}支部评星结果公示",
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


class Calendar(Aggregate):
    def blank(self) -> None:
        self.deadlines: tuple[Deadline, ...] = ()

    def set(
        self,
        county_id: str,
        year: int,
        deadlines: tuple[Deadline, ...],
        owned: Mapping[str, date],
    ) -> None:
        """`owned`: the dates of the deadlines other services keep (owned_dates)."""
        ids = [d.deadline_id for d in deadlines]
        if len(set(ids)) != len(ids):
            raise InvalidState("各截止事项的编号不能重复：请修改重复的编号。")
        check_owned(deadlines, owned)
        self._record(CalendarSet(county_id=county_id, year=year, deadlines=deadlines))

    def apply(self, event: DomainEvent) -> None:
        match event:
            case CalendarSet():
                self.deadlines = event.deadlines
