"""schemathesis against each service's served OpenAPI (see tests/attack/fuzz.py): no 5xx on
any operation, nothing appended by a refused request. The CI run is bounded; the `slow` one
looks deeper."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest

from services.evaluation.app import DEFINITION as EVALUATION
from services.identity.app import DEFINITION as IDENTITY
from services.notification.app import DEFINITION as NOTIFICATION
from services.pledge.app import DEFINITION as PLEDGE
from services.review.app import DEFINITION as REVIEW
from shared.clock import FixedClock
from tests.attack.fuzz import Target, fuzz
from tests.e2e.evaluation_helpers import START, caught_up
from tests.e2e.helpers import Directory
from tests.support import Servers, running

SERVICES = {d.name: d for d in (PLEDGE, REVIEW, EVALUATION, NOTIFICATION, IDENTITY)}


@asynccontextmanager
async def target(servers: Servers, name: str) -> AsyncIterator[Target]:
    """The service beside the pledge service (which owns the directory), with a small county
    built and copied; only the service under attack is fuzzed, so its log counts only what
    the attack's requests did."""
    definitions = [PLEDGE] if name == "pledge" else [PLEDGE, SERVICES[name]]
    with pytest.MonkeyPatch.context() as env:
        env.setenv("GONGKAI_IDENTITY_ARGON2_PROFILE", "cheapest")  # activation codes hashed
        async with _target(servers, name, definitions) as found:
            yield found


@asynccontextmanager
async def _target(servers: Servers, name: str, definitions: list[Any]) -> AsyncIterator[Target]:
    async with running(servers, definitions, FixedClock(START)) as services:
        pledge, service = services["pledge"], services[name]
        d = await Directory(pledge.client, servers).build()
        if service is not pledge:
            await caught_up(pledge, service)
        yield Target(
            service,
            credentials=[{}, d.as_("county_admin", d.county), d.office, d.branch_secretary],
            known={
                "county_id": d.county,
                "township_id": d.township,
                "branch_id": d.branch,
                "member_id": d.member,
                "person_id": d.member,
            },
        )


async def attack(servers: Servers, name: str, max_examples: int, derandomize: bool) -> None:
    async with target(servers, name) as t:
        started = time.monotonic()
        loop = asyncio.get_running_loop()
        await asyncio.to_thread(fuzz, t, loop, max_examples, derandomize)
        print(f"{name}: {t.requests} requests in {time.monotonic() - started:.1f}s")
        assert not t.failures, "\n".join(t.failures)


@pytest.mark.parametrize("name", list(SERVICES))
async def test_no_server_error_and_nothing_appended_by_a_refusal(
    servers: Servers, name: str
) -> None:
    # bounded for CI (the families of bad input are sent to every route, deterministically, by
    # test_bad_input_families.py; `-m slow` below fuzzes deeper with fresh cases)
    await attack(servers, name, max_examples=5, derandomize=True)


@pytest.mark.slow
@pytest.mark.parametrize("name", list(SERVICES))
async def test_deeper_with_fresh_cases(servers: Servers, name: str) -> None:
    await attack(servers, name, max_examples=100, derandomize=False)
