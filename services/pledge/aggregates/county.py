"""The county (D1): its pledge calendar (P6) and its categories per branch kind (P2)."""

from __future__ import annotations

from datetime import date, timedelta

from services.pledge.events import (
    BranchKind,
    CategoriesConfigured,
    CountyEstablished,
    PledgeCalendarSet,
)
from shared import zh
from shared.aggregate import Aggregate
from shared.errors import InvalidInput
from shared.events import DomainEvent

# P2: the seed's categories per branch kind, used until a county configures its own.
DEFAULT_CATEGORIES: dict[BranchKind, tuple[str, ...]] = {
    BranchKind.VILLAGE: (
        "流域重点治理",
        "县委政府大力实施计划",
        "治沙造林",
        "水权管理",
        "现代畜牧业养殖",
        "四笔账",
        "节水增收先锋",
    ),
    BranchKind.AGENCY: ("提高服务质量", "提升机关效能", "改进服务作风", "推动工作落实"),
    BranchKind.SCHOOL: ("岗位先锋", "窗口形象"),
}


def default_drafting_deadline(year: int) -> date:
    return date(year, 3, 15)  # P6: 定诺工作于3月15日前完成


def default_publication_deadline(drafting_deadline: date) -> date:
    """P7: every approved pledge published within sixteen days of the drafting deadline (by
    March 31), unless the county sets its own date."""
    return drafting_deadline + timedelta(days=16)


class County(Aggregate):
    def blank(self) -> None:
        self.county_id = ""
        self.name = ""
        self.deadlines: dict[int, date] = {}
        self.categories: dict[BranchKind, tuple[str, ...]] = dict(DEFAULT_CATEGORIES)

    @classmethod
    def establish(cls, county_id: str, name: str) -> County:
        county = cls(f"county-{county_id}", county_id)
        county._record(CountyEstablished(county_id=county_id, name=name))
        return county

    def set_calendar(
        self, year: int, drafting_deadline: date, publication_deadline: date | None = None
    ) -> None:
        if drafting_deadline.year != year:
            raise InvalidInput(
                f"定诺截止日期须在承诺年度内：请填写{year}年内的日期。",
                field="drafting_deadline",
            )
        if publication_deadline is not None and not (
            drafting_deadline <= publication_deadline and publication_deadline.year == year
        ):
            raise InvalidInput(
                f"请填写{year}年内、且不早于定诺截止日期（{zh.day(drafting_deadline)}）的公开截止日期。",
                field="publication_deadline",
            )
        self._record(
            PledgeCalendarSet(
                county_id=self.county_id,
                year=year,
                drafting_deadline=drafting_deadline,
                publication_deadline=publication_deadline,
            )
        )

    def configure_categories(self, kind: BranchKind, categories: tuple[str, ...]) -> None:
        if not categories or len(set(categories)) != len(categories):
            raise InvalidInput("请至少填写一个承诺类别，且每个类别只写一次。", field="categories")
        self._record(
            CategoriesConfigured(county_id=self.county_id, kind=kind, categories=categories)
        )

    def drafting_deadline(self, year: int) -> date:
        return self.deadlines.get(year, default_drafting_deadline(year))

    def apply(self, event: DomainEvent) -> None:
        match event:
            case CountyEstablished():
                self.county_id, self.name = event.county_id, event.name
            case PledgeCalendarSet():
                self.deadlines[event.year] = event.drafting_deadline
            case CategoriesConfigured():
                self.categories[event.kind] = event.categories
