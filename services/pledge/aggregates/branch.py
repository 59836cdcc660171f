"""A party branch (D2): established in a township, moved within the county, retired; its
secretary is one of its active members. Moves and retirements are events; nothing is
overwritten, so history stays."""

from __future__ import annotations

from typing import TYPE_CHECKING

from services.pledge.events import (
    BranchEstablished,
    BranchKind,
    BranchMoved,
    BranchRetired,
    BranchSecretaryAppointed,
)
from shared.aggregate import Aggregate
from shared.errors import InvalidInput, InvalidState
from shared.events import DomainEvent

if TYPE_CHECKING:
    from services.pledge.aggregates.member import Member
    from services.pledge.aggregates.township import Township


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
            raise InvalidState(f"支部 {self.branch_id} 已撤销，不能再办理此事项。")

    def appoint_secretary(self, member: Member) -> None:
        self._require_active()
        if member.branch_id != self.branch_id or not member.active:
            raise InvalidInput(
                "支部书记须是本支部的在册党员：请先把此人转入本支部。", field="member_id"
            )
        self._record(BranchSecretaryAppointed(branch_id=self.branch_id, member_id=member.member_id))

    def move_to(self, township: Township) -> None:
        self._require_active()
        if township.township_id == self.township_id:
            raise InvalidInput("该支部已在这个乡镇，无需转移。", field="township_id")
        if township.county_id != self.county_id:
            raise InvalidInput("支部只能在本县内转移：请选择本县的乡镇。", field="township_id")
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
