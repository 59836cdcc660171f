"""kill -9 each service between commit and publish (its relay held back, the test hook), and
again in the middle of a stream of commands while the pledge service keeps it busy consuming:
after restarts nothing acknowledged is missing, nothing invented, each event reached the
stream and every consumer exactly once, the chains verify."""

from __future__ import annotations

import asyncio

import asyncpg

from tests.e2e.helpers import eventually
from tests.faults.checker import HEADS, PUBLISHED, check_nothing_lost, positions
from tests.faults.load import Place, SteadyLoad, establish_place, own_command
from tests.faults.stack import SERVICES, Stack
from tests.support import Servers


async def copied(stack: Stack, service: str, place: Place) -> None:
    """Until `service`'s directory copy has the place's branch (it checks commands there)."""

    async def has_branch() -> bool:
        conn = await asyncpg.connect(stack[service].dsn)
        try:
            query = "SELECT count(*) FROM rm.dir_branches WHERE branch_id = $1"
            return bool(await conn.fetchval(query, place.branch))
        finally:
            await conn.close()

    await eventually(has_branch, timeout=30)


async def test_kill_9_each_service_between_commit_and_publish_and_mid_stream(
    fault_servers: Servers, stack: Stack
) -> None:
    consumers = SERVICES[1:]
    stack.start(without_relay=consumers)  # they commit, publish nothing: the crash window
    place = establish_place(stack, fault_servers)
    for consumer in consumers:
        await copied(stack, consumer, place)  # they check their commands against the copy
    await asyncio.to_thread(stack.kill_and_restart, ("pledge",), relay=False)

    held_back = [SteadyLoad(stack, own_command(s, place), count=10).start() for s in SERVICES]
    for load, name in zip(held_back, SERVICES, strict=True):
        await load.wait()
        assert len(load.acknowledged) == 10
        service = stack[name]
        assert await positions(service.dsn, PUBLISHED) != await positions(service.dsn, HEADS)
    await asyncio.to_thread(stack.kill_and_restart, SERVICES)  # relays on: all published

    # a stream of every service's own commands, and of pledge events for the consumers to
    # copy; each service killed in turn in the middle of it, restarts overlapping
    streams = [SteadyLoad(stack, own_command(s, place), count=10000).start() for s in SERVICES]
    restarts = []
    for name in SERVICES:
        await asyncio.sleep(0.5)
        restarts.append(asyncio.create_task(asyncio.to_thread(stack.kill_and_restart, (name,))))
    await asyncio.gather(*restarts)
    await asyncio.sleep(1.0)  # the load goes on a while after the last restart
    for load in streams:
        await load.stop()
    for name, load in zip(SERVICES, streams, strict=True):
        assert load.attempted, f"the kill of {name} was not felt: the test proved nothing"
        assert load.acknowledged_after(load.attempted), f"{name} did not recover"
    report = await check_nothing_lost(stack, [*held_back, *streams])
    print(f"\nkill -9 each service: {report}")
