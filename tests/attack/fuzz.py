"""schemathesis against a running service's own OpenAPI document: every operation, data that
fits the schema and data that does not, with and without a valid token. No answer may be a
5xx, and a refused request (any status >= 400) must leave the service's log as it was.

The service runs in the test's event loop; schemathesis and Hypothesis are synchronous, so
they run in a worker thread and reach back into the loop only to count events."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode

from tests.e2e.helpers import event_count
from tests.support import RunningService

Headers = dict[str, str]


@dataclass
class Target:
    service: RunningService
    credentials: list[Headers]  # {} is "no token": the generated Authorization, if any
    known: dict[str, str]  # path parameters that name something that exists
    failures: list[str] = field(default_factory=list)
    requests: int = 0


def fuzz(
    target: Target, loop: asyncio.AbstractEventLoop, max_examples: int, derandomize: bool
) -> None:
    """Every operation in both generation modes; failures are collected, not raised, so one
    run reports them all (and Hypothesis does not spend time shrinking)."""
    base_url = str(target.service.client.base_url)
    schema = schemathesis.openapi.from_url(f"{base_url}/openapi.json")
    for result in schema.get_all_operations():
        operation = result.ok()
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            _fuzz_operation(target, loop, operation, mode, base_url, max_examples, derandomize)


def _fuzz_operation(
    target: Target,
    loop: asyncio.AbstractEventLoop,
    operation: schemathesis.APIOperation,
    mode: GenerationMode,
    base_url: str,
    max_examples: int,
    derandomize: bool,
) -> None:
    names = {p.name for p in operation.path_parameters}
    known = {k: v for k, v in target.known.items() if k in names}
    cases = operation.as_strategy(generation_mode=mode)
    if known:  # half the time aim at records that exist, to get past "not found"
        cases = cases | operation.as_strategy(generation_mode=mode, path_parameters=known)

    def events() -> int:
        return asyncio.run_coroutine_threadsafe(event_count(target.service), loop).result()

    @settings(
        max_examples=max_examples,
        derandomize=derandomize,  # CI: the same cases every run
        deadline=None,
        database=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=cases, credentials=st.sampled_from(target.credentials))
    def attempt(case: schemathesis.Case, credentials: Headers) -> None:
        headers = dict(case.headers or {})
        if credentials:
            headers = {k: v for k, v in headers.items() if k.lower() != "authorization"}
        case.headers = {**headers, **credentials}
        before = events()
        response = case.call(base_url=base_url, timeout=30)
        target.requests += 1
        appended = events() - before
        status = response.status_code
        if status >= 500 or (status >= 400 and appended):
            target.failures.append(
                f"{operation.label} [{mode}] -> {status}, {appended} event(s) appended:"
                f" {response.text[:300]}\n  {case.as_curl_command(base_url=base_url)}"
            )

    try:
        attempt()
    except Unsatisfiable:  # nothing in the operation can be made invalid (e.g. /healthz)
        assert mode is GenerationMode.NEGATIVE, operation.label
