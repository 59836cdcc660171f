"""The responsible leaders of a branch (R1: 创先办安排负责人…普遍开展点评): the township
office assigns leaders of the township to branches; an assigned leader reviews the branch,
its leadership team and its secretary, and the head keeps that authority for every branch.
Pure; no I/O."""

from __future__ import annotations

from datetime import date

from services.review.aggregates.common import Person, Subject, require_active
from services.review.events import LeaderAssigned, LeaderUnassigned
from shared.aggregate import Aggregate
from shared.errors import InvalidState
from shared.events import DomainEvent


class BranchLeaders(Aggregate):
    def blank(self) -> None:
        self.township_id = ""
        self.branch_id = ""
        self.leaders: dict[str, str] = {}  # leader id -> name, assigned now

    @staticmethod
    def stream_for(branch_id: str) -> str:
        return f"leaders-{branch_id}"

    @classmethod
    def of(cls, branch: Subject) -> BranchLeaders:
        leaders = cls(cls.stream_for(branch.branch_id), branch.township_id)
        leaders.township_id, leaders.branch_id = branch.township_id, branch.branch_id
        return leaders

    def assign(self, branch: Subject, leader: Person, today: date) -> None:
        require_active(branch)
        if leader.person_id in self.leaders:
            raise InvalidState("该领导已联系该支部，无需重复安排。")
        self._record(
            LeaderAssigned(
                township_id=branch.township_id,
                branch_id=branch.branch_id,
                leader_id=leader.person_id,
                leader_name=leader.name,
                assigned_on=today,
            )
        )

    def unassign(self, leader_id: str, today: date) -> None:
        if leader_id not in self.leaders:
            raise InvalidState(f"{leader_id} 没有联系支部 {self.branch_id}，无需取消。")
        self._record(
            LeaderUnassigned(
                township_id=self.township_id,
                branch_id=self.branch_id,
                leader_id=leader_id,
                unassigned_on=today,
            )
        )

    def apply(self, event: DomainEvent) -> None:
        match event:
            case LeaderAssigned():
                self.township_id, self.branch_id = event.township_id, event.branch_id
                self.leaders[event.leader_id] = event.leader_name
            case LeaderUnassigned():
                self.leaders.pop(event.leader_id, None)
