"""The notification service's aggregates. Pure; no I/O.

A Deadline stream per (county, year, deadline, township) remembers which notices it issued,
so each reminder and each overdue notice goes out exactly once, however often the scheduler
runs (N3). A Delivery stream carries one outbound message through its attempts (N5).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, timedelta

from services.notification.calendar import check_owned
from services.notification.events import (
    BranchRecord,
    BulletinIssued,
    CalendarSet,
    ChannelKind,
    ChannelRegistered,
    ChannelRetired,
    Deadline,
    DeliveryAttemptFailed,
    DeliveryGivenUp,
    DeliveryRequeued,
    DeliveryScheduled,
    DeliverySucceeded,
    NoticeIssued,
    NoticeKind,
    NoticeRead,
)
from shared.aggregate import Aggregate
from shared.errors import InvalidState
from shared.events import DomainEvent

# waits after each failed attempt; after the last one the delivery is given up (dead letter)
BACKOFF = (
    timedelta(seconds=10),
    timedelta(minutes=1),
    timedelta(minutes=5),
    timedelta(minutes=30),
    timedelta(hours=2),
)


class Calendar(Aggregate):
    def blank(self) -> None:
        self.deadlines: tuple[Deadline, ...] = ()

    def set(
        self,
        county_id: str,
        year: int,
        deadlines: tuple[Deadline, ...],
        owned: Mapping[str, date],
    ) -> None:
        """`owned`: the dates of the deadlines other services keep (calendar.owned_dates)."""
        ids = [d.deadline_id for d in deadlines]
        if len(set(ids)) != len(ids):
            raise InvalidState("deadline ids must be unique")
        check_owned(deadlines, owned)
        self._record(CalendarSet(county_id=county_id, year=year, deadlines=deadlines))

    def apply(self, event: DomainEvent) -> None:
        match event:
            case CalendarSet():
                self.deadlines = event.deadlines


class DeadlineNotices(Aggregate):
    def blank(self) -> None:
        self.issued: set[tuple[NoticeKind, str]] = set()
        self.read: set[str] = set()

    def issue(
        self,
        *,
        notice_id: str,
        county_id: str,
        township_id: str,
        deadline: Deadline,
        kind: NoticeKind,
        recipient: str,
        title: str,
        body: str,
    ) -> bool:
        """Issue once per (kind, recipient); False when it was issued before."""
        if (kind, recipient) in self.issued:
            return False
        self._record(
            NoticeIssued(
                notice_id=notice_id,
                county_id=county_id,
                township_id=township_id,
                deadline_id=deadline.deadline_id,
                kind=kind,
                recipient=recipient,
                title=title,
                body=body,
                due_on=deadline.due_on,
            )
        )
        return True

    def mark_read(self, notice_id: str, reader: str) -> None:
        if notice_id not in self.read:
            self._record(NoticeRead(notice_id=notice_id, reader=reader))

    def apply(self, event: DomainEvent) -> None:
        match event:
            case NoticeIssued():
                self.issued.add((event.kind, event.recipient))
            case NoticeRead():
                self.read.add(event.notice_id)


class Channel(Aggregate):
    def blank(self) -> None:
        self.county_id = ""
        self.township_id: str | None = None
        self.active = False

    @classmethod
    def register(
        cls,
        channel_id: str,
        county_id: str,
        township_id: str | None,
        kind: ChannelKind,
        name: str,
        shown_as: str,
        signed: bool,
        release_types: tuple[str, ...],
    ) -> Channel:
        channel = cls(f"channel-{channel_id}", township_id or county_id)
        channel._record(
            ChannelRegistered(
                channel_id=channel_id,
                county_id=county_id,
                township_id=township_id,
                kind=kind,
                name=name,
                shown_as=shown_as,
                signed=signed,
                release_types=release_types,
            )
        )
        return channel

    def retire(self) -> None:
        if not self.active:
            raise InvalidState("the channel is retired")
        self._record(ChannelRetired(channel_id=self.stream_id.removeprefix("channel-")))

    def apply(self, event: DomainEvent) -> None:
        match event:
            case ChannelRegistered():
                self.county_id = event.county_id
                self.township_id = event.township_id
                self.active = True
            case ChannelRetired():
                self.active = False


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

    def failed(self, error: str, now: datetime) -> None:
        """Retry with back-off; after the last wait the delivery is given up, visibly."""
        self._pending()
        attempt = self.attempts + 1
        if attempt > len(BACKOFF):
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
            raise InvalidState("only a delivery that was given up can be redelivered")
        self._record(DeliveryRequeued(delivery_id=self.delivery_id, by=by, due_at=now))

    def _pending(self) -> None:
        if self.status != "pending":
            raise InvalidState(f"the delivery is {self.status}")

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


class Bulletin(Aggregate):
    def blank(self) -> None:
        self.issued = False

    def issue(
        self,
        *,
        bulletin_id: str,
        township_id: str,
        county_id: str,
        period: str,
        regular: bool,
        title: str,
        issued_on: date,
        note: str,
        branches: tuple[BranchRecord, ...],
    ) -> bool:
        """A bulletin is issued once per stream (a month's regular one stays unique)."""
        if self.issued:
            return False
        self._record(
            BulletinIssued(
                bulletin_id=bulletin_id,
                township_id=township_id,
                county_id=county_id,
                period=period,
                regular=regular,
                title=title,
                issued_on=issued_on,
                note=note,
                branches=branches,
            )
        )
        return True

    def apply(self, event: DomainEvent) -> None:
        match event:
            case BulletinIssued():
                self.issued = True
