"""D2: another service's copy of the directory, from the pledge service's events over NATS,
equals the pledge service's own directory, moves and retirements included."""

from __future__ import annotations

import asyncio

import asyncpg

from shared.directory import DIRECTORY_DDL, project_directory
from shared.envelope import EventEnvelope
from shared.projections import ReadModels
from shared.subscriptions import Subscription, SubscriptionRunner
from tests.e2e.helpers import Directory, eventually, ok
from tests.support import RunningService, Servers, fresh_log_database, rebuilt_as_live

MEMBERS = (
    "SELECT member_id, branch_id, township_id, name, post, leadership_team, active"
    " FROM {} ORDER BY member_id"
)
BRANCHES = "SELECT branch_id, township_id, name, kind, secretary_id, active FROM {} ORDER BY 1"


async def test_a_consumer_keeps_an_exact_copy_of_the_directory(
    servers: Servers,
    pledge_service: RunningService,
) -> None:
    c, runtime = pledge_service.client, pledge_service.runtime
    d = await Directory(c, servers).build()
    other = ok(
        await c.post(
            "/v1/branches",
            json={"township_id": d.other_township, "name": "羊路村党支部", "kind": "village"},
            headers=d.as_("township_office", d.other_township),
        ),
        201,
    )["id"]
    ok(
        await c.post(
            f"/v1/members/{d.member}/transfer", json={"branch_id": other}, headers=d.office
        )
    )
    # the member's stream continues in the new township: its events stay in order (D3)
    new_post = {"post": "水权管理岗", "duties": "配水到户", "leadership_team": False}
    other_office = d.as_("township_office", d.other_township)
    ok(await c.post(f"/v1/members/{d.member}/post", json=new_post, headers=other_office))
    ok(
        await c.post(
            f"/v1/members/{d.secretary}/retirement",
            json={"reason": "年龄原因退休"},
            headers=d.office,
        )
    )

    async def project(conn: asyncpg.Connection, envelope: EventEnvelope) -> None:
        await project_directory(conn, envelope)

    copy = ReadModels(ddl=DIRECTORY_DDL, project=project)
    pool, _ = await fresh_log_database(servers, "consumer")
    await copy.ensure(pool)
    assert runtime.js is not None
    runner = SubscriptionRunner(
        pool,
        runtime.js,
        Subscription("consumer", "pledge"),
        pledge_service.subjects,
        project=copy.project,
    )
    task = asyncio.create_task(runner.run())
    try:
        expected_members = [tuple(r) for r in await runtime.pool.fetch(MEMBERS.format("members"))]

        async def same() -> bool:
            rows = await pool.fetch(MEMBERS.format("dir_members"))
            return [tuple(r) for r in rows] == expected_members

        await eventually(same, timeout=20)
    finally:
        runner.stop()
        await task
    assert [tuple(r) for r in await pool.fetch(BRANCHES.format("dir_branches"))] == [
        tuple(r) for r in await runtime.pool.fetch(BRANCHES.format("branches"))
    ]
    moved = await pool.fetchrow(
        "SELECT township_id, active FROM dir_members WHERE member_id = $1", d.member
    )
    assert tuple(moved) == (d.other_township, True)
    changes = sorted(  # one fixed clock: both at the same instant
        r["change"]
        for r in await pool.fetch("SELECT change FROM dir_history WHERE subject_id = $1", d.member)
    )
    assert changes == ["MemberEnrolled", "MemberPostAssigned", "MemberTransferred"]
    await rebuilt_as_live(pool, copy)
    await pool.close()
