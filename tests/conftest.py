"""Session-wide real servers: one embedded PostgreSQL and one nats-server for each test process
(the suite runs in two, pytest-xdist's workers: CONTRIBUTING.md). Each test that needs a
service gets its own database and NATS subject root on them.
And a Chromium for the board's browser test, installed once per run when the machine lacks
one (tests/support/chromium.py)."""

from __future__ import annotations

import sys
import warnings
from collections.abc import AsyncIterator, Iterator

import pytest

from shared.logging import configure_logging
from tests.support import Servers, servers_under
from tests.support.browser import Browser, browser_for
from tests.support.chromium import chromium_or_install

configure_logging(json=False, level="WARNING")


@pytest.fixture(scope="session")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Servers]:
    with servers_under(tmp_path_factory.mktemp("servers")) as started:
        yield started


@pytest.fixture(scope="session")
def chromium_binary(request: pytest.FixtureRequest) -> str:
    """The path of a Chromium; on a machine without one, apt-get installs Debian's (with a
    Chinese font) when the run may (root or passwordless sudo), otherwise the test fails
    naming the command to run. Never skipped."""
    capture = request.config.pluginmanager.getplugin("capturemanager")

    def say(line: str) -> None:  # shown even while pytest captures output
        if hasattr(request.config, "workerinput"):  # an xdist worker's output is not shown:
            warnings.warn(f"[gongkai tests] {line}", stacklevel=2)  # its warnings are
        if capture is None:
            print(f"\n[gongkai tests] {line}", file=sys.stderr, flush=True)
            return
        with capture.global_and_fixture_disabled():
            print(f"\n[gongkai tests] {line}", file=sys.stderr, flush=True)

    try:
        return chromium_or_install(say)
    except RuntimeError as e:
        pytest.fail(str(e), pytrace=False)


@pytest.fixture(scope="session")
async def chromium(chromium_binary: str) -> AsyncIterator[Browser]:
    """One headless Chromium driven by Playwright for the whole run (tests/support/browser.py)."""
    async with browser_for(chromium_binary) as started:
        yield started


@pytest.fixture
async def browser(chromium: Browser) -> AsyncIterator[Browser]:
    """The run's Chromium; the pages a test opened are closed after it."""
    yield chromium
    await chromium.close_pages()
