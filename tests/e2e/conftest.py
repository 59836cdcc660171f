from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest

from services.pledge.app import DEFINITION
from shared.clock import FixedClock
from tests.support import RunningService, Servers, running

__all__ = ["RunningService"]


@pytest.fixture
async def pledge_service(servers: Servers) -> AsyncIterator[RunningService]:
    clock = FixedClock(datetime(2027, 1, 4, 2, 0, tzinfo=UTC))
    async with running(servers, [DEFINITION], clock) as services:
        yield services["pledge"]


@pytest.fixture
def manual_passes(monkeypatch: pytest.MonkeyPatch) -> None:
    """A notification service whose scheduler and delivery passes run only when the test
    ticks them (their background loops wait an hour after the pass at start-up)."""
    monkeypatch.setenv("GONGKAI_SCHEDULER_INTERVAL", "3600")
    monkeypatch.setenv("GONGKAI_DELIVERY_INTERVAL", "3600")
