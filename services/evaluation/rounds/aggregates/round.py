"""A mass evaluation round (E1–E5, E7), kept apart from its ballot box (E3, ballot_box.py).

Pure; no I/O. The round knows who is registered and who has voted on which subject; the
ballot box knows only what was chosen, under one-time token hashes. Closing the round
publishes the results computed from the ballot box.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from typing import TYPE_CHECKING

from services.evaluation.aggregates import tally
from services.evaluation.rounds.events import (
    Channel,
    RaterKind,
    RaterParticipated,
    RaterRegistered,
    RoundClosed,
    RoundOpened,
    RoundResultsPublished,
    Scale,
    Sealed,
    Subject,
    SubjectKind,
)
from shared import zh
from shared.aggregate import Aggregate
from shared.errors import Forbidden, InvalidInput, InvalidState
from shared.events import DomainEvent

if TYPE_CHECKING:
    from services.evaluation.rounds.aggregates.ballot_box import BallotBox

# E2: who may rate a branch, and who may rate a member
RATERS_FOR = {
    SubjectKind.BRANCH: frozenset(
        {
            RaterKind.TOWNSHIP_MEMBER,
            RaterKind.CADRE,
            RaterKind.PUBLIC,
            RaterKind.LOWER_ORG_HEAD,
            RaterKind.LINKED_VILLAGE_REP,
            RaterKind.SERVED_PEOPLE_REP,
        }
    ),
    SubjectKind.MEMBER: frozenset(
        {RaterKind.BRANCH_MEMBER, RaterKind.VILLAGE_CADRE, RaterKind.PUBLIC}
    ),
}

# the raters who are members in the directory (a typed name is no member: registered by their
# member id, they find the round among their own and vote as themselves)
MEMBER_RATERS = {RaterKind.TOWNSHIP_MEMBER: "乡镇党员", RaterKind.BRANCH_MEMBER: "本支部党员"}


def check_grades(scale: Scale, grades: dict[str, str], allowed: set[str], where: str) -> None:
    names = {g.grade for g in scale.grades}
    if not grades:
        raise InvalidInput("选票至少要评一个对象：请选择等次后再提交。", field=where)
    for subject_id, grade in grades.items():
        if subject_id not in allowed:
            raise InvalidInput(f"{subject_id} 不是本轮评议的对象：请只评本轮的对象。", field=where)
        if grade not in names:
            labels = "、".join(zh.simplified(g.label) for g in scale.grades)
            raise InvalidInput(
                f"请为 {subject_id} 选择等次：{labels}。"
                if not grade
                else f"“{grade}”不是本次评议的等次：请从{labels}中选择。",
                field=f"{where}.{subject_id}",
            )


class RoundStatus(StrEnum):
    OPEN = "open"
    CLOSED = "closed"


@dataclass(frozen=True)
class NewRater:
    rater_id: str
    kind: RaterKind
    organisation_id: str
    member_id: str | None = None
    personal: Sealed | None = None  # a public rater's personal data, sealed (A7)


@dataclass
class Rater:
    kind: RaterKind
    organisation_id: str
    voted_on: set[str] = field(default_factory=set)


class Round(Aggregate):
    def blank(self) -> None:
        self.round_id = ""
        self.township_id = ""
        self.organiser_kind = ""
        self.organiser_id = ""
        self.title = ""
        self.subject_kind = SubjectKind.BRANCH
        self.subjects: dict[str, Subject] = {}
        self.scale: Scale | None = None
        self.opens_on = date.min
        self.closes_on = date.min
        self.status = RoundStatus.OPEN
        self.raters: dict[str, Rater] = {}
        self.urn_batch: int | None = None  # issue 17: the round's own k, if it has one

    @classmethod
    def open(cls, opened: RoundOpened) -> Round:
        if not opened.subjects:
            raise InvalidInput(
                "一轮评议至少要有一个评议对象：请先在名册中添加支部或党员。", field="subject_ids"
            )
        if opened.closes_on < opened.opens_on:
            raise InvalidInput(
                f"结束日期 {zh.day(opened.closes_on)} 早于开始日期 {zh.day(opened.opens_on)}："
                "请把结束日期改到开始日期当天或之后。",
                field="closes_on",
            )
        round_ = cls(f"round-{opened.round_id}", opened.township_id)
        round_._record(opened)
        return round_

    @property
    def the_scale(self) -> Scale:
        assert self.scale is not None
        return self.scale

    def register(self, raters: list[NewRater]) -> None:
        self._require_open()
        allowed = RATERS_FOR[self.subject_kind]
        for index, rater in enumerate(raters):
            if rater.kind not in allowed:
                raise InvalidInput(
                    f"这类评议人不评议{zh.label(self.subject_kind.value)}（E2）：请换一类评议人。",
                    field=f"raters.{index}.kind",
                )
            if rater.kind in MEMBER_RATERS and rater.member_id is None:
                raise InvalidInput(
                    f"{MEMBER_RATERS[rater.kind]}评议人须从名册中选择（党员编号）：只有姓名的"
                    "评议人不是名册上的党员，本人的评议投票里也看不到这次评议。",
                    field=f"raters.{index}.member_id",
                )
            if rater.rater_id in self.raters:
                raise InvalidState(f"评议人 {rater.rater_id} 已登记在本轮评议中，无需重复登记。")
        for rater in raters:
            self._record(
                RaterRegistered(
                    round_id=self.round_id,
                    rater_id=rater.rater_id,
                    rater_kind=rater.kind,
                    organisation_id=rater.organisation_id,
                    member_id=rater.member_id,
                    personal=rater.personal,
                )
            )

    def participate(
        self,
        rater_id: str,
        subject_ids: list[str],
        channel: Channel,
        today: date,
        entered_by: str | None = None,
    ) -> None:
        """Record that the rater voted on these subjects (once each, across channels: E3a)."""
        self._require_open()
        if not self.opens_on <= today <= self.closes_on:
            raise InvalidState(
                f"本轮评议的投票时间为 {zh.day(self.opens_on)} 至 {zh.day(self.closes_on)}："
                "请在此期间投票。",
                today=str(today),
            )
        rater = self.raters.get(rater_id)
        if rater is None:
            raise Forbidden(
                f"评议人 {rater_id} 未登记在评议 {self.round_id} 中：请先由组织者登记。"
            )
        again = sorted(set(subject_ids) & rater.voted_on)
        if again:
            raise InvalidState("该评议人已对这些对象投过票，不能重复投票。", subjects=again)
        self._record(
            RaterParticipated(
                round_id=self.round_id,
                rater_id=rater_id,
                subject_ids=tuple(subject_ids),
                channel=channel,
                entered_by=entered_by,
            )
        )

    def close(self, box: BallotBox, today: date) -> None:
        self._require_open()
        voted = sum(1 for r in self.raters.values() if r.voted_on)
        self._record(
            RoundClosed(
                round_id=self.round_id,
                closed_on=today,
                registered=len(self.raters),
                participated=voted,
            )
        )
        results = tally.results(self.subjects.values(), self.the_scale, tally.count(box.ballots))
        self._record(
            RoundResultsPublished(
                round_id=self.round_id,
                township_id=self.township_id,
                title=self.title,
                published_on=today,
                results=tuple(results),
            )
        )

    def close_at_window_end(self, box: BallotBox, today: date) -> None:
        """E4: once its window has ended the round closes by itself (the service's schedule),
        so results are published even if the organiser never closes it."""
        self._require_open()
        if today <= self.closes_on:
            raise InvalidState(
                f"评议 {self.round_id} 收票到 {zh.day(self.closes_on)}：请在此之后再结束。"
            )
        self.close(box, today)

    def _require_open(self) -> None:
        if self.status is not RoundStatus.OPEN:
            raise InvalidState(f"评议 {self.round_id} 已结束，不能再办理此事项。")

    def apply(self, event: DomainEvent) -> None:
        match event:
            case RoundOpened():
                self.round_id, self.township_id = event.round_id, event.township_id
                self.organiser_kind, self.organiser_id = event.organiser_kind, event.organiser_id
                self.title, self.scale = event.title, event.scale
                self.subjects = {s.subject_id: s for s in event.subjects}
                self.subject_kind = event.subjects[0].subject_kind
                self.opens_on, self.closes_on = event.opens_on, event.closes_on
                self.urn_batch = event.urn_batch
            case RaterRegistered():
                self.raters[event.rater_id] = Rater(event.rater_kind, event.organisation_id)
            # one for nobody registered (forged into the log) is the audit's to report (E3);
            # the round still loads and closes
            case RaterParticipated() if event.rater_id in self.raters:
                self.raters[event.rater_id].voted_on.update(event.subject_ids)
            case RoundClosed():
                self.status = RoundStatus.CLOSED
            case RoundResultsPublished():
                pass
