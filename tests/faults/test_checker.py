"""The checker itself can fail: each way of losing, repeating, reordering, inventing or
tampering with an event is caught (a checker that cannot fail proves nothing)."""

from __future__ import annotations

import pytest

from shared.envelope import EventEnvelope
from shared.eventstore import AppendRequest, CommandContext, InMemoryEventStore
from tests.faults.checker import check_chains, check_load, check_stream
from tests.faults.load import SteadyLoad
from tests.integration.source import Noted


async def log_of(*texts: str) -> list[EventEnvelope]:
    store = InMemoryEventStore(source="/gongkai/test")
    log: list[EventEnvelope] = []
    for n, text in enumerate(texts):
        log += await store.append(
            AppendRequest("note-a", "t-a", n, [Noted(text=text)], CommandContext("a", "r"))
        )
    return log


async def test_the_checker_accepts_a_sound_log_and_stream() -> None:
    log = await log_of("L1-0", "L1-1", "L1-2")
    check_chains("s", log)
    check_stream("s", log, log)
    load = SteadyLoad(stack=None, request=lambda m: ("s", "", {}, {}), tag="L1")  # type: ignore[arg-type]
    load.acknowledged = {"L1-0": 0.0, "L1-2": 0.0}
    load.attempted = {"L1-1"}
    check_load(load, log)


async def test_the_checker_catches_tampering_loss_repeats_reordering_invention() -> None:
    log = await log_of("L1-0", "L1-1", "L1-2")
    tampered = log[1].model_copy(update={"data": {"text": "L1-9"}})
    with pytest.raises(AssertionError):
        check_chains("s", [log[0], tampered, log[2]])
    with pytest.raises(AssertionError):
        check_chains("s", [log[0], log[2]])  # a gap
    for stream in ([*log, log[1]], log[:2], [log[0], log[2], log[1]]):
        with pytest.raises(AssertionError):
            check_stream("s", log, stream)
    load = SteadyLoad(stack=None, request=lambda m: ("s", "", {}, {}), tag="L1")  # type: ignore[arg-type]
    load.acknowledged = {"L1-0": 0.0, "L1-1": 0.0, "L1-2": 0.0, "L1-3": 0.0}
    with pytest.raises(AssertionError, match="missing"):
        check_load(load, log)
    load.acknowledged = {"L1-0": 0.0, "L1-1": 0.0}
    with pytest.raises(AssertionError, match="invented"):
        check_load(load, log)
