"""A Delivery stream carries one outbound message through its attempts (N5). Pure; no I/O."""

from __future__ import annotations

from datetime import datetime, timedelta

from services.notification.events import (
    DeliveryAttemptFailed,
    DeliveryGivenUp,
    DeliveryRequeued,
    DeliveryScheduled,
    DeliverySucceeded,
)
from shared.aggregate import Aggregate
from shared.errors import InvalidState
from shared.events import DomainEvent

# a delivery's status, as a refusal names it
STATUSES = {"new": "待推送", "pending": "待重试", "delivered": "已送达", "dead": "已放弃"}
# waits after each failed attempt; after the last one the delivery is given up (dead letter)
BACKOFF = (
    timedelta(seconds=10),
    timedelta(minutes=1),
    timedelta(minutes=5),
    timedelta(minutes=30),
    timedelta(hours=2),
)


class Delivery(Aggregate):
    def blank(self) -> None:
        self.delivery_id = ""
        self.channel_id = ""
        self.attempts = 0
        self.status = "new"

    @classmethod
    def schedule(
        cls,
        delivery_id: str,
        channel_id: str,
        township_id: str,
        release_id: str,
        release_type: str,
        subject: str,
        content: dict[str, object],
        due_at: datetime,
    ) -> Delivery:
        delivery = cls(f"delivery-{delivery_id}", township_id)
        delivery._record(
            DeliveryScheduled(
                delivery_id=delivery_id,
                channel_id=channel_id,
                township_id=township_id,
                release_id=release_id,
                release_type=release_type,
                subject=subject,
                content=content,
                due_at=due_at,
            )
        )
        return delivery

    def succeeded(self, status: int) -> None:
        self._pending()
        self._record(
            DeliverySucceeded(
                delivery_id=self.delivery_id, attempt=self.attempts + 1, status=status
            )
        )

    def failed(self, error: str, now: datetime, *, permanent: bool = False) -> None:
        """Retry with back-off; after the last wait, or at once when the error is permanent
        (a wrong number or template: retrying fails the same way), the delivery is given up,
        visibly, until an operator redelivers it."""
        self._pending()
        attempt = self.attempts + 1
        if permanent or attempt > len(BACKOFF):
            self._record(
                DeliveryGivenUp(delivery_id=self.delivery_id, attempts=attempt, error=error)
            )
            return
        self._record(
            DeliveryAttemptFailed(
                delivery_id=self.delivery_id,
                attempt=attempt,
                error=error,
                retry_at=now + BACKOFF[attempt - 1],
            )
        )

    def requeue(self, by: str, now: datetime) -> None:
        if self.status != "dead":
            raise InvalidState("只有已放弃的推送才能重新推送。")
        self._record(DeliveryRequeued(delivery_id=self.delivery_id, by=by, due_at=now))

    def _pending(self) -> None:
        if self.status != "pending":
            raise InvalidState(
                f"该推送的状态是“{STATUSES.get(self.status, self.status)}”，不能这样操作："
                "请刷新页面查看。"
            )

    def apply(self, event: DomainEvent) -> None:
        match event:
            case DeliveryScheduled():
                self.delivery_id = event.delivery_id
                self.channel_id = event.channel_id
                self.status = "pending"
            case DeliveryAttemptFailed():
                self.attempts = event.attempt
            case DeliverySucceeded():
                self.attempts = event.attempt
                self.status = "delivered"
            case DeliveryGivenUp():
                self.attempts = event.attempts
                self.status = "dead"
            case DeliveryRequeued():
                self.attempts = 0
                self.status = "pending"
