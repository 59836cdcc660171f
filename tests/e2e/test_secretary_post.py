"""X1: a branch secretary's token speaks for the branch only while its holder holds the post.
A secretary replaced loses the post at once, not when the token expires (every service
checks the holder against its directory, shared/http.py)."""

from __future__ import annotations

from shared.testing import RunningService, Servers
from tests.e2e.helpers import Directory, event_count, ok


async def test_a_replaced_secretary_is_refused_at_once(
    servers: Servers, pledge_service: RunningService
) -> None:
    c = pledge_service.client
    d = await Directory(c, servers).build()
    former = d.branch_secretary  # a token still valid for hours
    draft = {"year": 2027, "branch_id": d.branch}
    assert (await c.get(f"/v1/branches/{d.branch}", headers=former)).status_code == 200

    ok(
        await c.post(
            f"/v1/branches/{d.branch}/secretary", json={"member_id": d.member}, headers=d.office
        )
    )
    before = await event_count(pledge_service)
    for headers in (former, d.as_("branch_secretary", d.branch, "m-nobody")):
        refused = await c.post("/v1/pledges", json=draft, headers=headers)
        assert refused.status_code == 403, refused.text
        assert refused.json()["detail"].endswith(f"is not the secretary of branch {d.branch}")
    assert await event_count(pledge_service) == before

    successor = d.as_("branch_secretary", d.branch, d.member)
    ok(await c.post("/v1/pledges", json=draft, headers=successor), 201)
