"""A party member (D3): enrolled in an active branch, given a post, transferred within the
county, retired. Transfers and retirements are events; nothing is overwritten."""

from __future__ import annotations

from typing import TYPE_CHECKING

from services.pledge.events import (
    MemberEnrolled,
    MemberPostAssigned,
    MemberRetired,
    MemberTransferred,
)
from shared.aggregate import Aggregate
from shared.errors import InvalidInput, InvalidState
from shared.events import DomainEvent

if TYPE_CHECKING:
    from services.pledge.aggregates.branch import Branch


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
            raise InvalidState(f"党员 {self.member_id} 已不在册，不能再办理此事项。")

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
            raise InvalidInput("该党员已在这个支部，无需转移。", field="branch_id")
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
