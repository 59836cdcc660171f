"""The satisfaction check of a pledge item (E8, P10c): a small round with one subject.

Pure; no I/O. Opened when the pledge service reports an item done; the township office
registers the people the item served; ballots are kept apart from participation (E3) in
`satisfaction_ballots-<check_id>` (check_ballots.py); closing emits SatisfactionVerdictReached,
the contract the pledge service consumes.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import TYPE_CHECKING

from services.evaluation.aggregates import tally
from services.evaluation.checks.events import (
    CheckRaterParticipated,
    CheckRaterRegistered,
    SatisfactionCheckOpened,
    SatisfactionVerdictReached,
    Verdict,
)
from services.evaluation.rounds.events import Channel, Scale, Sealed
from shared.aggregate import Aggregate
from shared.errors import Forbidden, InvalidInput, InvalidState
from shared.events import DomainEvent

if TYPE_CHECKING:
    from services.evaluation.checks.aggregates.check_ballots import CheckBallots

DEFAULT_THRESHOLD = 0.8  # share of satisfied + mostly satisfied ballots needed (P10c)
DEFAULT_WINDOW = timedelta(days=14)


class SatisfactionCheck(Aggregate):
    def blank(self) -> None:
        self.check_id = ""
        self.pledge_id = ""
        self.item_id = ""
        self.township_id = ""
        self.threshold = DEFAULT_THRESHOLD
        self.scale: Scale = tally.PUBLIC_SATISFACTION
        self.opens_on = date.min
        self.closes_on = date.min
        self.raters: set[str] = set()
        self.voted: set[str] = set()
        self.closed = False

    @classmethod
    def open(
        cls,
        *,
        check_id: str,
        pledge_id: str,
        item_id: str,
        township_id: str,
        title: str,
        summary: str,
        opens_on: date,
        source_event_id: str,
    ) -> SatisfactionCheck:
        check = cls(f"satisfaction_check-{check_id}", township_id)
        check._record(
            SatisfactionCheckOpened(
                check_id=check_id,
                pledge_id=pledge_id,
                item_id=item_id,
                township_id=township_id,
                title=title,
                summary=summary,
                threshold=DEFAULT_THRESHOLD,
                scale=tally.PUBLIC_SATISFACTION,
                opens_on=opens_on,
                closes_on=opens_on + DEFAULT_WINDOW,
                source_event_id=source_event_id,
            )
        )
        return check

    def register(self, raters: list[tuple[str, str | None, Sealed | None]]) -> None:
        self._require_open()
        for rater_id, _, _ in raters:
            if rater_id in self.raters:
                raise InvalidState(f"{rater_id} is already registered for this check")
        for rater_id, member_id, personal in raters:
            self._record(
                CheckRaterRegistered(
                    check_id=self.check_id,
                    rater_id=rater_id,
                    member_id=member_id,
                    personal=personal,
                )
            )

    def participate(
        self, rater_id: str, grade: str, channel: Channel, today: date, entered_by: str | None
    ) -> None:
        self._require_open()
        if not self.opens_on <= today <= self.closes_on:
            raise InvalidState(f"the check takes ballots from {self.opens_on} to {self.closes_on}")
        if rater_id not in self.raters:
            raise Forbidden(f"{rater_id} is not registered for check {self.check_id}")
        if rater_id in self.voted:
            raise InvalidState("this rater has already voted in this check")
        if grade not in {g.grade for g in self.scale.grades}:
            raise InvalidInput(f"{grade!r} is not a grade of {self.scale.name}", field="grade")
        self._record(
            CheckRaterParticipated(
                check_id=self.check_id, rater_id=rater_id, channel=channel, entered_by=entered_by
            )
        )

    def close(self, box: CheckBallots) -> Verdict:
        self._require_open()
        counts = tally.count({"item": g} for g in box.grades)
        _, rate, _ = tally.summarise(self.scale, counts.get("item", {}))
        verdict = (
            Verdict.SATISFIED if box.grades and rate >= self.threshold else Verdict.DISSATISFIED
        )
        self._record(
            SatisfactionVerdictReached(
                check_id=self.check_id,
                pledge_id=self.pledge_id,
                item_id=self.item_id,
                township_id=self.township_id,
                verdict=verdict,
                satisfaction_rate=rate,
                ballots=len(box.grades),
                threshold=self.threshold,
            )
        )
        return verdict

    def _require_open(self) -> None:
        if self.closed:
            raise InvalidState(f"satisfaction check {self.check_id} is closed")

    def apply(self, event: DomainEvent) -> None:
        match event:
            case SatisfactionCheckOpened():
                self.check_id, self.pledge_id = event.check_id, event.pledge_id
                self.item_id, self.township_id = event.item_id, event.township_id
                self.threshold, self.scale = event.threshold, event.scale
                self.opens_on, self.closes_on = event.opens_on, event.closes_on
            case CheckRaterRegistered():
                self.raters.add(event.rater_id)
            case CheckRaterParticipated():
                self.voted.add(event.rater_id)
            case SatisfactionVerdictReached():
                self.closed = True
