"""A round's ballot box (E3): what was chosen, under one-time token hashes; no rater ids. Pure."""

from __future__ import annotations

from typing import TYPE_CHECKING

from services.evaluation.aggregates.ballots import token_hash
from services.evaluation.rounds.events import BallotCast
from shared.aggregate import Aggregate
from shared.errors import InvalidState
from shared.events import DomainEvent

if TYPE_CHECKING:
    from services.evaluation.rounds.aggregates.round import Round


class BallotBox(Aggregate):
    """What was chosen; no rater ids. One stream per round: `ballot_box-<round_id>`."""

    def blank(self) -> None:
        self.ballots: list[dict[str, str]] = []
        self.tokens: set[str] = set()

    @classmethod
    def for_round(cls, round_: Round) -> BallotBox:
        return cls(f"ballot_box-{round_.round_id}", round_.township_id)

    def cast(self, round_: Round, token: str, grades: dict[str, str]) -> str:
        hashed = token_hash(round_.round_id, token)
        if hashed in self.tokens:
            raise InvalidState("这张一次性选票凭证已经用过，不能再次投票。")
        self._record(BallotCast(round_id=round_.round_id, token_hash=hashed, grades=grades))
        return hashed

    def apply(self, event: DomainEvent) -> None:
        match event:
            case BallotCast():
                self.ballots.append(dict(event.grades))
                self.tokens.add(event.token_hash)
