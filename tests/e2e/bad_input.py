"""What every service's bad-input table shares: which routes change state, how many events a
service has, and what a refusal must look like (an RFC 9457 problem, nothing appended)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import httpx
from fastapi import APIRouter

from tests.e2e.helpers import event_count

__all__ = ["assert_refused", "event_count", "state_changing_routes"]

STATE_CHANGING = {"POST", "PUT", "PATCH", "DELETE"}
PROBLEM_KIND = {401: "unauthenticated", 403: "forbidden", 422: "invalid-input"}


# Imports from workbooks (issue 19): an upload appends nothing (it is checked into a
# preview) and a confirm needs an upload before it, so neither fits a table of one good JSON
# request that appends; their refusals (401, 403, 422 for a bad file, 409 for a file with bad
# rows, nothing appended) are asserted by their own tests (test_roster_import.py,
# test_evaluation_rater_import.py).
IMPORT_ROUTES = ("/imports", "/imports/{import_id}/confirm")


def _platform(route: Any) -> bool:
    endpoint = getattr(route, "endpoint", None)
    return endpoint is not None and endpoint.__module__.startswith("shared.")


def state_changing_routes(routers: Iterable[APIRouter]) -> set[str]:
    """Path templates of the state-changing routes a service's own routers add (expanding
    included routers, which newer FastAPI keeps unflattened), but for imports (above). The
    platform's routes, mounted for every service or made by shared/ (the evidence file
    upload, shared/files_api.py: tests/e2e/test_evidence_files.py), are the platform's tests'
    concern."""
    found: set[str] = set()

    def walk(routes: Any) -> None:
        for route in routes:
            if hasattr(route, "effective_route_contexts"):
                walk(route.effective_route_contexts())
            elif (
                getattr(route, "methods", None)
                and route.methods & STATE_CHANGING
                and not _platform(route)
                and not route.path.endswith(IMPORT_ROUTES)
            ):
                found.add(route.path)

    for router in routers:
        walk(router.routes)
    return found


def assert_refused(
    case_id: str,
    response: httpx.Response,
    appended: int,
    statuses: Iterable[int],
    field: str | None,
) -> None:
    """A clear 4xx problem body (naming the field for invalid input), and nothing appended."""
    assert response.status_code in set(statuses), (
        f"{case_id}: expected {sorted(statuses)}, got {response.status_code}"
        f" ({appended} event(s) appended): {response.text}"
    )
    assert appended == 0, f"{case_id}: {appended} event(s) appended by a refused request"
    assert response.headers["content-type"].startswith("application/problem+json"), case_id
    problem = response.json()
    status = response.status_code
    assert problem["status"] == status, f"{case_id}: {problem}"
    assert problem["type"].startswith("urn:gongkai:problem:"), f"{case_id}: {problem}"
    for member in ("title", "detail"):
        assert isinstance(problem.get(member), str), f"{case_id}: no {member}: {problem}"
        assert problem[member].strip(), f"{case_id}: empty {member}: {problem}"
    if status in PROBLEM_KIND:
        assert problem["type"] == f"urn:gongkai:problem:{PROBLEM_KIND[status]}", case_id
    if status == 401:
        assert response.headers.get("www-authenticate") == "Bearer", case_id
    if status == 422:
        errors = problem.get("errors")
        assert isinstance(errors, list), f"{case_id}: no errors list: {problem}"
        assert errors, f"{case_id}: empty errors list: {problem}"
        assert all(e.get("field") and e.get("reason") for e in errors), f"{case_id}: {errors}"
        named = [e["field"] for e in errors]
        # a repeated query parameter (a list) is named with the place of the bad value
        exact = field in named or any(n.startswith(f"{field}.") for n in named)
        assert exact, f"{case_id}: errors name {named}, not {field!r}"
