"""Serve without the broker (issue 22.2): services (re)started while NATS is down serve reads
and commands at once, their readiness says degraded (relay and consumers waiting for the
broker); when it returns they join it and catch up: every event acknowledged meanwhile
reaches its stream and every consumer, exactly once."""

from __future__ import annotations

import asyncio

import httpx

from tests.e2e.helpers import eventually
from tests.faults.checker import check_nothing_lost
from tests.faults.load import SteadyLoad, enrolment, establish_place, own_command
from tests.faults.stack import Stack
from tests.faults.test_service_crash import copied
from tests.support import Servers


async def test_services_restarted_while_the_broker_is_down_serve_and_catch_up(
    fault_servers: Servers, stack: Stack
) -> None:
    stack.start()
    place = establish_place(stack, fault_servers)
    await copied(stack, "review", place)  # it checks its commands against the copy
    await asyncio.to_thread(fault_servers.nats.kill)
    try:
        restarted = ("pledge", "review")  # the producer of the copies, and a consumer
        await asyncio.to_thread(stack.kill_and_restart, restarted)  # ready: /readyz 200
        for name in restarted:
            ready = httpx.get(f"{stack[name].url}/readyz").json()
            assert ready["ready"] is True, ready
            assert ready["degraded"] is True, ready
            assert ready["checks"] == {"database": True, "nats": False}
            assert ready["waiting"] == ["relay", "consumers"]
        county = httpx.get(f"{stack['pledge'].url}/v1/counties/{place.county}")
        assert county.status_code == 200, county.text  # a read
        members = SteadyLoad(stack, enrolment(place), count=5).start()  # commands
        visits = SteadyLoad(stack, own_command("review", place), count=5).start()
        for load in (members, visits):
            await load.wait()
            assert len(load.acknowledged) == 5, load.attempted
    finally:
        await asyncio.to_thread(fault_servers.nats.start)

    async def joined() -> bool:
        for name in stack.services:
            ready = httpx.get(f"{stack[name].url}/readyz").json()
            if ready["degraded"] or ready["waiting"]:
                return False
        return True

    await eventually(joined, timeout=60)
    report = await check_nothing_lost(stack, [members, visits])  # published, consumed once
    print(f"\nserved without the broker: {report}")
