"""Helpers for the evaluation service's end-to-end tests: the pledge and evaluation services
running together over NATS, a directory built over the pledge API, a published pledge."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

from services.evaluation.app import DEFINITION as EVALUATION
from services.pledge.app import DEFINITION as PLEDGE
from shared.clock import FixedClock
from shared.database import READ_SCHEMA
from tests.e2e.helpers import Directory, eventually, item, ok
from tests.support import RunningService, Servers, running

START = datetime(2027, 3, 1, 2, 0, tzinfo=UTC)  # 10:00 in China
APPROVE = {
    "shows_advanced_standard": True,
    "matches_wishes": True,
    "feasible": True,
    "decision": "approve",
}


@asynccontextmanager
async def pledge_and_evaluation(
    servers: Servers, start: datetime = START
) -> AsyncIterator[tuple[RunningService, RunningService, FixedClock]]:
    clock = FixedClock(start)
    async with running(servers, [PLEDGE, EVALUATION], clock) as services:
        yield services["pledge"], services["evaluation"], clock


async def directory_copied(evaluation: RunningService, d: Directory) -> None:
    """Wait until the evaluation service's directory copy has the directory's members and
    the branch's secretary."""

    async def has_it() -> bool:
        found = await evaluation.runtime.pool.fetchval(
            "SELECT count(*) FROM dir_members WHERE member_id = ANY($1::text[])",
            [d.member, d.secretary],
        )
        secretary = await evaluation.runtime.pool.fetchval(
            "SELECT secretary_id FROM dir_branches WHERE branch_id = $1", d.branch
        )
        return bool(found == 2 and secretary == d.secretary)

    await eventually(has_it, timeout=20)


async def published_branch_pledge(pledge: RunningService, d: Directory, *titles: str) -> Any:
    """The branch's 2027 pledge with these items, approved and published; (pledge, item ids)."""
    c = pledge.client
    pledge_id = ok(
        await c.post(
            "/v1/pledges", json={"year": 2027, "branch_id": d.branch}, headers=d.branch_secretary
        ),
        201,
    )["id"]
    body = {"basis": "年度目标责任书", "items": [item(t) for t in titles]}
    item_ids = ok(
        await c.post(f"/v1/pledges/{pledge_id}/proposal", json=body, headers=d.branch_secretary)
    )["item_ids"]
    for item_id in item_ids:
        ok(
            await c.post(
                f"/v1/pledges/{pledge_id}/items/{item_id}/review", json=APPROVE, headers=d.committee
            )
        )
    ok(await c.post(f"/v1/pledges/{pledge_id}/publication", headers=d.branch_secretary))
    return pledge_id, item_ids


async def check_of_a_finished_item(
    pledge: RunningService, evaluation: RunningService, d: Directory, title: str
) -> tuple[str, str]:
    """A published branch item done, its problem solved and its implementation verified by
    the office: its satisfaction check opens (E8). (The item, the open check's id.)"""
    pledge_id, [item_id] = await published_branch_pledge(pledge, d, title)
    p, item = pledge.client, f"/v1/pledges/{pledge_id}/items/{item_id}"
    ok(await p.post(f"{item}/done", json={"summary": "已完成"}, headers=d.branch_secretary))
    ok(await p.post(f"{item}/problem-solved", json={"note": "已解决"}, headers=d.office))
    verified = {"note": "核查到位"}
    ok(await p.post(f"{item}/implementation-verified", json=verified, headers=d.office))
    found: list[dict[str, str]] = []

    async def opened() -> bool:
        asked = await evaluation.client.get("/v1/satisfaction-checks", params={"item_id": item_id})
        found[:] = ok(asked)
        return bool(found)

    await eventually(opened, timeout=20)
    return item_id, found[0]["check_id"]


async def township_round(evaluation: RunningService, d: Directory) -> str:
    """A round of the township's office opened on START, no raters yet; the round's path."""
    opening = {"title": "2027年上半年群众评议", "year": 2027, "half": 1}
    opening |= {"township_id": d.township, "opens_on": "2027-03-01"}
    opened = await evaluation.client.post("/v1/rounds", json=opening, headers=d.office)
    return f"/v1/rounds/{ok(opened, 201)['id']}"


async def round_of_members(evaluation: RunningService, d: Directory) -> str:
    """A branch round of the township opened on START, the member and the secretary its
    raters; the round's path."""
    e = evaluation.client
    path = await township_round(evaluation, d)
    entries = [{"kind": "township_member", "member_id": m} for m in (d.member, d.secretary)]
    ok(await e.post(f"{path}/raters", json={"raters": entries}, headers=d.office), 201)
    return path


def rater(servers: Servers, scope_id: str, rater_id: str) -> dict[str, str]:
    """A public rater's token: issued for one round or check."""
    headers: dict[str, str] = servers.auth("rater", scope_id, rater_id)
    return headers


async def caught_up(pledge: RunningService, evaluation: RunningService) -> None:
    """Wait until the evaluation service has consumed every pledge event (its inbox holds
    them all), so its read models are settled, e.g. before comparing them with a rebuild."""

    async def settled() -> bool:
        published = await pledge.runtime.pool.fetchval("SELECT count(*) FROM events")
        consumed = await evaluation.runtime.pool.fetchval(
            "SELECT count(*) FROM inbox WHERE source = 'pledge'"
        )
        return bool(published == consumed)

    await eventually(settled, timeout=30)


async def read_model_rows(evaluation: RunningService) -> bytes:
    """Every row of every read-model table, live and built for `as_of` reads (A3), as
    PostgreSQL writes it out: to look for what a read model must not hold, e.g. personal
    data in the clear (A7)."""
    found: list[str] = []
    async with evaluation.runtime.pool.acquire() as conn:
        tables = await conn.fetch(
            "SELECT schemaname, tablename FROM pg_tables"
            " WHERE schemaname = $1 OR schemaname LIKE 'asof\\_%' ORDER BY 1, 2",
            READ_SCHEMA,
        )
        for schema, table in tables:
            rows = await conn.fetch(f'SELECT t::text AS row FROM "{schema}"."{table}" t')
            found += [f"{schema}.{table}: {r['row']}" for r in rows]
    return "\n".join(found).encode()
