"""Server errors the OpenAPI fuzzing found, each pinned by a direct request: they must now be
refused (or answered) without a 5xx."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest

from services.pledge.app import DEFINITION as PLEDGE
from shared.clock import FixedClock
from shared.testing import RunningService, Servers, running

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
