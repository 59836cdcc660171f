"""The "nothing lost" checker: every service's log against its stream, its load and every
consumer's inbox and read models. A test tool, so it reads every database directly."""

from __future__ import annotations

import asyncio
import json
import re
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import TypeVar

import asyncpg
import nats.errors
import nats.js.errors
from nats.js import JetStreamContext

from shared.envelope import GENESIS_HASH, EventEnvelope
from shared.eventstore.postgres import COLUMNS, decode_row
from shared.messaging import connect
from tests.e2e.test_directory_copy import BRANCHES, MEMBERS
from tests.faults.load import SteadyLoad
from tests.faults.stack import Stack

T = TypeVar("T")

# which services each service consumes every event of (filtered subscriptions, such as the
# pledge service's verdicts, cannot be checked by position and are left out)
CONSUMES = {
    "review": ("pledge", "identity"),
    "evaluation": ("pledge", "review"),
    "notification": ("pledge", "review", "evaluation"),
}
# (query, a consumer's copy, the pledge service's own table)
COPIES = ((MEMBERS, "rm.dir_members", "rm.members"), (BRANCHES, "rm.dir_branches", "rm.branches"))
HEADS = "SELECT partition, sequence FROM partition_heads"
PUBLISHED = "SELECT partition, sequence FROM relay_positions"
CONSUMED = "SELECT partition, sequence FROM consumer_positions WHERE consumer = $1 AND source = $2"


@dataclass
class Report:
    events: dict[str, int] = field(default_factory=dict)  # per service
    settled_after: float = 0.0  # seconds the consumers needed to catch up after the check began


async def positions(dsn: str, query: str, *args: str) -> dict[str, int]:
    conn = await asyncpg.connect(dsn)
    try:
        return {r["partition"]: r["sequence"] for r in await conn.fetch(query, *args)}
    finally:
        await conn.close()


async def settled(stack: Stack) -> bool:
    """Every committed event published, and consumed by every consumer that is running."""
    heads = {name: await positions(s.dsn, HEADS) for name, s in stack.services.items()}
    for name, service in stack.services.items():
        if await positions(service.dsn, PUBLISHED) != heads[name]:
            return False
        for source in CONSUMES.get(name, ()):
            if source in heads:
                consumed = await positions(service.dsn, CONSUMED, name, source)
                if consumed != heads[source]:
                    return False
    return True


async def read_log(dsn: str) -> list[EventEnvelope]:
    conn = await asyncpg.connect(dsn)
    try:
        return [decode_row(r) for r in await conn.fetch(f"SELECT {COLUMNS} FROM events ORDER BY 1")]
    finally:
        await conn.close()


def check_chains(service: str, log: list[EventEnvelope]) -> None:
    """Per partition: gap-free sequences from 1, each hash chained to the one before."""
    previous: dict[str, tuple[int, str]] = {}
    for event in sorted(log, key=lambda e: (e.partition, e.sequence)):
        sequence, prev_hash = previous.get(event.partition, (0, GENESIS_HASH))
        assert event.sequence == sequence + 1, (service, event.partition, event.sequence)
        assert event.verifies_after(prev_hash), (service, event.id)
        previous[event.partition] = (event.sequence, event.hash)


async def answered(ask: Callable[[], Awaitable[T]], within: float = 60) -> T:
    """A JetStream API answer: a cluster whose node has just come back can leave requests
    unanswered for some seconds while its streams elect leaders (seen: over 5 s), or answer
    503 "JetStream system temporarily unavailable" meanwhile (seen once in CI)."""
    deadline = asyncio.get_running_loop().time() + within
    while True:
        try:
            return await ask()
        except (nats.errors.TimeoutError, nats.js.errors.ServiceUnavailableError):
            if asyncio.get_running_loop().time() > deadline:
                raise
            await asyncio.sleep(0.2)
            await asyncio.sleep(0.5)


async def published(js: JetStreamContext, stream: str, injected: set[int]) -> list[EventEnvelope]:
    """The stream's events, less what a test put there itself (by stream sequence)."""
    info = await answered(lambda: js.stream_info(stream))
    envelopes = []
    for seq in range(info.state.first_seq, info.state.last_seq + 1):
        if seq not in injected and info.state.messages:
            message = await answered(lambda seq=seq: js.get_msg(stream, seq))
            headers = dict(message.headers or {})
            envelopes.append(EventEnvelope.from_message(headers, message.data or b""))
    return envelopes


