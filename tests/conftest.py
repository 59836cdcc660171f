"""Session-wide real servers: one embedded PostgreSQL and one nats-server for each test process
(the suite runs in two, pytest-xdist's workers: CONTRIBUTING.md). Each test that needs a
service gets its own database and NATS subject root on them.
And a Chromium for the board's browser test, installed once per run when the machine lacks
one (tests/support/chromium.py).
The longest files go to the workers first (`LONGEST_FIRST`)."""

from __future__ import annotations

import sys
import warnings
from collections import Counter
from collections.abc import AsyncIterator, Iterator

import pytest

from shared.logging import configure_logging
from tests.support import Servers, servers_under
from tests.support.browser import Browser, browser_for
from tests.support.chromium import chromium_or_install

configure_logging(json=False, level="WARNING")

# The files that take longest, longest first (seconds, whole file, from `--durations` of a run
# of the whole suite on the shared 2-core machine under load; about half that on a quiet
# one). pytest-xdist hands a worker one file at a time (`--dist loadfile`) in the order
# collected; its own order (files with most tests first, `--no-loadscope-reorder` in
# pyproject turns it off) left the long one-test files (the bench, the fault tests) for last,
# where one of them kept a worker busy minutes after the other had run out of files. Longest
# first, the last files handed out are short ones and both workers finish together. A file
# not named here runs after these, files with more tests first (as pytest-xdist's own order);
# tests/unit/test_suite_order.py checks that each named file exists.
LONGEST_FIRST = (
    "tests/e2e/test_cli.py",  # 231
    "tests/integration/test_bench.py",  # 121
    "tests/faults/test_service_crash.py",  # 89
    "tests/faults/test_replicas.py",  # 74
    "tests/e2e/test_evaluation_bad_input.py",  # 73
    "tests/faults/test_serve_without_broker.py",  # 67
    "tests/attack/test_openapi_fuzz.py",  # 67
    "tests/e2e/test_bad_input.py",  # 57
    "tests/faults/test_cluster.py",  # 55
    "tests/e2e/test_console_demowalk.py",  # 49
    "tests/e2e/test_console.py",  # 44
    "tests/e2e/test_console_peoplepages.py",  # 44
    "tests/faults/test_broker_and_database.py",  # 42
    "tests/e2e/test_evaluation_rebuild.py",  # 41
    "tests/faults/test_supervised_up.py",  # 37
    "tests/e2e/test_console_year.py",  # 30-37, one test (quieter machine, added later)
    "tests/e2e/test_console_evalpages.py",  # 30
    "tests/faults/test_deliveries.py",  # 29
    "tests/e2e/test_subscribing_system.py",  # 29
    "tests/e2e/test_notification_browser.py",  # 28
    "tests/e2e/test_identity_oidc.py",  # 27
    "tests/e2e/test_notification_year.py",  # 27
    "tests/e2e/test_console_officepages.py",  # 26
    "tests/e2e/test_console_smsinvite.py",  # 29 (quieter machine, added later)
    "tests/e2e/test_console_selectlevels.py",  # 27 (quieter machine, added later)
    "tests/e2e/test_review_bad_input.py",  # 25
    "tests/e2e/test_console_selectpages.py",  # 23
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The files in `LONGEST_FIRST` first, in its order; then the others, most tests first.
    Every worker collects the same, so the order is the one xdist hands files out in."""
    rank = {path: i for i, path in enumerate(LONGEST_FIRST)}
    count = Counter(item.nodeid.split("::", 1)[0] for item in items)

    def key(item: pytest.Item) -> tuple[int, int]:
        path = item.nodeid.split("::", 1)[0]
        return rank.get(path, len(rank)), -count[path]

    items.sort(key=key)  # stable: a file's tests keep their order


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
