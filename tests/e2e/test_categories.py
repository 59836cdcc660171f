"""P2: the county configures the categories of each kind of branch, and from then on a
proposal is held to them (the seed's categories are only the default)."""

from __future__ import annotations

from tests.e2e.conftest import RunningService
from tests.e2e.helpers import Directory, item, ok
from tests.support import Servers


async def test_proposals_follow_the_countys_configured_categories(
    servers: Servers, pledge_service: RunningService
) -> None:
    c = pledge_service.client
    d = await Directory(c, servers).build()
    ok(
        await c.post(
            f"/v1/counties/{d.county}/categories",
            json={"kind": "village", "categories": ["防沙治沙先锋", "乡村振兴先锋"]},
            headers=d.as_("county_admin", d.county),
        )
    )
    pledge = await d.draft_branch_pledge()
    proposal = f"/v1/pledges/{pledge}/proposal"
    basis = "《开展创先争优活动实施方案》"

    default_only = await c.post(
        proposal,
        json={"basis": basis, "items": [item("改造支渠3公里", category="节水增收先锋")]},
        headers=d.branch_secretary,
    )
    assert default_only.status_code == 422, default_only.text
    problem = default_only.json()
    assert problem["errors"][0]["field"] == "items.0.category"
    assert problem["allowed"] == ["防沙治沙先锋", "乡村振兴先锋"]  # says what is

    ok(
        await c.post(
            proposal,
            json={"basis": basis, "items": [item("压沙造林500亩", category="防沙治沙先锋")]},
            headers=d.branch_secretary,
        )
    )
    shown = ok(await c.get(f"/v1/pledges/{pledge}", headers=d.office))
    assert shown["status"] == "under_review"
    assert [i["category"] for i in shown["items"]] == ["防沙治沙先锋"]
