"""Server errors the OpenAPI fuzzing found, each pinned by a direct request: they must now be
refused (or answered) without a 5xx."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest

from services.pledge.app import DEFINITION as PLEDGE
from shared.clock import FixedClock
from tests.e2e.helpers import Directory, ok
from tests.support import RunningService, Servers, running

TOO_BIG = str(2**63)  # one past PostgreSQL's bigint


@pytest.fixture
async def pledge(servers: Servers) -> AsyncIterator[RunningService]:
    async with running(servers, [PLEDGE], FixedClock(datetime(2027, 1, 4, tzinfo=UTC))) as s:
        yield s["pledge"]


@pytest.mark.parametrize(
    ("path", "params"),
    [
        ("/v1/ledger", {"offset": TOO_BIG}),
        ("/v1/pledges", {"offset": TOO_BIG, "year": "2027"}),
        (f"/v1/audit/checkpoints/{TOO_BIG}", {}),
        ("/v1/audit/proofs/consistency", {"old": "1", "new": TOO_BIG}),
        ("/v1/audit/proofs/inclusion", {"event_id": "0" * 36, "checkpoint_id": "1"}),
    ],
    ids=["ledger-offset", "pledges-offset", "checkpoint-id", "consistency", "uuid-lookalike"],
)
async def test_numbers_past_bigint_and_uuid_lookalikes_are_invalid_input(
    pledge: RunningService, path: str, params: dict[str, str]
) -> None:
    response = await pledge.client.get(path, params=params)
    assert response.status_code == 422, response.text


async def test_an_early_as_of_read_outlives_the_pruning_of_old_snapshots(
    servers: Servers, pledge: RunningService
) -> None:
    """A snapshot built for a moment before the newest few was pruned as soon as it was built
    (it had the lowest position), so the read it was built for found no tables."""
    c, clock = pledge.client, pledge.clock
    d = await Directory(c, servers).build()
    for day in range(5, 12):  # more snapshots, at later positions, than are kept
        clock.set(datetime(2027, 1, day, tzinfo=UTC))
        body = {"branch_id": d.branch, "name": f"党员{day}", "post": "党员", "duties": "学习"}
        ok(await c.post("/v1/members", json=body, headers=d.office), 201)
        ok(await c.get(f"/v1/branches/{d.branch}", params={"as_of": f"2027-01-{day:02}T12:00Z"}))
    early = await c.get(f"/v1/members/{d.member}", params={"as_of": "2027-01-01"})
    assert early.status_code == 404, early.text  # not there yet: not a missing table
