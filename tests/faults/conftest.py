"""Fault tests kill and restart NATS and PostgreSQL: they get servers of their own, never the
session-wide ones every other test uses. Started once per test process (a worker may run
other tests between two fault files: a package scope would start them again)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.faults.stack import Stack
from tests.support import Servers, servers_under


@pytest.fixture(scope="session")
def fault_servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Servers]:
    with servers_under(tmp_path_factory.mktemp("fault-servers")) as started:
        yield started


@pytest.fixture
def stack(fault_servers: Servers, tmp_path: Path) -> Iterator[Stack]:
    """The four services as processes (the test starts them); stopped after the test."""
    services = Stack(fault_servers, tmp_path)
    try:
        yield services
    finally:
        services.stop()
