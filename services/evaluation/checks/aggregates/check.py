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
    CheckTermsSet,
    SatisfactionCheckExtended,
    SatisfactionCheckLapsed,
    SatisfactionCheckOpened,
    SatisfactionVerdictReached,
    Verdict,
)
from services.evaluation.rounds.events import Channel, Scale, Sealed
from shared import zh
from shared.aggregate import Aggregate
from shared.errors import Forbidden, InvalidInput, InvalidState
from shared.events import DomainEvent

if TYPE_CHECKING:
    from services.evaluation.checks.aggregates.check_ballots import CheckBallots

DEFAULT_THRESHOLD = 0.8  # share of satisfied + mostly satisfied ballots needed (P10c)
DEFAULT_WINDOW = timedelta(days=14)


class CheckTerms(Aggregate):
    """The county's terms for a year's checks (threshold, window): data per county and year,
    the defaults until it sets them."""

    def blank(self) -> None:
        self.threshold = DEFAULT_THRESHOLD
        self.window = DEFAULT_WINDOW
        self.set_once = False

    @staticmethod
    def stream_for(county_id: str, year: int) -> str:
        return f"check_terms-{county_id}-{year}"

    def set(self, county_id: str, year: int, threshold: float, window_days: int) -> None:
        if self.set_once and (threshold, timedelta(days=window_days)) == (
            self.threshold,
            self.window,
        ):
            raise InvalidState("本年度的满意度测评规则已是这样，无需再次设置。")
        self._record(
            CheckTermsSet(
                county_id=county_id, year=year, threshold=threshold, window_days=window_days
            )
        )

    def apply(self, event: DomainEvent) -> None:
        match event:
            case CheckTermsSet():
                self.threshold, self.window = event.threshold, timedelta(days=event.window_days)
                self.set_once = True


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
        self.lapsed = False

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
        terms: CheckTerms | None = None,
    ) -> SatisfactionCheck:
        """Opened with the county's terms for the year (threshold, window), or the defaults."""
        terms = terms or CheckTerms("check_terms-default", township_id)
        check = cls(f"satisfaction_check-{check_id}", township_id)
        check._record(
            SatisfactionCheckOpened(
                check_id=check_id,
                pledge_id=pledge_id,
                item_id=item_id,
                township_id=township_id,
                title=title,
                summary=summary,
                threshold=terms.threshold,
                scale=tally.PUBLIC_SATISFACTION,
                opens_on=opens_on,
                closes_on=opens_on + terms.window,
                source_event_id=source_event_id,
            )
        )
        return check

    def register(self, raters: list[tuple[str, str | None, Sealed | None]]) -> None:
        self._require_open()
        for rater_id, _, _ in raters:
            if rater_id in self.raters:
                raise InvalidState(f"评议人 {rater_id} 已登记在本次测评中，无需重复登记。")
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
        if self.lapsed or not self.opens_on <= today <= self.closes_on:
            raise InvalidState(
                f"本次测评的投票时间为 {zh.day(self.opens_on)} 至 {zh.day(self.closes_on)}："
                "如需继续收票，请乡镇创先办延长截止日期。"
            )
        if rater_id not in self.raters:
            raise Forbidden(
                f"评议人 {rater_id} 未登记在满意度测评 {self.check_id} 中：请先由乡镇创先办登记。"
            )
        if rater_id in self.voted:
            raise InvalidState("该评议人已在本次测评中投过票，不能重复投票。")
        if grade not in {g.grade for g in self.scale.grades}:
            labels = "、".join(zh.simplified(g.label) for g in self.scale.grades)
            raise InvalidInput(f"请从{labels}中选择一个等次。", field="grade")
        self._record(
            CheckRaterParticipated(
                check_id=self.check_id, rater_id=rater_id, channel=channel, entered_by=entered_by
            )
        )

    def close(self, box: CheckBallots) -> Verdict | None:
        """The verdict from the ballots in; with no ballot there is none: the check lapses
        (the item stays open, not rated) until the office extends or reopens it."""
        self._require_open()
        if self.lapsed:
            raise InvalidState(
                f"满意度测评 {self.check_id} 到期时没有收到选票：请乡镇创先办延长截止日期后再收票。"
            )
        if not box.grades:
            self._record(
                SatisfactionCheckLapsed(
                    check_id=self.check_id,
                    pledge_id=self.pledge_id,
                    item_id=self.item_id,
                    township_id=self.township_id,
                    closes_on=self.closes_on,
                )
            )
            return None
        counts = tally.count({"item": g} for g in box.grades)
        _, rate, _ = tally.summarise(self.scale, counts.get("item", {}))
        verdict = Verdict.SATISFIED if rate >= self.threshold else Verdict.DISSATISFIED
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

    def extend(self, closes_on: date, today: date) -> None:
        """A later closing date, while open or after the check lapsed with no ballot."""
        self._require_open()
        if closes_on < today or closes_on <= self.closes_on:
            raise InvalidInput(
                f"请填写 {zh.day(self.closes_on)}（目前的截止日期）之后、"
                f"且不早于今天（{zh.day(today)}）的截止日期。",
                field="closes_on",
            )
        self._record(
            SatisfactionCheckExtended(
                check_id=self.check_id,
                pledge_id=self.pledge_id,
                item_id=self.item_id,
                township_id=self.township_id,
                closes_on=closes_on,
                reopened=self.lapsed,
            )
        )

    def _require_open(self) -> None:
        if self.closed:
            raise InvalidState(f"满意度测评 {self.check_id} 已结束，不能再办理此事项。")

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
            case SatisfactionCheckLapsed():
                self.lapsed = True
            case SatisfactionCheckExtended():
                self.closes_on, self.lapsed = event.closes_on, False
