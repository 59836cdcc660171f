"""A3: the main reads accept `as_of` and answer as the state stood then."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from tests.e2e.helpers import Directory, item, ok
from tests.support import RunningService, Servers


async def test_reads_as_of_a_past_moment(servers: Servers, pledge_service: RunningService) -> None:
    c, clock = pledge_service.client, pledge_service.clock
    d = await Directory(c, servers).build()  # at 2027-01-04 02:00 UTC
    clock.set(datetime(2027, 2, 1, 2, 0, tzinfo=UTC))
    ok(
        await c.post(
            "/v1/members",
            json={
                "branch_id": d.branch,
                "name": "王德明",
                "post": "治沙造林责任岗",
                "duties": "压沙",
            },
            headers=d.office,
        ),
        201,
    )
    pledge = ok(
        await c.post(
            "/v1/pledges", json={"year": 2027, "branch_id": d.branch}, headers=d.branch_secretary
        ),
        201,
    )["id"]
    [only] = ok(
        await c.post(
            f"/v1/pledges/{pledge}/proposal",
            json={"basis": "实施方案", "items": [item("压沙造林500亩", category="治沙造林")]},
            headers=d.branch_secretary,
        )
    )["item_ids"]
    ok(
        await c.post(
            f"/v1/pledges/{pledge}/items/{only}/review",
            json={
                "shows_advanced_standard": True,
                "matches_wishes": True,
                "feasible": True,
                "decision": "approve",
            },
            headers=d.committee,
        )
    )
    clock.set(datetime(2027, 3, 1, 2, 0, tzinfo=UTC))
    ok(await c.post(f"/v1/pledges/{pledge}/publication", headers=d.branch_secretary))

    now = ok(await c.get(f"/v1/branches/{d.branch}"))
    then = ok(await c.get(f"/v1/branches/{d.branch}", params={"as_of": "2027-01-10T00:00:00Z"}))
    assert len(now["members"]) == 3
    assert len(then["members"]) == 2
    assert ok(await c.get("/v1/ledger"))["total"] == 1
    assert ok(await c.get("/v1/ledger", params={"as_of": "2027-02-15T00:00:00Z"}))["total"] == 0
    february = ok(
        await c.get(
            f"/v1/pledges/{pledge}", headers=d.office, params={"as_of": "2027-02-15T00:00:00Z"}
        )
    )
    assert february["status"] == "approved"
    assert ok(await c.get(f"/v1/pledges/{pledge}"))["status"] == "published"
    bad = await c.get("/v1/ledger", params={"as_of": "last tuesday"})
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["field"] == "as_of"

    # past states were built by this code: when the read models' definition changes (a new
    # release), they are built again on demand, never read from the old definition's tables
    pool = pledge_service.runtime.pool
    snapshots = "SELECT count(*) FROM pg_namespace WHERE nspname LIKE 'asof\\_%'"
    assert await pool.fetchval(snapshots) > 0
    models = pledge_service.runtime.definition.read_models
    await replace(models, version=models.version + "-next").ensure(pool)
    assert await pool.fetchval(snapshots) == 0
    await models.ensure(pool)  # and back to the running code's definition
    assert ok(await c.get("/v1/ledger", params={"as_of": "2027-02-15T00:00:00Z"}))["total"] == 0
