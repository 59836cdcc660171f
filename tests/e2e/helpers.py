"""Helpers for end-to-end tests: a running pledge service and the evaluation service's voice."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

import httpx
from nats.js.api import Header

from services.evaluation.checks.events import SatisfactionVerdictReached
from shared.eventstore import AppendRequest, CommandContext, InMemoryEventStore
from shared.messaging import Subjects, connect, ensure_stream
from tests.support import RunningService


def ok(response: httpx.Response, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()


async def event_count(service: RunningService) -> int:
    """How many events the service's log holds (a refused request appends none)."""
    count: int = await service.runtime.pool.fetchval("SELECT count(*) FROM events")
    return count


async def eventually(check: Callable[[], Awaitable[bool]], timeout: float = 15.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not await check():
        assert asyncio.get_running_loop().time() < deadline, "condition not reached in time"
        await asyncio.sleep(0.1)


class EvaluationStandIn:
    """Publishes SatisfactionVerdictReached exactly as the evaluation service will:
    an enveloped, hash-chained event, CloudEvents headers, Nats-Msg-Id, on its stream."""

    def __init__(self, nats_url: str, subjects: Subjects) -> None:
        self.nats_url = nats_url
        self.subjects = subjects
        self.store = InMemoryEventStore(source="/gongkai/evaluation")

    async def verdict(
        self,
        *,
        pledge_id: str,
        item_id: str,
        township_id: str,
        satisfied: int,
        ballots: int,
        threshold: float = 0.8,
        at: datetime | None = None,
    ) -> str:
        rate = satisfied / ballots
        event = SatisfactionVerdictReached(
            check_id=f"c-{item_id}",
            pledge_id=pledge_id,
            item_id=item_id,
            township_id=township_id,
            verdict="satisfied" if rate >= threshold else "dissatisfied",
            satisfaction_rate=rate,
            ballots=ballots,
            threshold=threshold,
        )
        [envelope] = await self.store.append(
            AppendRequest(
                f"satisfaction_check-c-{item_id}",
                township_id,
                0,
                [event],
                CommandContext(actor="service:evaluation", role="integration"),
            )
        )
        nc = await connect(self.nats_url, name="evaluation-stand-in")
        try:
            js = nc.jetstream()
            await ensure_stream(js, "evaluation", self.subjects)
            await js.publish(
                self.subjects.of("evaluation", envelope),
                envelope.data_bytes(),
                headers=envelope.headers() | {Header.MSG_ID: envelope.id},
            )
        finally:
            await nc.close()
        return envelope.id


class Directory:
    """A small county built over HTTP: one township, one village branch, a secretary and a
    member; tokens for every role."""

    county = "minqin"

    def __init__(self, client: httpx.AsyncClient, servers: Any) -> None:
        self.client = client
        self.servers = servers

    def as_(self, role: str, org: str | None = None, subject: str | None = None) -> dict[str, str]:
        headers: dict[str, str] = self.servers.auth(role, org, subject)
        return headers

    async def draft_branch_pledge(self, year: int = 2027) -> str:
        """The branch secretary starts the branch's pledge for `year`; its id."""
        body = {"year": year, "branch_id": self.branch}
        response = await self.client.post("/v1/pledges", json=body, headers=self.branch_secretary)
        return str(ok(response, 201)["id"])

    async def build(self) -> Directory:
        c, admin = self.client, self.as_("county_admin", self.county)
        ok(
            await c.post(
                "/v1/counties", json={"county_id": self.county, "name": "民勤县"}, headers=admin
            ),
            201,
        )
        self.township = ok(
            await c.post(
                f"/v1/counties/{self.county}/townships", json={"name": "红沙梁镇"}, headers=admin
            ),
            201,
        )["id"]
        self.other_township = ok(
            await c.post(
                f"/v1/counties/{self.county}/townships", json={"name": "苏武镇"}, headers=admin
            ),
            201,
        )["id"]
        office = self.office
        self.branch = ok(
            await c.post(
                "/v1/branches",
                json={
                    "township_id": self.township,
                    "name": "红沙梁村党支部",
                    "kind": "village",
                    "village": "红沙梁村",
                },
                headers=office,
            ),
            201,
        )["id"]
        self.secretary = ok(
            await c.post(
                "/v1/members",
                json={
                    "branch_id": self.branch,
                    "name": "张建国",
                    "post": "支部书记",
                    "duties": "主持支部全面工作",
                    "leadership_team": True,
                },
                headers=office,
            ),
            201,
        )["id"]
        self.member = ok(
            await c.post(
                "/v1/members",
                json={
                    "branch_id": self.branch,
                    "name": "李秀英",
                    "post": "节水灌溉示范岗",
                    "duties": "推广滴灌技术, 带动十户节水增收",
                },
                headers=office,
            ),
            201,
        )["id"]
        ok(
            await c.post(
                f"/v1/branches/{self.branch}/secretary",
                json={"member_id": self.secretary},
                headers=office,
            )
        )
        return self

    @property
    def office(self) -> dict[str, str]:
        return self.as_("township_office", self.township)

    @property
    def committee(self) -> dict[str, str]:
        return self.as_("township_committee", self.township)

    @property
    def branch_secretary(self) -> dict[str, str]:
        return self.as_("branch_secretary", self.branch, self.secretary)

    @property
    def the_member(self) -> dict[str, str]:
        return self.as_("member", self.branch, self.member)


def item(
    title: str,
    category: str = "节水增收先锋",
    due: str = "2027-10-31",
    shaped_by: tuple[str, ...] = (),
) -> dict[str, Any]:
    return {
        "title": title,
        "description": f"{title}: 具体措施与步骤",
        "category": category,
        "target": "完成率100%",
        "due_date": due,
        "shaped_by": list(shaped_by),
    }
