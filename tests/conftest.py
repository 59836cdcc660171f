"""Session-wide real servers: one embedded PostgreSQL and one nats-server for the whole run.
Each test that needs a service gets its own database and NATS subject root on them."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from shared.logging import configure_logging
from tests.support import Servers, servers_under

configure_logging(json=False, level="WARNING")


@pytest.fixture(scope="session")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Servers]:
    with servers_under(tmp_path_factory.mktemp("servers")) as started:
        yield started
