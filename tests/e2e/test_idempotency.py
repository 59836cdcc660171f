"""Architecture invariant 7: a retried request returns the first result, appends nothing."""

from __future__ import annotations

from tests.e2e.conftest import RunningService
from tests.e2e.helpers import Directory, ok
from tests.support import Servers


async def test_a_retried_command_returns_the_first_result_and_appends_nothing(
    servers: Servers,
    pledge_service: RunningService,
) -> None:
    c, pool = pledge_service.client, pledge_service.runtime.pool
    d = await Directory(c, servers).build()
    headers = {**d.office, "Idempotency-Key": "enrol-wang-1"}
    body = {"branch_id": d.branch, "name": "王德明", "post": "治沙造林责任岗", "duties": "压沙"}
    before = await pool.fetchval("SELECT count(*) FROM events")
    first = ok(await c.post("/v1/members", json=body, headers=headers), 201)
    again = ok(await c.post("/v1/members", json=body, headers=headers), 201)
    assert again == first
    assert await pool.fetchval("SELECT count(*) FROM events") == before + 1

    # the same key for a different request is refused, and appends nothing
    reused = await c.post("/v1/members", json={**body, "name": "赵丽华"}, headers=headers)
    assert reused.status_code == 422
    assert reused.json()["type"] == "urn:gongkai:problem:idempotency-key-reused"
    assert await pool.fetchval("SELECT count(*) FROM events") == before + 1

    # another caller's key space is separate
    other = {
        **d.as_("township_office", d.township, "another-clerk"),
        "Idempotency-Key": "enrol-wang-1",
    }
    ok(await c.post("/v1/members", json=body, headers=other), 201)
    assert await pool.fetchval("SELECT count(*) FROM events") == before + 2


async def test_a_stale_write_is_retried_on_the_new_state_not_lost(
    servers: Servers,
    pledge_service: RunningService,
) -> None:
    """Concurrent commands on one stream: optimistic concurrency, then a retry decides
    again on the new state, so none is silently overwritten."""
    import asyncio

    c = pledge_service.client
    d = await Directory(c, servers).build()
    pledge = ok(
        await c.post(
            "/v1/pledges", json={"year": 2027, "branch_id": d.branch}, headers=d.branch_secretary
        ),
        201,
    )["id"]
    answers = await asyncio.gather(
        *(
            c.post(
                f"/v1/pledges/{pledge}/opinions",
                json={"channel": "talk", "gathered_on": "2027-01-02", "summary": f"意见{i}"},
                headers=d.branch_secretary,
            )
            for i in range(8)
        )
    )
    assert all(a.status_code in (201, 409) for a in answers)
    accepted = [a.json()["opinion_id"] for a in answers if a.status_code == 201]
    assert accepted, "a command that lost a race is decided again, so some must get through"
    assert len(set(accepted)) == len(accepted)
    opinions = ok(await c.get(f"/v1/pledges/{pledge}", headers=d.branch_secretary))["opinions"]
    assert sorted(o["opinion_id"] for o in opinions) == sorted(accepted)
