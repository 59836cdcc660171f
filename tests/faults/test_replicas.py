"""Two replicas of every service on one PostgreSQL and one NATS: HTTP served by both, the relay
and each scheduler on one replica at a time (a lease), the consumers sharing their durable
consumers (one pulling at a time). Under a steady load, kill -9 one replica of each service
in turn, the one holding the most leases: the other takes them over. Nothing is lost or
duplicated, and the notification service delivers no message twice (a webhook that records
every request stands in for the receivers). The longest consumer stall after each kill is
printed (docs/faults.md)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import threading
from collections import Counter
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import asyncpg
import httpx
import pytest

from shared.embedded import free_port
from tests.e2e.helpers import eventually
from tests.faults.checker import check_nothing_lost, read_log
from tests.faults.load import SteadyLoad, enrolment, establish_place, own_command
from tests.faults.progress import ProgressWatch
from tests.faults.stack import SERVICES, ServiceProcess, Stack
from tests.faults.test_service_crash import copied
from tests.support import Servers


class Receiver:
    """Stands in for a receiving system: keeps (webhook-id, release id) of every message it
    took (answered 2xx). While `closed`, it holds what comes and then declines it (503): the
    moment to kill the sender is when it waits here, its previous message recorded as sent
    (one at a time), so that a kill between "sent" and "recorded" is not what is measured:
    that one would be sent again, with the same webhook-id, for receivers to de-duplicate."""

    def __init__(self) -> None:
        self.got: list[tuple[str, str]] = []
        self.open = threading.Event()
        self.open.set()
        self.holding = threading.Event()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["content-length"]))
                took = receiver.open.is_set()
                if not took:
                    receiver.holding.set()
                    receiver.open.wait()
                else:
                    release = json.loads(body)["data"]["id"]
                    receiver.got.append((self.headers["webhook-id"], release))
                with contextlib.suppress(OSError):  # its sender may be dead by now
                    self.send_response(204 if took else 503)
                    self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"

    def close(self) -> None:
        self.holding.clear()
        self.open.clear()

    def reopen(self) -> None:
        self.open.set()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    stand_in = Receiver()
    thread = threading.Thread(target=stand_in.server.serve_forever, daemon=True)
    thread.start()
    try:
        yield stand_in
    finally:
        stand_in.reopen()
        stand_in.server.shutdown()


def leases(replica: ServiceProcess) -> list[str]:
    """The leases `replica` holds now (its readiness names them)."""
    held: list[str] = httpx.get(f"{replica.url}/readyz").json()["leases"]
    return held


def busiest(stack: Stack, name: str) -> ServiceProcess:
    """The replica of `name` that holds the most leases (relay, consumers, schedulers)."""
    return max(stack.replicas[name], key=lambda replica: len(leases(replica)))


def lease_holder(stack: Stack, name: str, lease: str) -> ServiceProcess:
    """The replica of `name` that holds `lease` now."""
    for replica in stack.replicas[name]:
        if lease in leases(replica):
            return replica
    raise AssertionError(f"no replica of {name} holds {lease}")


async def test_two_replicas_of_each_kill_9_one_of_each_in_turn(
    fault_servers: Servers, tmp_path: Path, receiver: Receiver
) -> None:
    got = receiver.got
    fast = {"GONGKAI_DELIVERY_INTERVAL": "0.5"}  # deliveries passes often: more to interrupt
    stack = Stack(fault_servers, tmp_path, copies=2, env=fast)
    try:
        await asyncio.to_thread(stack.start)
        place = establish_place(stack, fault_servers)
        await copied(stack, "notification", place)
        channel = {
            "county_id": place.county,
            "kind": "webhook",
            "name": "镇政务系统",
            "target": receiver.url,
            "release_types": ["guidance_visit"],  # each visit the review service records
        }
        url = f"{stack['notification'].url}/v1/channels"
        httpx.post(url, json=channel, headers=place.admin).raise_for_status()

        loads = [  # members, copied by every consumer; visits, each delivered to the hook
            SteadyLoad(stack, enrolment(place), count=10**6, interval=0.1).start(),
            SteadyLoad(stack, own_command("review", place), count=10**6, interval=0.2).start(),
        ]
        watches = [ProgressWatch(stack, consumer=c).start() for c in SERVICES[1:]]
        stalls: dict[str, float] = {}
        for name in SERVICES:  # the replica that runs the most (notification: its deliveries)
            await asyncio.sleep(0.5)
            if name == "notification":
                victim = await asyncio.to_thread(lease_holder, stack, name, "periodic:deliveries")
            else:
                victim = await asyncio.to_thread(busiest, stack, name)
            held = await asyncio.to_thread(leases, victim)
            for watch in watches:
                watch.longest = 0.0
            if name == "notification":  # killed while it waits for the receiver
                receiver.close()
                await asyncio.wait_for(asyncio.to_thread(receiver.holding.wait), 10)
            await asyncio.to_thread(victim.kill)
            receiver.reopen()
            await asyncio.sleep(3.5)
            stalls[name] = max(watch.longest for watch in watches)
            survivor = next(r for r in stack.replicas[name] if r is not victim)
            assert set(held) <= set(await asyncio.to_thread(leases, survivor)), name
        for load in loads:
            await load.stop()
        for watch in watches:
            await watch.stop()

        # every visit delivered to the hook, each once (first: the deliveries' own events
        # must have stopped coming for the checker to compare the logs with the streams)
        visits = {
            e.id for e in await read_log(stack["review"].dsn) if e.type == "GuidanceVisitRecorded"
        }
        assert len(visits) >= len(loads[1].acknowledged) > 0

        async def delivered() -> bool:
            conn = await asyncpg.connect(stack["notification"].dsn)
            try:
                query = "SELECT count(*) FROM rm.deliveries WHERE status <> 'delivered'"
                done = await conn.fetchval(query) == 0
            finally:
                await conn.close()
            return done and {release for _, release in got} >= visits

        await eventually(delivered, timeout=30)
        twice = [m for m, n in Counter(m for m, _ in got).items() if n > 1]
        assert twice == [], "a message delivered twice"
        assert sorted(release for _, release in got) == sorted(visits)
        report = await check_nothing_lost(stack, loads)
    finally:
        stack.stop()
    print(
        f"\n2 replicas of each, one of each killed in turn: {report}; longest "
        "consumer stall after the kill of "
        + ", ".join(f"{name} {stall:.1f}s" for name, stall in stalls.items())
        + f"; longest gap between acknowledged commands {loads[0].longest_stall():.2f}s"
    )
