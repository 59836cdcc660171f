"""A round's or a satisfaction check's invitations (issue 17): who was given one, and which
were replaced. Pure; no I/O. The codes themselves never enter an event (codes.py)."""

from __future__ import annotations

from collections.abc import Iterable

from services.evaluation.voting.events import (
    InvitationIssued,
    InvitationReissued,
    InvitationTextRefused,
    Scope,
)
from shared.aggregate import Aggregate
from shared.errors import InvalidInput, InvalidState
from shared.events import DomainEvent


class Invitations(Aggregate):
    """`invitations-<scope_id>`: per rater, how many invitations they were given."""

    def blank(self) -> None:
        self.issued: dict[str, int] = {}

    @classmethod
    def for_scope(cls, scope_id: str, township_id: str) -> Invitations:
        return cls(f"invitations-{scope_id}", township_id)

    def issue(
        self,
        scope: Scope,
        scope_id: str,
        rater_ids: Iterable[str],
        registered: set[str],
        is_open: bool,
        by_sms: set[str] = frozenset(),  # type: ignore[assignment]
    ) -> list[str]:
        """Invite each rater not invited yet; the raters invited now, in the order given."""
        if not is_open:
            raise InvalidState("评议或测评进行期间才能发放邀请码：已结束的不能再发。")
        wanted = list(dict.fromkeys(rater_ids))
        for index, rater_id in enumerate(wanted):
            if rater_id not in registered:
                raise InvalidInput(
                    f"评议人 {rater_id} 未登记：请先登记评议人，再发放邀请码。",
                    field=f"rater_ids.{index}",
                )
        new = [r for r in wanted if r not in self.issued]
        for rater_id in new:
            self._record(
                InvitationIssued(
                    scope=scope, scope_id=scope_id, rater_id=rater_id, by_sms=rater_id in by_sms
                )
            )
        return new

    def reissue(
        self, scope: Scope, scope_id: str, rater_id: str, is_open: bool, by_sms: bool = False
    ) -> None:
        """Replace a lost invitation: the handler kills the old code."""
        if not is_open:
            raise InvalidState("评议或测评已结束，邀请码已失效。")
        if rater_id not in self.issued:
            raise InvalidState(f"评议人 {rater_id} 还没有邀请码可以补发：请先发放邀请码。")
        self._record(
            InvitationReissued(scope=scope, scope_id=scope_id, rater_id=rater_id, by_sms=by_sms)
        )

    def text_refused(self, scope: Scope, scope_id: str, rater_id: str, reason: str) -> None:
        """The provider refused the text of the rater's latest invitation."""
        if rater_id not in self.issued:
            raise InvalidState(f"评议人 {rater_id} 还没有邀请码：没有短信可记为发送失败。")
        self._record(
            InvitationTextRefused(scope=scope, scope_id=scope_id, rater_id=rater_id, reason=reason)
        )

    def apply(self, event: DomainEvent) -> None:
        match event:
            case InvitationIssued() | InvitationReissued():
                self.issued[event.rater_id] = self.issued.get(event.rater_id, 0) + 1
