"""The pledge (P1–P11): drafted, proposed, reviewed item by item, published, fulfilled.

Pure; no I/O. The "three no-pass" closing rule (P10) lives here alone: `open_reasons` says why
an item is still open, the events that change them record them (the ledger and the board read
them there), and `_close_if_passed` closes an item with none left.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import date

from services.pledge.commands import ProposedItem
from services.pledge.events import (
    ClosingReason,
    Evidence,
    FollowUpRecorded,
    ImplementationVerified,
    ItemClosed,
    ItemProposal,
    ItemReportedDone,
    ItemReviewed,
    OpenReason,
    OpinionChannel,
    OpinionRecorded,
    PledgeApproved,
    PledgeDrafted,
    PledgeProposed,
    PledgePublished,
    PledgeResubmitted,
    PledgeReturned,
    PledgerKind,
    PledgeStatus,
    ProblemSolvedConfirmed,
    ProgressReported,
    QuarterlyPushRecorded,
    ReviewDecision,
    SatisfactionCheckReopened,
    SatisfactionNotRated,
    SatisfactionVerdictRecorded,
    Standard,
    Verdict,
)
from shared import zh
from shared.aggregate import Aggregate
from shared.errors import InvalidInput, InvalidState
from shared.events import DomainEvent
from shared.files import FileRef

QUARTER = re.compile(r"^(\d{4})Q([1-4])$")


def open_reasons(
    *,
    done_reported: bool,
    problem_solved: bool,
    implementation_verified: bool,
    verdict: Verdict | None,
    not_rated: bool = False,
) -> list[OpenReason]:
    """P10: why a published item is still open; empty when it may close."""
    reasons = []
    if not done_reported:
        reasons.append(OpenReason.NOT_REPORTED_DONE)
    if not problem_solved:
        reasons.append(OpenReason.PROBLEM_NOT_SOLVED)
    if not implementation_verified:
        reasons.append(OpenReason.IMPLEMENTATION_NOT_VERIFIED)
    if verdict is None:
        # a check with no ballot has no verdict: not rated, not dissatisfied (E8)
        reasons.append(
            OpenReason.SATISFACTION_NOT_RATED if not_rated else OpenReason.SATISFACTION_PENDING
        )
    elif verdict is Verdict.DISSATISFIED:
        reasons.append(OpenReason.PUBLIC_NOT_SATISFIED)
    return reasons


@dataclass
class Item:
    proposal: ItemProposal
    decision: ReviewDecision | None = None
    done_reported: bool = False
    problem_solved: bool = False
    implementation_verified: bool = False
    verdict: Verdict | None = None
    not_rated: bool = False
    closed: bool = False

    def open_reasons(self) -> list[OpenReason]:
        """Why the item is still open (P10), empty when it may close."""
        return open_reasons(
            done_reported=self.done_reported,
            problem_solved=self.problem_solved,
            implementation_verified=self.implementation_verified,
            verdict=self.verdict,
            not_rated=self.not_rated,
        )

    def open_after(self, **steps: bool | Verdict | None) -> tuple[OpenReason, ...]:
        """The open reasons once `steps` are taken (the fields they set), for their event."""
        return tuple(replace(self, **steps).open_reasons())  # type: ignore[arg-type]

    def passes(self) -> tuple[ClosingReason, ...]:
        """The passes it has made of P10's three."""
        made = (
            (self.problem_solved, ClosingReason.PROBLEM_SOLVED),
            (self.implementation_verified, ClosingReason.IMPLEMENTATION_VERIFIED),
            (self.verdict is Verdict.SATISFIED, ClosingReason.PUBLIC_SATISFIED),
        )
        return tuple(reason for passed, reason in made if passed)


@dataclass(frozen=True)
class Pledger:
    """Who pledges: a branch (organisation pledge) or a member (personal pledge)."""

    kind: PledgerKind
    branch_id: str
    branch_kind: str
    member_id: str | None
    name: str
    township_id: str
    county_id: str


