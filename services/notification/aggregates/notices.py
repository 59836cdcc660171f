"""Reminders and overdue notices (N3, P6). A DeadlineNotices stream per (county, year,
deadline, township) remembers which notices it issued, so each reminder and each overdue
notice goes out exactly once, however often the scheduler runs. Pure; no I/O.

Who is responsible for a deadline and has not done it yet is read from the read models
(queries.py), which hold only what the other services published: this decides whom to remind
and what the notice says, never whether a pledge, review or score is right.
"""

from __future__ import annotations

from services.notification.events import Deadline, NoticeIssued, NoticeKind, NoticeRead
from shared import zh
from shared.aggregate import Aggregate
from shared.events import DomainEvent

Recipient = tuple[str, str]  # (address, what is missing)

SETTLED_BY = "service:notification"  # the reader of a notice settled by what happened

NAMED = 10  # a notice names this many of what its recipient is missing, then counts the rest


def office(township_id: str) -> str:
    return f"township_office:{township_id}"


def township_reviewer(township_id: str, head_id: str | None) -> str:
    """R1: the head of the upper-level organisation reviews a branch and its leadership team:
    the township head the directory names (their own inbox), else the township committee's."""
    return head_id or f"township_committee:{township_id}"


def grouped(found: list[Recipient]) -> list[Recipient]:
    """One notice per recipient, naming everything it is missing, in the order found."""
    missing: dict[str, list[str]] = {}
    for recipient, what in found:
        missing.setdefault(recipient, []).append(what)
    return [
        (r, "、".join(m[:NAMED]) + (f"等{len(m)}个对象" if len(m) > NAMED else ""))
        for r, m in missing.items()
    ]


def notice_text(deadline: Deadline, kind: NoticeKind, missing: str) -> tuple[str, str]:
    if kind is NoticeKind.REMINDER:
        return (
            f"【提醒】{deadline.title}",
            f"{missing}: 请于{zh.day(deadline.due_on)}前完成{deadline.title}。",
        )
    if kind is NoticeKind.RETURNED:
        return (
            f"【退回修改】{deadline.title}",
            f"{missing}被退回修改：请按审核意见修改后，于{zh.day(deadline.due_on)}前重新提交。",
        )
    return (
        f"【逾期】{deadline.title}",
        f"{missing}: {deadline.title}已于{zh.day(deadline.due_on)}截止, 尚未完成, 请尽快办理。",
    )


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

    def settle(self, notice_id: str) -> None:
        """A notice whose work is done (the round it chased closed, the returned pledge
        resubmitted): marked read by this service, so it no longer waits in 待办."""
        self.mark_read(notice_id, SETTLED_BY)

    def mark_read(self, notice_id: str, reader: str) -> None:
        if notice_id not in self.read:
            self._record(NoticeRead(notice_id=notice_id, reader=reader))

    def apply(self, event: DomainEvent) -> None:
        match event:
            case NoticeIssued():
                self.issued.add((event.kind, event.recipient))
            case NoticeRead():
                self.read.add(event.notice_id)
