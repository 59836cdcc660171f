"""Helpers for the notification service's end-to-end tests: the pledge and notification
services running together, the review and evaluation services' voices (publishing their
contract events exactly as they will), and a county built over the pledge API."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, date, datetime, timedelta
from typing import Any

import asyncpg
from nats.js.api import Header

from services.notification.app import DEFINITION as NOTIFICATION
from services.pledge.app import DEFINITION as PLEDGE
from shared.clock import FixedClock
from shared.events import DomainEvent
from shared.eventstore import AppendRequest, CommandContext, InMemoryEventStore
from shared.messaging import Subjects, connect, ensure_stream
from tests.e2e.helpers import Directory, eventually, item, ok
from tests.support import RunningService, Servers, running

CRITERIA = {"shows_advanced_standard": True, "matches_wishes": True, "feasible": True}


@asynccontextmanager
async def pledge_and_notification(
    servers: Servers, start: datetime | None = None
) -> AsyncIterator[tuple[RunningService, RunningService]]:
    clock = FixedClock(start or datetime(2027, 1, 4, 2, 0, tzinfo=UTC))
    async with running(servers, [PLEDGE, NOTIFICATION], clock) as services:
        yield services["pledge"], services["notification"]


async def directory_on_board(notification: RunningService, d: Directory) -> None:
    """Wait until the directory's events have reached the board (the branch has its page)."""

    async def arrived() -> bool:
        return (await notification.client.get(f"/branches/{d.branch}")).status_code == 200

    await eventually(arrived)


def morning(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 1, 0, tzinfo=UTC)  # 09:00 in China


async def notices_of(pool: asyncpg.Pool, recipient: str, deadline: str) -> list[tuple[str, date]]:
    """The notices a recipient was sent for a deadline: kind and day issued (China time)."""
    rows = await pool.fetch(
        "SELECT kind, issued_at FROM notices WHERE recipient = $1 AND deadline_id = $2"
        " ORDER BY issued_at",
        recipient,
        deadline,
    )
    china = timedelta(hours=8)
    return [(r["kind"], (r["issued_at"] + china).date()) for r in rows]


# --- the review and evaluation services' contract events (as they will publish them) ------


class ReviewRecorded(DomainEvent):
    aggregate_type = "review"
    review_id: str
    township_id: str
    branch_id: str
    subject_kind: str
    subject_id: str
    subject_name: str
    reviewer_id: str
    reviewer_name: str
    occasion: str
    quarter: str
    held_on: date


class ReviewCorrected(ReviewRecorded):
    """A correction is a new review that replaces an earlier one."""

    corrects_review_id: str


class JournalEntryRecorded(DomainEvent):
    aggregate_type = "journal"
    entry_id: str
    township_id: str
    branch_id: str
    member_id: str
    month: str


class GuidanceVisitRecorded(DomainEvent):
    aggregate_type = "visit"
    visit_id: str
    township_id: str
    branch_id: str
    cadre_id: str
    cadre_name: str
    visited_on: date
    summary: str


class RoundResultsPublished(DomainEvent):
    aggregate_type = "round"
    round_id: str
    township_id: str
    title: str
    published_on: date
    results: list[dict[str, Any]]


class RatingResultsPublished(DomainEvent):
    aggregate_type = "rating"
    rating_id: str
    township_id: str
    branch_id: str | None
    period: str
    level: str
    published_on: date
    results: list[dict[str, Any]]


class CommendationIssued(DomainEvent):
    aggregate_type = "selection"
    selection_id: str
    township_id: str
    year: int
    title: str
    issued_on: date
    awardees: list[dict[str, Any]]


class ServiceStandIn:
    """Publishes events exactly as `service` will: enveloped, hash-chained, CloudEvents
    headers and Nats-Msg-Id, on the service's stream."""

    def __init__(
        self,
        service: str,
        nats_url: str,
        subjects: Subjects,
        store: InMemoryEventStore | None = None,
    ) -> None:
        self.service = service
        self.nats_url = nats_url
        self.subjects = subjects
        # one store per service: its partitions' sequences must not restart
        self.store = store or InMemoryEventStore(source=f"/gongkai/{service}")

    async def publish(self, stream_id: str, township_id: str, event: DomainEvent) -> str:
        version = len(await self.store.read_stream(stream_id))
        [envelope] = await self.store.append(
            AppendRequest(
                stream_id,
                township_id,
                version,
                [event],
                CommandContext(actor=f"service:{self.service}", role="integration"),
            )
        )
        nc = await connect(self.nats_url, name=f"{self.service}-stand-in")
        try:
            js = nc.jetstream()
            await ensure_stream(js, self.service, self.subjects)
            await js.publish(
                self.subjects.of(self.service, envelope),
                envelope.data_bytes(),
                headers=envelope.headers() | {Header.MSG_ID: envelope.id},
            )
        finally:
            await nc.close()
        return envelope.id


# --- a county with published pledges, over the pledge API ---------------------------------


async def publish_pledge(
    pledge: RunningService, d: Directory, titles: list[str], member: bool = False
) -> tuple[str, list[str]]:
    c = pledge.client
    who = d.the_member if member else d.branch_secretary
    body: dict[str, Any] = {"year": 2027, "branch_id": d.branch}
    if member:
        body["member_id"] = d.member
    pledge_id = ok(await c.post("/v1/pledges", json=body, headers=who), 201)["id"]
    items = ok(
        await c.post(
            f"/v1/pledges/{pledge_id}/proposal",
            json={"basis": "年度目标责任书", "items": [item(t) for t in titles]},
            headers=who,
        )
    )["item_ids"]
    for item_id in items:
        ok(
            await c.post(
                f"/v1/pledges/{pledge_id}/items/{item_id}/review",
                json={**CRITERIA, "decision": "approve"},
                headers=d.committee,
            )
        )
    ok(await c.post(f"/v1/pledges/{pledge_id}/publication", headers=d.branch_secretary))
    return pledge_id, items


async def pass_checks(pledge: RunningService, d: Directory, pledge_id: str, item_id: str) -> None:
    """The item is reported done, solved and verified; the public's verdict comes next."""
    c = pledge.client
    base = f"/v1/pledges/{pledge_id}/items/{item_id}"
    ok(await c.post(f"{base}/done", json={"summary": "已完成"}, headers=d.branch_secretary))
    ok(await c.post(f"{base}/problem-solved", json={"note": "支渠已通水"}, headers=d.office))
    ok(
        await c.post(
            f"{base}/implementation-verified", json={"note": "实地核查到位"}, headers=d.office
        )
    )
