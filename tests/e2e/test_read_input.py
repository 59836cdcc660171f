"""Bad input on reads: a clear 422 naming the parameter, never a 500; and an unpublished
pledge does not exist for the public, whichever way it asks."""

from __future__ import annotations

import pytest

from tests.e2e.helpers import Directory, ok
from tests.support import RunningService, Servers


@pytest.mark.parametrize(
    ("path", "field"),
    [
        ("/v1/ledger?year=99999999999", "year"),
        ("/v1/ledger?year=1999", "year"),
        ("/v1/ledger.xlsx?year=abc", "year"),
        ("/v1/pledges?year=99999999999", "year"),
        ("/v1/pledges?limit=0", "limit"),
        ("/v1/ledger?offset=-1", "offset"),
        ("/v1/ledger?status=half", "status"),
        ("/v1/ledger?as_of=yesterday", "as_of"),
        ("/v1/branches/b%20x", "branch_id"),
        # moments past the ends of time once converted to UTC (asyncpg: out of range, a 500)
        ("/v1/ledger?as_of=9999-12-31T23:59:59-23:59", "as_of"),
        ("/v1/ledger?as_of=0001-01-01T00:00:00%2B23:59", "as_of"),
        ("/v1/pledges?as_of=0001-01-01", "as_of"),  # a bare date is local time: UTC+8
        ("/v1/branches/b-1?as_of=1999-12-31", "as_of"),
        ("/v1/ledger?as_of=-1", "as_of"),  # a Unix time: only ISO dates and times are meant
        ("/v1/ledger?as_of=1798761600", "as_of"),
        # ids in the query are ids, as in the path
        ("/v1/ledger?township_id=%27%20OR%201%3D1%20--", "township_id"),
        ("/v1/ledger.xlsx?branch_id=" + "b" * 1000, "branch_id"),
        ("/v1/pledges?branch_id=b%20x", "branch_id"),
        ("/v1/pledges?status=finished", "status"),
        # a NUL is about the parameter it is in, not the body
        ("/v1/pledges?township_id=%00", "township_id"),
        ("/v1/pledges?status=%00", "status"),
        ("/v1/ledger?as_of=%00", "as_of"),
    ],
)
async def test_bad_query_parameters_are_named(
    pledge_service: RunningService, path: str, field: str
) -> None:
    response = await pledge_service.client.get(path)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert field in [e["field"] for e in response.json()["errors"]]


async def test_a_query_id_of_60000_characters_is_refused(pledge_service: RunningService) -> None:
    """It answered 200 with no rows (60,000: httpx sends no query past 65,536 characters)."""
    response = await pledge_service.client.get("/v1/ledger", params={"township_id": "t" * 60_000})
    assert response.status_code == 422, response.text
    assert [e["field"] for e in response.json()["errors"]] == ["township_id"]


async def test_an_unpublished_pledge_does_not_exist_for_the_public(
    servers: Servers, pledge_service: RunningService
) -> None:
    c = pledge_service.client
    d = await Directory(c, servers).build()
    pledge = ok(
        await c.post(
            "/v1/pledges", json={"year": 2027, "branch_id": d.branch}, headers=d.branch_secretary
        ),
        201,
    )["id"]
    for path in (f"/v1/pledges/{pledge}", f"/v1/pledges/{pledge}/letter"):
        assert (await c.get(path)).status_code == 404
        assert (await c.get(path, headers=d.branch_secretary)).status_code == 200


async def test_who_lists_unpublished_pledges(
    servers: Servers, pledge_service: RunningService
) -> None:
    c = pledge_service.client
    d = await Directory(c, servers).build()
    ok(
        await c.post(
            "/v1/pledges", json={"year": 2027, "branch_id": d.branch}, headers=d.branch_secretary
        ),
        201,
    )
    branch = {"branch_id": d.branch}
    township = {"township_id": d.township}
    cases = [  # (who, filter, how many drafts they see)
        (d.branch_secretary, branch, 1),
        (d.as_("county_admin", d.county), branch, 1),
        (d.office, township, 1),
        (d.as_("township_office", d.other_township), township, 0),
        (d.the_member, branch, 0),
        ({}, branch, 0),
    ]
    for headers, params, seen in cases:
        total = ok(await c.get("/v1/pledges", params=params, headers=headers))["total"]
        assert total == seen, (headers, params)