def check_stream(service: str, log: list[EventEnvelope], stream: list[EventEnvelope]) -> None:
    """The stream holds each log event exactly once, in sequence order within a partition."""
    ids = Counter(e.id for e in stream)
    assert [i for i, n in ids.items() if n > 1] == [], f"{service}: published twice"
    assert set(ids) == {e.id for e in log}, f"{service}: stream and log differ"
    last: dict[str, int] = {}
    for event in stream:
        assert event.sequence > last.get(event.partition, 0), (service, "out of order", event.id)
        last[event.partition] = event.sequence


def check_load(load: SteadyLoad, log: list[EventEnvelope]) -> None:
    """Every acknowledged command is in the log; every marked event was at least attempted."""
    pattern = re.compile(rf"{load.tag}-\d+")
    found = Counter(m for e in log for m in pattern.findall(json.dumps(e.data, ensure_ascii=False)))
    assert [m for m, n in found.items() if n > 1] == [], "a command appended twice"
    assert set(load.acknowledged) <= set(found), "an acknowledged command is missing"
    assert set(found) <= set(load.acknowledged) | load.attempted, "an event was invented"


async def check_consumer(
    stack: Stack, consumer: str, logs: dict[str, list[EventEnvelope]], parked: int
) -> None:
    """Its inbox holds every event of each source once; its directory copy equals pledge's."""
    conn = await asyncpg.connect(stack[consumer].dsn)
    try:
        for source in CONSUMES[consumer]:
            if source in logs:
                kept = await conn.fetch("SELECT id FROM inbox WHERE source = $1", source)
                assert {str(r["id"]) for r in kept} == {e.id for e in logs[source]}, (
                    consumer,
                    source,
                )
        count = await conn.fetchval("SELECT count(*) FROM parked_messages")
        assert count == parked, (consumer, "parked", count)
        if "pledge" in logs:
            await check_directory_copy(stack, conn, consumer, logs["pledge"])
    finally:
        await conn.close()


async def check_directory_copy(
    stack: Stack, conn: asyncpg.Connection, consumer: str, pledge_log: list[EventEnvelope]
) -> None:
    pledge = await asyncpg.connect(stack["pledge"].dsn)
    try:
        for query, copy, own in (
            (MEMBERS, "rm.dir_members", "rm.members"),
            (BRANCHES, "rm.dir_branches", "rm.branches"),
        ):
            mine = [tuple(r) for r in await conn.fetch(query.format(copy))]
            assert mine == [tuple(r) for r in await pledge.fetch(query.format(own))], consumer
    finally:
        await pledge.close()
    # a second effect of one event would show as a second history row
    history = await conn.fetchval(
        "SELECT count(*) FROM rm.dir_history WHERE change = 'MemberEnrolled'"
    )
    assert history == sum(e.type == "MemberEnrolled" for e in pledge_log), consumer


async def check_nothing_lost(
    stack: Stack,
    loads: Sequence[SteadyLoad] = (),
    *,
    parked: dict[str, int] | None = None,
    injected: dict[str, set[int]] | None = None,
    timeout: float = 60,
) -> Report:
    """Wait for every consumer to catch up, then check everything; a Report of the sizes."""
    loop = asyncio.get_running_loop()
    began = loop.time()
    while not await settled(stack):
        assert loop.time() - began < timeout, "consumers did not catch up"
        await asyncio.sleep(0.2)
    report = Report(settled_after=loop.time() - began)
    logs = {name: await read_log(s.dsn) for name, s in stack.services.items()}
    nc = await connect(stack.nats_url, name="checker")
    try:
        js: JetStreamContext = nc.jetstream()
        for name, log in logs.items():
            check_chains(name, log)
            stream = stack.subjects.stream(name)
            check_stream(name, log, await published(js, stream, (injected or {}).get(name, set())))
            report.events[name] = len(log)
    finally:
        await nc.close()
    for load in loads:
        check_load(load, logs[load.service])
    for consumer in CONSUMES:
        if consumer in stack.services:
            await check_consumer(stack, consumer, logs, (parked or {}).get(consumer, 0))
    return report
