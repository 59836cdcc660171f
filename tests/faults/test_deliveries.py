"""Deliveries gone wrong: copies of published events (same message id, and new ids out of
order), a poison message, a consumer frozen while the load goes on. No second effect, the
poison parked and logged, the consumer carries on and catches up."""

from __future__ import annotations

from nats.js.api import Header

from shared.messaging import connect
from tests.faults.checker import CONSUMED, HEADS, check_nothing_lost, positions, published
from tests.faults.load import SteadyLoad, enrolment, establish_place
from tests.faults.stack import Stack
from tests.support import Servers


async def test_duplicates_reordering_poison_and_a_slow_consumer(
    fault_servers: Servers, stack: Stack
) -> None:
    stack.start()
    load = enrolment(establish_place(stack, fault_servers))
    before = SteadyLoad(stack, load, count=30, interval=0.02)
    await before.start().wait()
    await check_nothing_lost(stack, [before])
    subject_of, stream = stack.subjects.of, stack.subjects.stream("pledge")
    injected: set[int] = set()
    nc = await connect(stack.nats_url, name="fault-injector")
    try:
        js = nc.jetstream()
        events = await published(js, stream, set())
        for event in events:  # the relay repeating itself: the broker drops the copies
            headers = event.headers() | {Header.MSG_ID: event.id}
            ack = await js.publish(subject_of("pledge", event), event.data_bytes(), headers=headers)
            assert ack.duplicate
        for event in reversed(events):  # repeats the broker cannot see, newest first
            headers = event.headers() | {Header.MSG_ID: f"again-{event.id}"}
            ack = await js.publish(subject_of("pledge", event), event.data_bytes(), headers=headers)
            injected.add(ack.seq)
        poison = subject_of("pledge", events[-1])
        injected.add((await js.publish(poison, b"not an event", headers={"x": "y"})).seq)
    finally:
        await nc.close()

    # the slow consumer: frozen while the load goes on, then let go
    review = stack["review"]
    review.pause()
    during = SteadyLoad(stack, load, count=60).start()
    await during.wait()
    pledge_heads = await positions(stack["pledge"].dsn, HEADS)
    review.resume()
    assert await positions(review.dsn, CONSUMED, "review", "pledge") != pledge_heads
    report = await check_nothing_lost(
        stack,
        [before, during],
        parked={name: 1 for name in stack.services if name != "pledge"},
        injected={"pledge": injected},
    )
    print(f"\nduplicates, poison, slow consumer: {report}")
    assert "message_parked" in review.log.read_text()
