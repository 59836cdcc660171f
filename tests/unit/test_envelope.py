"""The bytes the hash covers are the same whether the store writes them or a reader
recomputes them from the envelope (no drift between json_time and pydantic)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from shared.envelope import EventEnvelope, chain_hash
from shared.events import DomainEvent
from shared.eventstore import AppendRequest, CommandContext, draft_event


class Spoke(DomainEvent):
    aggregate_type = "thing"
    words: str
    n: int


@pytest.mark.parametrize(
    "moment",
    [
        datetime(2027, 1, 4, 2, 0, tzinfo=UTC),
        datetime(2027, 1, 4, 2, 0, 0, 120, tzinfo=UTC),
        datetime(2027, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),
        datetime(2027, 3, 15, 9, 30, tzinfo=timezone(timedelta(hours=8))),
    ],
)
def test_draft_body_is_what_the_sealed_envelope_hashes(moment: datetime) -> None:
    request = AppendRequest(
        "thing-1",
        "t-a",
        0,
        [Spoke(words='承诺 "quoted"', n=3)],
        CommandContext("m-1", "member", causation_id=None),
    )
    draft = draft_event(
        source="/gongkai/test", request=request, index=0, event=request.events[0], now=moment
    )
    digest = chain_hash("00" * 32, 1, draft.body)
    sealed = draft.seal(1, "00" * 32, digest)
    assert sealed.body() == draft.body
    assert sealed.verifies_after("00" * 32)
    # and after a round trip through JSON, as a consumer or the offline verifier sees it
    reread = EventEnvelope.model_validate_json(sealed.model_dump_json())
    assert reread.body() == draft.body
    assert reread.time == moment
