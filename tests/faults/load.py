"""A steady, bounded load: N commands at a fixed rate, each carrying a unique marker that
lands in the event it appends, so the checker can tell acknowledged from merely attempted."""

from __future__ import annotations

import asyncio
import itertools
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import httpx

from tests.e2e.helpers import eventually
from tests.faults.stack import Stack
from tests.support import Servers

# (service, path, JSON body, headers) of one command carrying `marker`
Request = tuple[str, str, dict[str, Any], dict[str, str]]


@dataclass
class Place:
    """A county, a township and a branch in the pledge service, and who acts there."""

    county: str
    township: str
    branch: str
    admin: dict[str, str]
    office: dict[str, str]


def establish_place(stack: Stack, servers: Servers) -> Place:
    pledge = stack["pledge"].url
    admin = servers.auth("county_admin", "minqin")
    httpx.post(
        f"{pledge}/v1/counties", headers=admin, json={"county_id": "minqin", "name": "民勤县"}
    ).raise_for_status()
    township = httpx.post(
        f"{pledge}/v1/counties/minqin/townships", headers=admin, json={"name": "红沙梁镇"}
    ).json()["id"]
    office = servers.auth("township_office", township)
    branch = httpx.post(
        f"{pledge}/v1/branches",
        headers=office,
        json={"township_id": township, "name": "红沙梁村党支部", "kind": "village"},
    ).json()["id"]
    return Place("minqin", township, branch, admin, office)


def enrolment(place: Place) -> Callable[[str], Request]:
    """The default load: members enrolled in the pledge service, copied by every consumer."""
    return own_command("pledge", place)


def own_command(service: str, place: Place) -> Callable[[str], Request]:
    """A cheap command of `service` that appends one event carrying the marker."""

    def request(marker: str) -> Request:
        return service, *OWN[service](place, marker)

    return request


OWN: dict[str, Callable[[Place, str], tuple[str, dict[str, Any], dict[str, str]]]] = {
    "pledge": lambda p, marker: (
        "/v1/members",
        {"branch_id": p.branch, "name": marker, "post": "责任岗", "duties": "联系群众"},
        p.office,
    ),
    "review": lambda p, marker: (
        "/v1/visits",
        {"branch_id": p.branch, "cadre_name": marker, "visited_on": TODAY, "summary": "走访"},
        p.admin,
    ),
    "evaluation": lambda p, marker: (
        "/v1/rounds",
        {"title": marker, "year": 2027, "half": 1, "township_id": p.township, "opens_on": DAY},
        p.office,
    ),
    "notification": lambda p, marker: (
        "/v1/channels",
        {
            "county_id": p.county,
            "kind": "email",
            "name": marker,
            "target": "group@minqin.example",
            "release_types": ["bulletin"],
        },
        p.admin,
    ),
}
DAY = "2027-03-01"
TODAY = date.today().isoformat()  # the services run on the system clock; no visit is ahead


@dataclass
class SteadyLoad:
    """Sends `count` commands, one every `interval` seconds, whatever happens to the servers.

    A 2xx answer is acknowledged; a connection error, a timeout or a 5xx is only attempted
    (the command may or may not have committed). Any 4xx fails the test: it is a bug.
    """

    stack: Stack
    request: Callable[[str], Request]
    count: int = 100
    interval: float = 0.05
    tag: str = field(default_factory=lambda: f"L{uuid.uuid4().hex[:6]}")
    acknowledged: dict[str, float] = field(default_factory=dict)  # marker -> when (monotonic)
    attempted: set[str] = field(default_factory=set)
    started: float = 0.0
    sent: int = 0
    stopping: bool = False
    task: asyncio.Task[None] | None = None

    @property
    def service(self) -> str:
        return self.request("")[0]

    def start(self) -> SteadyLoad:
        self.task = asyncio.create_task(self._run())
        return self

    async def stop(self) -> None:
        """Send no more commands; wait for the one in flight."""
        self.stopping = True
        await self.wait()

    async def wait(self) -> None:
        assert self.task is not None
        await self.task

    async def _run(self) -> None:
        self.started = time.monotonic()
        async with httpx.AsyncClient(timeout=5) as client:
            for n in range(self.count):
                if self.stopping:
                    return
                due = self.started + n * self.interval
                await asyncio.sleep(max(0.0, due - time.monotonic()))
                await self._send(client, f"{self.tag}-{n}")

    async def _send(self, client: httpx.AsyncClient, marker: str) -> None:
        service, path, body, headers = self.request(marker)
        urls = self.stack.urls(service)
        self.sent += 1
        # replicas take turns, as behind a proxy; one that refuses the connection never saw
        # the command, so the next is tried (any other failure: it may have committed)
        for turn in range(len(urls)):
            url = urls[(self.sent + turn) % len(urls)]
            try:
                response = await client.post(f"{url}{path}", json=body, headers=headers)
            except httpx.ConnectError:
                continue
            except httpx.HTTPError:
                self.attempted.add(marker)
                return
            break
        else:
            self.attempted.add(marker)
            return
        if response.status_code >= 500:
            self.attempted.add(marker)
            return
        assert response.is_success, response.text
        self.acknowledged[marker] = time.monotonic()

    def acknowledged_after(self, markers: set[str]) -> bool:
        """Was any command acknowledged that was sent after all of `markers`?"""
        last = max(int(m.rsplit("-", 1)[1]) for m in markers)
        return any(int(m.rsplit("-", 1)[1]) > last for m in self.acknowledged)

    async def recovered(self, timeout: float = 60) -> None:
        """Until a command sent after every failed one is acknowledged (at once if none failed)."""

        async def after_failures() -> bool:
            return not self.attempted or self.acknowledged_after(self.attempted)

        await eventually(after_failures, timeout)

    def longest_stall(self) -> float:
        """The longest time without an acknowledged command (seconds), from the first send."""
        times = [self.started, *sorted(self.acknowledged.values())]
        return max(b - a for a, b in itertools.pairwise(times))
