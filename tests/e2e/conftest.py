from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime

import httpx
import pytest
from fastapi import FastAPI

from services.pledge.app import DEFINITION
from shared.clock import FixedClock
from shared.messaging import Subjects
from shared.runtime import Runtime, create_app
from shared.settings import ServiceSettings
from shared.testing import Servers, serving


@dataclass
class RunningService:
    client: httpx.AsyncClient
    app: FastAPI
    settings: ServiceSettings
    clock: FixedClock

    @property
    def runtime(self) -> Runtime:
        runtime: Runtime = self.app.state.runtime
        return runtime

    @property
    def subjects(self) -> Subjects:
        return Subjects(self.settings.nats_subject_root)


@pytest.fixture
async def pledge_service(servers: Servers) -> AsyncIterator[RunningService]:
    settings = servers.settings("pledge")
    clock = FixedClock(datetime(2027, 1, 4, 2, 0, tzinfo=UTC))
    app = create_app(DEFINITION, settings, clock=clock)
    async with serving(app, settings.port) as client:
        yield RunningService(client, app, settings, clock)
