"""Helpers for the review service's end-to-end tests: the pledge and review services running
together on one NATS subject root, and request bodies."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any
from uuid import uuid4

from services.identity.events import PostSource, PostStarted
from services.pledge.app import DEFINITION as PLEDGE
from services.review.app import DEFINITION as REVIEW
from services.review.events import DIMENSIONS, SubjectKind
from shared.clock import FixedClock
from tests.e2e.helpers import Directory, eventually, item, ok
from tests.e2e.notification_helpers import ServiceStandIn
from tests.support import RunningService, Servers, running

Headers = dict[str, str]

START = datetime(2027, 1, 4, 2, 0, tzinfo=UTC)  # 10:00 in China, Monday of 2027's first week


@asynccontextmanager
async def pledge_and_review(
    servers: Servers, start: datetime = START
) -> AsyncIterator[tuple[RunningService, RunningService]]:
    async with running(servers, [PLEDGE, REVIEW], FixedClock(start)) as services:
        yield services["pledge"], services["review"]


async def synced(pledge: RunningService, review: RunningService) -> None:
    """Wait until the review service has consumed every event the pledge service logged."""

    async def caught_up() -> bool:
        logged = await pledge.runtime.pool.fetchval("SELECT count(*) FROM events")
        kept = await review.runtime.pool.fetchval(
            "SELECT count(*) FROM inbox WHERE source = 'pledge'"
        )
        return bool(logged == kept)

    await eventually(caught_up, timeout=20)


async def seats_copied(review: RunningService, township_id: str, *people: str) -> None:
    """Wait until the review service has copied each person's seat on the township's
    committee (the identity service's posts, R1: only they may be assigned to branches)."""

    async def copied() -> bool:
        found = await review.runtime.pool.fetchval(
            "SELECT count(*) FROM committee_seats"
            " WHERE township_id = $1 AND person_id = ANY($2::text[])",
            township_id,
            list(people),
        )
        return bool(found == len(people))

    await eventually(copied, timeout=20)


async def seated(review: RunningService, servers: Servers, township_id: str, *people: str) -> None:
    """Each person on the township's committee, where the identity service does not run: its
    `PostStarted` published by a stand-in (a partition of its own each call), then copied."""
    identity = ServiceStandIn("identity", servers.nats.url, review.subjects)
    partition = f"seats-{uuid4().hex[:8]}"
    for person_id in people:
        post = PostStarted(
            person_id=person_id,
            role="township_committee",
            org=township_id,
            at=START,
            source=PostSource.GRANT,
            by="county-admin",
            reason="任命",
        )
        await identity.publish(f"person-{person_id}", partition, post)
    await seats_copied(review, township_id, *people)


def assessments(kind: str, grade: str = "qualified") -> dict[str, Any]:
    return {
        d.value: {"grade": grade, "comment": f"{d.value}: 表现较好"}
        for d in DIMENSIONS[SubjectKind(kind)]
    }


def review_body(kind: str, subject_id: str, held_on: str, **extra: Any) -> dict[str, Any]:
    return {
        "subject_kind": kind,
        "subject_id": subject_id,
        "occasion": "organisation_life_meeting",
        "held_on": held_on,
        "achievements": "节水改造按期推进, 群众认可",
        "shortcomings": "宣传发动不够, 参与面不广",
        "direction": "多开院坝会, 把四笔账算到户",
        "assessments": assessments(kind),
        **extra,
    }


def correction_body(kind: str, held_on: str, **extra: Any) -> dict[str, Any]:
    body = review_body(kind, "x", held_on, reason="记录有误, 予以更正", **extra)
    del body["subject_kind"], body["subject_id"]
    return body


async def publish_branch_pledge(pledge: RunningService, d: Any) -> str:
    """The branch's 2027 pledge with two items, approved and published."""
    c = pledge.client
    pledge_id = ok(
        await c.post(
            "/v1/pledges", json={"year": 2027, "branch_id": d.branch}, headers=d.branch_secretary
        ),
        201,
    )["id"]
    item_ids = ok(
        await c.post(
            f"/v1/pledges/{pledge_id}/proposal",
            json={"basis": "年度目标责任书", "items": [item("改造支渠3公里"), item("推广滴灌")]},
            headers=d.branch_secretary,
        )
    )["item_ids"]
    approve = {
        "shows_advanced_standard": True,
        "matches_wishes": True,
        "feasible": True,
        "decision": "approve",
    }
    for item_id in item_ids:
        ok(
            await c.post(
                f"/v1/pledges/{pledge_id}/items/{item_id}/review", json=approve, headers=d.committee
            )
        )
    ok(await c.post(f"/v1/pledges/{pledge_id}/publication", headers=d.branch_secretary))
    return str(pledge_id)


class ReviewWorld:
    """Pledge and review services with a directory (`tests.e2e.helpers.Directory` plus a
    second branch and a township head), copied into the review service; one review of the
    member and one journal entry of the member, to correct and present."""

    head = "head-hsl"

    def __init__(self, pledge: RunningService, review: RunningService, d: Directory) -> None:
        self.pledge, self.review, self.d = pledge, review, d
        self.other_branch = self.other_secretary_id = self.review_id = self.entry_id = ""

    @classmethod
    async def build(
        cls, pledge: RunningService, review: RunningService, servers: Servers
    ) -> ReviewWorld:
        d = await Directory(pledge.client, servers).build()
        w = cls(pledge, review, d)
        c = pledge.client
        ok(
            await c.post(
                f"/v1/townships/{d.township}/head",
                json={"person_id": cls.head, "name": "红沙梁镇党委书记"},
                headers=d.as_("county_admin", d.county),
            )
        )
        w.other_branch = ok(
            await c.post(
                "/v1/branches",
                json={"township_id": d.township, "name": "东风村党支部", "kind": "village"},
                headers=d.office,
            ),
            201,
        )["id"]
        w.other_secretary_id = ok(
            await c.post(
                "/v1/members",
                json={
                    "branch_id": w.other_branch,
                    "name": "陈立新",
                    "post": "书记",
                    "duties": "全面",
                },
                headers=d.office,
            ),
            201,
        )["id"]
        ok(
            await c.post(
                f"/v1/branches/{w.other_branch}/secretary",
                json={"member_id": w.other_secretary_id},
                headers=d.office,
            )
        )
        await synced(pledge, review)
        w.review_id = ok(
            await review.client.post(
                "/v1/reviews",
                json=review_body("member", d.member, "2027-01-04"),
                headers=d.branch_secretary,
            ),
            201,
        )["id"]
        w.entry_id = ok(
            await review.client.post(
                f"/v1/members/{d.member}/journal/2027-01/entries",
                json=entry_body(),
                headers=d.the_member,
            ),
            201,
        )["id"]
        return w

    def as_(self, role: str, org: str | None = None, subject: str | None = None) -> Headers:
        return self.d.as_(role, org, subject)

    @property
    def other_secretary(self) -> Headers:
        return self.as_("branch_secretary", self.other_branch, self.other_secretary_id)

    @property
    def head_by_subject(self) -> Headers:
        return self.as_("township_committee", None, self.head)


def entry_body(**extra: Any) -> dict[str, Any]:
    return {
        "recorded_on": "2027-01-04",
        "work_content": "入户宣讲节水政策",
        "duty_performance": "走访五户, 解答问题八个",
        **extra,
    }
