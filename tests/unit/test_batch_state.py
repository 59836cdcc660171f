"""A bulk append's state that failed once stays failed (shared/eventstore/postgres.py): a
handler that caught the failure and went on could otherwise commit rows written behind
without their partitions' heads moved."""

from __future__ import annotations

from typing import Any

import pytest

from shared.eventstore.postgres import BatchState


async def test_a_state_whose_write_failed_refuses_to_settle_again() -> None:
    state = BatchState(conn=None)  # type: ignore[arg-type]  # the writes below do not use it

    async def refused() -> Any:
        raise ValueError("refused by the read models")

    state.send(refused)
    with pytest.raises(ValueError, match="refused"):
        await state.settle()
    assert state.broken
    with pytest.raises(RuntimeError, match="must roll back"):
        await state.settle()


async def test_a_state_whose_writes_went_in_settles_as_often_as_asked() -> None:
    state = BatchState(conn=None)  # type: ignore[arg-type]
    done: list[int] = []

    async def write() -> Any:
        done.append(1)

    state.send(write)
    state.send(write)
    await state.settle()
    await state.settle()
    assert done == [1, 1]
    assert not state.broken
