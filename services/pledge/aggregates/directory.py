"""The directory (D1–D3): county, townships, branches and members. Pure; no I/O.

Moves and retirements are events; nothing is overwritten, so history stays.
"""

from __future__ import annotations

from datetime import date

from services.pledge.events import (
    BranchEstablished,
    BranchKind,
    BranchMoved,
    BranchRetired,
    BranchSecretaryAppointed,
    CategoriesConfigured,
    CountyEstablished,
    MemberEnrolled,
    MemberPostAssigned,
    MemberRetired,
    MemberTransferred,
    PledgeCalendarSet,
    TownshipEstablished,
    TownshipHeadAppointed,
)
from shared.aggregate import Aggregate
from shared.errors import InvalidInput, InvalidState
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

    def set_calendar(self, year: int, drafting_deadline: date) -> None:
        if drafting_deadline.year != year:
            raise InvalidInput(
                "the drafting deadline must fall in the pledge year", field="drafting_deadline"
            )
        self._record(
            PledgeCalendarSet(
                county_id=self.county_id, year=year, drafting_deadline=drafting_deadline
            )
        )

    def configure_categories(self, kind: BranchKind, categories: tuple[str, ...]) -> None:
        if not categories or len(set(categories)) != len(categories):
            raise InvalidInput("give at least one category, each once", field="categories")
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


class Township(Aggregate):
    def blank(self) -> None:
        self.township_id = ""
        self.county_id = ""
        self.name = ""
        self.head_id: str | None = None

    @classmethod
    def establish(cls, township_id: str, county_id: str, name: str) -> Township:
        township = cls(f"township-{township_id}", township_id)
        township._record(
            TownshipEstablished(township_id=township_id, county_id=county_id, name=name)
        )
        return township

    def appoint_head(self, person_id: str, name: str) -> None:
        self._record(
            TownshipHeadAppointed(township_id=self.township_id, person_id=person_id, name=name)
        )

    def apply(self, event: DomainEvent) -> None:
        match event:
            case TownshipEstablished():
                self.township_id, self.county_id, self.name = (
                    event.township_id,
                    event.county_id,
                    event.name,
                )
            case TownshipHeadAppointed():
                self.head_id = event.person_id


class Branch(Aggregate):
    def blank(self) -> None:
        self.branch_id = ""
        self.township_id = ""
        self.county_id = ""
        self.name = ""
        self.kind = BranchKind.VILLAGE
        self.secretary_id: str | None = None
        self.active = True

    @classmethod
    def establish(
        cls, branch_id: str, township: Township, name: str, kind: BranchKind, village: str | None
    ) -> Branch:
        branch = cls(f"branch-{branch_id}", township.township_id)
        branch._record(
            BranchEstablished(
                branch_id=branch_id,
                township_id=township.township_id,
                county_id=township.county_id,
                name=name,
                kind=kind,
                village=village,
            )
        )
        return branch

    def _require_active(self) -> None:
        if not self.active:
            raise InvalidState(f"branch {self.branch_id} is retired")

    def appoint_secretary(self, member: Member) -> None:
        self._require_active()
        if member.branch_id != self.branch_id or not member.active:
            raise InvalidInput(
                "the secretary must be an active member of this branch", field="member_id"
            )
        self._record(BranchSecretaryAppointed(branch_id=self.branch_id, member_id=member.member_id))

    def move_to(self, township: Township) -> None:
        self._require_active()
        if township.township_id == self.township_id:
            raise InvalidInput("the branch is already in that township", field="township_id")
        if township.county_id != self.county_id:
            raise InvalidInput("a branch moves only within its county", field="township_id")
        self.partition = township.township_id  # later events belong to the new township
        self._record(
            BranchMoved(
                branch_id=self.branch_id,
                from_township_id=self.township_id,
                to_township_id=township.township_id,
            )
        )

    def retire(self, reason: str) -> None:
        self._require_active()
        self._record(BranchRetired(branch_id=self.branch_id, reason=reason))

    def apply(self, event: DomainEvent) -> None:
        match event:
            case BranchEstablished():
                self.branch_id, self.township_id, self.county_id = (
                    event.branch_id,
                    event.township_id,
                    event.county_id,
                )
                self.name, self.kind = event.name, event.kind
            case BranchSecretaryAppointed():
                self.secretary_id = event.member_id
            case BranchMoved():
                self.township_id = event.to_township_id
            case BranchRetired():
                self.active = False


class Member(Aggregate):
    def blank(self) -> None:
        self.member_id = ""
        self.branch_id = ""
        self.township_id = ""
        self.name = ""
        self.post = ""
        self.leadership_team = False
        self.active = True

    @classmethod
    def enrol(
        cls,
        member_id: str,
        branch: Branch,
        name: str,
        post: str,
        duties: str,
        leadership_team: bool,
    ) -> Member:
        branch._require_active()
        member = cls(f"member-{member_id}", branch.township_id)
        member._record(
            MemberEnrolled(
                member_id=member_id,
                branch_id=branch.branch_id,
                township_id=branch.township_id,
                name=name,
                post=post,
                duties=duties,
                leadership_team=leadership_team,
            )
        )
        return member

    def _require_active(self) -> None:
        if not self.active:
            raise InvalidState(f"member {self.member_id} is retired")

    def assign_post(self, post: str, duties: str, leadership_team: bool) -> None:
        self._require_active()
        self._record(
            MemberPostAssigned(
                member_id=self.member_id, post=post, duties=duties, leadership_team=leadership_team
            )
        )

    def transfer_to(self, branch: Branch) -> None:
        self._require_active()
        branch._require_active()
        if branch.branch_id == self.branch_id:
            raise InvalidInput("the member is already in that branch", field="branch_id")
        self.partition = branch.township_id
        self._record(
            MemberTransferred(
                member_id=self.member_id,
                from_branch_id=self.branch_id,
                to_branch_id=branch.branch_id,
                to_township_id=branch.township_id,
            )
        )

    def retire(self, reason: str) -> None:
        self._require_active()
        self._record(MemberRetired(member_id=self.member_id, reason=reason))

    def apply(self, event: DomainEvent) -> None:
        match event:
            case MemberEnrolled():
                self.member_id, self.branch_id, self.township_id = (
                    event.member_id,
                    event.branch_id,
                    event.township_id,
                )
                self.name, self.post = event.name, event.post
                self.leadership_team = event.leadership_team
            case MemberPostAssigned():
                self.post, self.leadership_team = event.post, event.leadership_team
            case MemberTransferred():
                self.branch_id, self.township_id = event.to_branch_id, event.to_township_id
            case MemberRetired():
                self.active = False
