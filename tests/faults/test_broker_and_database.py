"""kill -9 the NATS server, or PostgreSQL, under a steady load, and restart it on the same
port and data: nothing acknowledged is missing, nothing invented, everything delivered once."""

from __future__ import annotations

import asyncio

import pytest

from tests.faults.checker import check_nothing_lost
from tests.faults.load import SteadyLoad, enrolment, establish_place
from tests.faults.stack import Stack
from tests.support import Servers

SIZES = [  # (kills, seconds of load before each): bounded in CI, long on demand (-m slow)
    pytest.param(1, 2.0, id="bounded"),
    pytest.param(5, 10.0, id="long", marks=pytest.mark.slow),
]


@pytest.mark.parametrize("server", ["nats", "postgres"])
@pytest.mark.parametrize(("kills", "between"), SIZES)
async def test_kill_9_a_server_under_load(
    fault_servers: Servers, stack: Stack, server: str, kills: int, between: float
) -> None:
    victim = fault_servers.nats if server == "nats" else fault_servers.postgres
    stack.start()
    load = SteadyLoad(stack, enrolment(establish_place(stack, fault_servers)), count=10**6)
    load.start()
    for _ in range(kills):
        await asyncio.sleep(between)
        await asyncio.to_thread(victim.kill)  # in a thread: the load goes on meanwhile
        await asyncio.sleep(1.0)
        await asyncio.to_thread(victim.start)
        await load.recovered()
    await asyncio.sleep(1.0)
    await load.stop()
    if server == "nats":
        assert not load.attempted  # commands need PostgreSQL, not the broker
    else:
        assert load.attempted, "the outage was not felt: the test proved nothing"
        assert load.acknowledged_after(load.attempted), "the service did not recover"
    report = await check_nothing_lost(stack, [load])
    print(f"\n{server} kill -9 x{kills}: {report}, {len(load.attempted)} only attempted")