class Pledge(Aggregate):
    def blank(self) -> None:
        self.pledge_id = ""
        self.year = 0
        self.status = PledgeStatus.DRAFTING
        self.pledger: Pledger | None = None
        self.round = 0
        self.opinions: set[str] = set()
        self.items: dict[str, Item] = {}
        self.quarters: set[str] = set()
        self.counter = 0  # numbering of child records (items, reports, opinions)

    # --- drafting (定诺) -------------------------------------------------------------------

    @staticmethod
    def id_for(year: int, pledger: Pledger) -> str:
        """One pledge per pledger per year: the id is derived, so a second draft conflicts."""
        return f"p{year}-{pledger.member_id or pledger.branch_id}"

    @classmethod
    def draft(cls, year: int, pledger: Pledger, entered_by: str | None = None) -> Pledge:
        pledge_id = cls.id_for(year, pledger)
        pledge = cls(f"pledge-{pledge_id}", pledger.township_id)
        standard = (
            Standard.FIVE_GOOD
            if pledger.kind is PledgerKind.BRANCH
            else Standard.FIVE_TAKE_THE_LEAD
        )
        pledge._record(
            PledgeDrafted(
                pledge_id=pledge_id,
                year=year,
                pledger_kind=pledger.kind,
                branch_id=pledger.branch_id,
                branch_kind=pledger.branch_kind,
                member_id=pledger.member_id,
                pledger_name=pledger.name,
                township_id=pledger.township_id,
                county_id=pledger.county_id,
                standard=standard,
                entered_by=entered_by,
            )
        )
        return pledge

    def _next_id(self, prefix: str) -> str:
        return f"{self.pledge_id}-{prefix}{self.counter + 1}"

    def _require(self, *allowed: PledgeStatus) -> None:
        if self.status not in allowed:
            raise InvalidState(
                f"承诺 {self.pledge_id} 现在是“{zh.label(self.status.value)}”，此操作须在“"
                + "”或“".join(zh.label(s.value) for s in allowed)
                + "”时办理：请刷新页面查看承诺现在的状态。",
                status_now=self.status.value,
            )

    def record_opinion(
        self,
        channel: OpinionChannel,
        gathered_on: date,
        summary: str,
        entered_by: str | None = None,
    ) -> str:
        self._require(PledgeStatus.DRAFTING, PledgeStatus.RETURNED)
        opinion_id = self._next_id("o")
        self._record(
            OpinionRecorded(
                pledge_id=self.pledge_id,
                opinion_id=opinion_id,
                channel=channel,
                gathered_on=gathered_on,
                summary=summary,
                entered_by=entered_by,
            )
        )
        return opinion_id

    def propose(
        self,
        basis: str,
        items: list[ProposedItem],
        categories: tuple[str, ...],
        today: date,
        entered_by: str | None = None,
    ) -> list[str]:
        self._require(PledgeStatus.DRAFTING)
        if not items:
            raise InvalidInput("承诺至少要有一个事项：请添加事项后再提交。", field="items")
        proposals = []
        for index, item in enumerate(items):
            item_id = f"{self.pledge_id}-i{index + 1}"
            proposals.append(self._check_item(item_id, item, categories, today, f"items.{index}"))
        self._record(
            PledgeProposed(
                pledge_id=self.pledge_id,
                round=1,
                basis=basis,
                items=tuple(proposals),
                entered_by=entered_by,
            )
        )
        return [p.item_id for p in proposals]

    def _check_item(
        self, item_id: str, item: ProposedItem, categories: tuple[str, ...], today: date, where: str
    ) -> ItemProposal:
        proposal = ItemProposal(item_id=item_id, **item.model_dump())
        if proposal.category not in categories:
            raise InvalidInput(
                f"类别“{proposal.category}”不是本类支部的承诺类别：请从列表中选择。",
                field=f"{where}.category",
                allowed=list(categories),
            )
        if proposal.due_date < today or proposal.due_date.year > self.year + 1:
            raise InvalidInput(
                "完成时限须晚于今天，并在承诺年度或下一年内：请修改完成时限。",
                field=f"{where}.due_date",
            )
        unknown = set(proposal.shaped_by) - self.opinions
        if unknown:
            raise InvalidInput(
                f"未知的意见：{'、'.join(sorted(unknown))}，请从已征求的意见中选择。",
                field=f"{where}.shaped_by",
            )
        return proposal

    # --- organisational review (P5) -------------------------------------------------------

    def review_item(
        self,
        item_id: str,
        *,
        shows_advanced_standard: bool,
        matches_wishes: bool,
        feasible: bool,
        approve: bool,
        guidance: str | None,
        today: date | None = None,
        drafting_deadline: date | None = None,
    ) -> None:
        """`today` and the county's `drafting_deadline` for the pledge year: an approval after
        the deadline is recorded late (P6)."""
        self._require(PledgeStatus.UNDER_REVIEW)
        item = self._item(item_id)
        if item.decision is not None:
            raise InvalidState(f"事项 {item_id} 在第{self.round}轮已经审核过，无需重复审核。")
        if approve and not (shows_advanced_standard and matches_wishes and feasible):
            raise InvalidInput(
                "三项标准都符合的事项才能通过：请退回并给出修改意见。", field="decision"
            )
        if not approve and not guidance:
            raise InvalidInput("退回的事项须写明修改意见。", field="guidance")
        self._record(
            ItemReviewed(
                pledge_id=self.pledge_id,
                round=self.round,
                item_id=item_id,
                shows_advanced_standard=shows_advanced_standard,
                matches_wishes=matches_wishes,
                feasible=feasible,
                decision=ReviewDecision.APPROVED if approve else ReviewDecision.RETURNED,
                guidance=guidance,
            )
        )
        if all(i.decision is not None for i in self.items.values()):
            returned = tuple(
                k for k, i in self.items.items() if i.decision is ReviewDecision.RETURNED
            )
            if returned:
                self._record(
                    PledgeReturned(
                        pledge_id=self.pledge_id, round=self.round, returned_item_ids=returned
                    )
                )
            else:
                late = bool(today and drafting_deadline and today > drafting_deadline)
                self._record(
                    PledgeApproved(
                        pledge_id=self.pledge_id,
                        round=self.round,
                        approved_on=today,
                        drafting_deadline=drafting_deadline,
                        late=late,
                    )
                )

    def resubmit(
        self,
        items: dict[str, ProposedItem],
        note: str,
        categories: tuple[str, ...],
        today: date,
        entered_by: str | None = None,
    ) -> None:
        self._require(PledgeStatus.RETURNED)
        returned = {k for k, i in self.items.items() if i.decision is ReviewDecision.RETURNED}
        if set(items) != returned:
            raise InvalidInput(
                f"请只修改被退回的事项：{'、'.join(sorted(returned))}。", field="items"
            )
        revised = tuple(
            self._check_item(k, v, categories, today, f"items.{k}") for k, v in items.items()
        )
        self._record(
            PledgeResubmitted(
                pledge_id=self.pledge_id,
                round=self.round + 1,
                items=revised,
                note=note,
                entered_by=entered_by,
            )
        )

    # --- publishing (亮诺) -----------------------------------------------------------------

    def publish(self) -> None:
        self._require(PledgeStatus.APPROVED)
        [first, *_] = self.items.values()  # nothing of any is done yet: all alike
        self._record(
            PledgePublished(
                pledge_id=self.pledge_id,
                letter_no=self.pledge_id,  # its year once: p2027-m-…
                item_ids=tuple(self.items),
                open_reasons=tuple(first.open_reasons()),
            )
        )

    # --- fulfilment (践诺) -----------------------------------------------------------------

    def _open_item(self, item_id: str) -> Item:
        self._require(PledgeStatus.PUBLISHED)
        item = self._item(item_id)
        if item.closed:
            raise InvalidState(f"事项 {item_id} 已销号，不能再办理此事项。")
        return item

    def report_progress(
        self,
        item_id: str,
        summary: str,
        percent: int,
        evidence: tuple[Evidence, ...],
        files: tuple[FileRef, ...] = (),
    ) -> str:
        self._open_item(item_id)
        report_id = self._next_id("r")
        self._record(
            ProgressReported(
                pledge_id=self.pledge_id,
                item_id=item_id,
                report_id=report_id,
                summary=summary,
                percent=percent,
                evidence=evidence,
                files=files,
            )
        )
        return report_id

    def follow_up(self, item_id: str, note: str, files: tuple[FileRef, ...] = ()) -> str:
        self._open_item(item_id)
        follow_up_id = self._next_id("f")
        self._record(
            FollowUpRecorded(
                pledge_id=self.pledge_id,
                item_id=item_id,
                follow_up_id=follow_up_id,
                note=note,
                files=files,
            )
        )
        return follow_up_id

    def report_done(
        self,
        item_id: str,
        summary: str,
        files: tuple[FileRef, ...] = (),
        entered_by: str | None = None,
    ) -> None:
        item = self._open_item(item_id)
        if item.done_reported and item.verdict is None and not item.not_rated:
            raise InvalidState(f"事项 {item_id} 正在等待满意度测评结果：请等测评结束。")
        assert self.pledger is not None
        self._record(
            ItemReportedDone(
                pledge_id=self.pledge_id,
                item_id=item_id,
                township_id=self.pledger.township_id,
                title=item.proposal.title,
                summary=summary,
                open_reasons=item.open_after(done_reported=True, verdict=None, not_rated=False),
                files=files,
                entered_by=entered_by,
            )
        )

    def confirm_problem_solved(self, item_id: str, note: str) -> None:
        item = self._done_item(item_id)
        if item.problem_solved:
            raise InvalidState(f"事项 {item_id} 的问题已确认解决，无需重复确认。")
        self._record(
            ProblemSolvedConfirmed(
                pledge_id=self.pledge_id,
                item_id=item_id,
                note=note,
                open_reasons=item.open_after(problem_solved=True),
            )
        )
        self._close_if_passed(item_id)

    def verify_implementation(self, item_id: str, note: str) -> None:
        item = self._done_item(item_id)
        if item.implementation_verified:
            raise InvalidState(f"事项 {item_id} 的落实情况已核实，无需重复核实。")
        self._record(
            ImplementationVerified(
                pledge_id=self.pledge_id,
                item_id=item_id,
                note=note,
                open_reasons=item.open_after(implementation_verified=True),
            )
        )
        self._close_if_passed(item_id)

    def record_verdict(
        self,
        item_id: str,
        verdict: Verdict,
        satisfaction_rate: float,
        check_id: str,
        source_event_id: str,
    ) -> bool:
        """Record the evaluation service's verdict (P10c); False if it no longer applies."""
        item = self.items.get(item_id)
        if self.status is not PledgeStatus.PUBLISHED or item is None or item.closed:
            return False
        self._record(
            SatisfactionVerdictRecorded(
                pledge_id=self.pledge_id,
                item_id=item_id,
                verdict=verdict,
                satisfaction_rate=satisfaction_rate,
                check_id=check_id,
                source_event_id=source_event_id,
                open_reasons=item.open_after(verdict=verdict),
            )
        )
        self._close_if_passed(item_id)
        return True

    def record_not_rated(self, item_id: str, check_id: str, source_event_id: str) -> bool:
        """Record that the item's check ended with no ballot (E8): no verdict; False if it no
        longer applies (closed, or rated since)."""
        item = self.items.get(item_id)
        if (
            self.status is not PledgeStatus.PUBLISHED
            or item is None
            or item.closed
            or item.verdict is not None
        ):
            return False
        self._record(
            SatisfactionNotRated(
                pledge_id=self.pledge_id,
                item_id=item_id,
                check_id=check_id,
                source_event_id=source_event_id,
                open_reasons=item.open_after(not_rated=True),
            )
        )
        return True

    def record_reopened(self, item_id: str, check_id: str, source_event_id: str) -> bool:
        """The office reopened the lapsed check: the verdict is pending again; False if the
        item is not waiting as not rated."""
        item = self.items.get(item_id)
        if self.status is not PledgeStatus.PUBLISHED or item is None or item.closed:
            return False
        if not item.not_rated:
            return False
        self._record(
            SatisfactionCheckReopened(
                pledge_id=self.pledge_id,
                item_id=item_id,
                check_id=check_id,
                source_event_id=source_event_id,
                open_reasons=item.open_after(not_rated=False),
            )
        )
        return True

    def _done_item(self, item_id: str) -> Item:
        item = self._open_item(item_id)
        if not item.done_reported:
            raise InvalidState(f"事项 {item_id} 还没有报告完成：请等承诺人报告完成后再办理。")
        return item

    def _close_if_passed(self, item_id: str) -> None:
        """P10: problem solved, implementation verified and the public satisfied."""
        item = self.items[item_id]
        if not item.open_reasons():
            self._record(
                ItemClosed(pledge_id=self.pledge_id, item_id=item_id, reasons=item.passes())
            )

    def push_quarter(self, quarter: str, assessment: str, next_steps: str) -> None:
        """P11: every published pledge is assessed and pushed forward each quarter."""
        self._require(PledgeStatus.PUBLISHED)
        match = QUARTER.match(quarter)
        if not match or int(match.group(1)) not in (self.year, self.year + 1):
            raise InvalidInput("季度须在承诺年度内，格式如 2026Q2：请修改季度。", field="quarter")
        if quarter in self.quarters:
            raise InvalidState(f"{zh.period(quarter)}已经推进过，无需重复推进。")
        self._record(
            QuarterlyPushRecorded(
                pledge_id=self.pledge_id,
                quarter=quarter,
                assessment=assessment,
                next_steps=next_steps,
            )
        )

    def _item(self, item_id: str) -> Item:
        try:
            return self.items[item_id]
        except KeyError:
            raise InvalidInput(
                f"承诺 {self.pledge_id} 中没有事项 {item_id}：请刷新页面后再试。", field="item_id"
            ) from None

    # --- state ----------------------------------------------------------------------------

    def apply(self, event: DomainEvent) -> None:
        match event:
            case PledgeDrafted():
                self.pledge_id, self.year = event.pledge_id, event.year
                self.pledger = Pledger(
                    event.pledger_kind,
                    event.branch_id,
                    event.branch_kind,
                    event.member_id,
                    event.pledger_name,
                    event.township_id,
                    event.county_id,
                )
            case OpinionRecorded():
                self.opinions.add(event.opinion_id)
                self.counter += 1
            case PledgeProposed():
                self.round, self.status = event.round, PledgeStatus.UNDER_REVIEW
                self.items = {p.item_id: Item(p) for p in event.items}
            case ItemReviewed():
                self.items[event.item_id].decision = event.decision
            case PledgeReturned():
                self.status = PledgeStatus.RETURNED
            case PledgeResubmitted():
                self.round, self.status = event.round, PledgeStatus.UNDER_REVIEW
                for proposal in event.items:
                    self.items[proposal.item_id] = Item(proposal)
            case PledgeApproved():
                self.status = PledgeStatus.APPROVED
            case PledgePublished():
                self.status = PledgeStatus.PUBLISHED
            case ProgressReported() | FollowUpRecorded():
                self.counter += 1
            case ItemReportedDone():
                item = self.items[event.item_id]
                item.done_reported, item.verdict, item.not_rated = True, None, False
            case ProblemSolvedConfirmed():
                self.items[event.item_id].problem_solved = True
            case ImplementationVerified():
                self.items[event.item_id].implementation_verified = True
            case SatisfactionVerdictRecorded():
                self.items[event.item_id].verdict = event.verdict
                self.items[event.item_id].not_rated = False
            case SatisfactionNotRated():
                self.items[event.item_id].not_rated = True
            case SatisfactionCheckReopened():
                self.items[event.item_id].not_rated = False
            case ItemClosed():
                self.items[event.item_id].closed = True
            case QuarterlyPushRecorded():
                self.quarters.add(event.quarter)
