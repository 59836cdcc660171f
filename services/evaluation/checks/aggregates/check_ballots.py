"""A satisfaction check's ballots (E3, E8), kept apart from who voted. Pure; no I/O."""

from __future__ import annotations

from typing import TYPE_CHECKING

from services.evaluation.aggregates.ballots import token_hash
from services.evaluation.checks.events import CheckBallotCast
from shared.aggregate import Aggregate
from shared.errors import InvalidState
from shared.events import DomainEvent

if TYPE_CHECKING:
    from services.evaluation.checks.aggregates.check import SatisfactionCheck


class CheckBallots(Aggregate):
    """The check's ballots, without rater ids: `satisfaction_ballots-<check_id>`."""

    def blank(self) -> None:
        self.grades: list[str] = []
        self.tokens: set[str] = set()

    @classmethod
    def for_check(cls, check: SatisfactionCheck) -> CheckBallots:
        return cls(f"satisfaction_ballots-{check.check_id}", check.township_id)

    def cast(self, check_id: str, token: str, grade: str) -> str:
        hashed = token_hash(check_id, token)
        if hashed in self.tokens:
            raise InvalidState("这张一次性选票凭证已经用过，不能再次投票。")
        self._record(CheckBallotCast(check_id=check_id, token_hash=hashed, grade=grade))
        return hashed

    def apply(self, event: DomainEvent) -> None:
        match event:
            case CheckBallotCast():
                self.grades.append(event.grade)
                self.tokens.add(event.token_hash)
