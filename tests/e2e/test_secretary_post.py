"""X1: a branch secretary's token speaks for the branch only while its holder holds the post.
A secretary replaced loses the post at once, not when the token expires (every service
checks the holder against its directory, shared/http.py)."""

from __future__ import annotations

from tests.e2e.helpers import Directory, event_count, ok
from tests.support import RunningService, Servers


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
        assert refused.json()["detail"] == f"您不是支部 {d.branch} 的书记：请切换到支部书记身份。"
    assert await event_count(pledge_service) == before

    successor = d.as_("branch_secretary", d.branch, d.member)
    ok(await c.post("/v1/pledges", json=draft, headers=successor), 201)


async def test_the_secretary_of_a_retired_branch_speaks_for_it_no_more(
    servers: Servers, pledge_service: RunningService
) -> None:
    c = pledge_service.client
    d = await Directory(c, servers).build()
    retire = {"reason": "并入红沙梁村党支部"}
    ok(await c.post(f"/v1/branches/{d.branch}/retirement", json=retire, headers=d.office))
    draft = {"year": 2027, "branch_id": d.branch}
    refused = await c.post("/v1/pledges", json=draft, headers=d.branch_secretary)
    assert refused.status_code == 403, refused.text
    assert "的书记" in refused.json()["detail"]  # the post, not the pledge
