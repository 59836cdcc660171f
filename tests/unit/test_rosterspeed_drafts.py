"""The bulk path writes each event's body from its parts (`BatchDrafts`): the bytes every
hash covers must be exactly the canonical JSON of the envelope's attributes, as
`draft_event` (and `json.dumps(sort_keys=True, ...)` before it) writes them, for any
context, stream, partition and data; what is not plain JSON goes by `draft_event` itself."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from shared.envelope import json_time
from shared.events import DomainEvent
from shared.eventstore import AppendRequest, CommandContext, draft_event
from shared.eventstore.base import IDS_DRAWN, BatchDrafts
from shared.unit_of_work import new_ids

MOMENT = datetime(2027, 1, 4, 10, 0, 0, 120, tzinfo=timezone(timedelta(hours=8)))


def stdlib(value: Any) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


class Noted(DomainEvent):
    aggregate_type = "thing"
    words: str
    n: int
    flag: bool
    tags: list[str]
    extra: dict[str, Any]
    maybe: str | None = None


plain = st.recursive(
    st.one_of(st.text(), st.booleans(), st.none(), st.integers(-(1 << 63), (1 << 63) - 1)),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(), inner, max_size=3),
    max_leaves=10,
)
awkward = st.one_of(  # beside plain values: the standard library's own path
    st.floats(allow_nan=False), st.integers(1 << 63, 1 << 65), st.just("x\ud800")
)
events = st.builds(
    Noted,
    words=st.text(),
    n=st.integers(-(1 << 70), 1 << 70),
    flag=st.booleans(),
    tags=st.lists(st.text(), max_size=3),
    extra=st.dictionaries(st.text(), st.one_of(plain, awkward), max_size=3),
    maybe=st.none() | st.text(),
)
contexts = st.builds(
    CommandContext,
    actor=st.text(min_size=1),
    role=st.text(),
    correlation_id=st.text(),
    causation_id=st.none() | st.text(),
)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(st.text(min_size=1), st.sampled_from(["t-a", "乡镇\n", '"q"']), events),
        min_size=1,
        max_size=4,
    ),
    contexts,
    st.text(min_size=1),
    st.integers(0, 5),
)
def test_the_body_is_the_canonical_json_of_the_attributes(
    drawn: list[tuple[str, str, Noted]], context: CommandContext, source: str, expected: int
) -> None:
    drafts = BatchDrafts(source, MOMENT)
    for stream, partition, event in drawn:
        request = AppendRequest(stream, partition, expected, [event, event], context)
        for index in (0, 1):
            try:
                reference = draft_event(
                    source=source, request=request, index=index, event=event, now=MOMENT
                )
            except UnicodeEncodeError:  # a lone surrogate: refused both ways
                try:
                    drafts.draft(request, index, event)
                except UnicodeEncodeError:
                    continue
                raise AssertionError("a lone surrogate was written") from None
            draft = drafts.draft(request, index, event)
            assert draft.body == stdlib({**draft.attrs, "time": json_time(MOMENT)})
            # the same attributes, in the envelope's order, as draft_event's (but the id)
            assert {**draft.attrs, "id": ""} == {**reference.attrs, "id": ""}
            assert list(draft.attrs) == list(reference.attrs)
            assert draft.body == reference.body.replace(
                reference.attrs["id"].encode(), draft.attrs["id"].encode()
            )
            assert draft.time == MOMENT.astimezone(UTC)


def test_event_ids_stay_distinct_version_4_uuids_across_draws() -> None:
    drafts = BatchDrafts("/gongkai/test", MOMENT)
    event = Noted(words="承诺", n=1, flag=True, tags=[], extra={})
    request = AppendRequest("thing-1", "t-a", 0, [event], CommandContext("m-1", "member"))
    ids = [drafts.draft(request, 0, event).attrs["id"] for _ in range(3 * IDS_DRAWN + 5)]
    assert len(set(ids)) == len(ids)
    v4 = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
    assert all(v4.match(i) for i in ids)


def test_ids_made_many_at_a_time_look_as_one_at_a_time() -> None:
    made = new_ids("m", 8, drawn=4)
    ids = [next(made) for _ in range(1000)]
    assert len(set(ids)) == 1000
    assert all(re.fullmatch(r"m-[0-9a-f]{16}", i) for i in ids)
