"""The bytes every hash covers: `canonical_json` writes plain values through pydantic-core
(faster) and anything else through the standard library; both must give exactly what
`json.dumps(sort_keys=True, separators=(",", ":"), ensure_ascii=False)` gives, or every
event already in a log would stop verifying."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shared.envelope import canonical_json, canonical_sorted, json_time
from shared.events import DomainEvent
from shared.eventstore import AppendRequest, CommandContext, draft_event
from shared.eventstore.base import new_event_id


def stdlib(value: Any) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


INT64 = 1 << 63
scalars = st.one_of(
    st.text(),
    st.booleans(),
    st.none(),
    st.integers(min_value=-INT64, max_value=INT64 - 1),
    st.integers(min_value=INT64, max_value=INT64 * 4),  # beyond 64 bits: the stdlib's path
    st.floats(allow_nan=False),  # the stdlib's path (digits are written differently)
)
values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(st.text(), inner, max_size=5)
        | st.dictionaries(st.integers(), inner, max_size=3)
    ),  # keys json turns into text
    max_leaves=30,
)


@settings(max_examples=300, deadline=None)
@given(values)
def test_the_same_bytes_as_the_standard_library(value: Any) -> None:
    try:
        expected = stdlib(value)
    except UnicodeEncodeError:  # a lone surrogate: refused both ways
        with pytest.raises(UnicodeEncodeError):
            canonical_json(value)
        return
    assert canonical_json(value) == expected


@pytest.mark.parametrize(
    "value",
    [
        {"b": "承诺", "a": ["\x00\x1f\x7f\u2028\u2029", "\b\f\n\r\t", '"\\/', "😀𠀀"]},
        {"n": INT64 - 1, "m": -INT64, "big": INT64, "f": 1e16, "g": 1e-05, "t": True},
        [{"z": None, "y": {"x": [1, 2, {"c": "", "b": 0}]}}],
        {"time": "2027-01-04T02:00:00.000120Z", "tuple": (1, "二")},
    ],
)
def test_known_awkward_values(value: Any) -> None:
    assert canonical_json(value) == stdlib(value)


def test_a_lone_surrogate_is_refused_as_before() -> None:
    with pytest.raises(UnicodeEncodeError):
        canonical_json({"a": "x\ud800"})


def test_the_envelope_fast_path_checks_its_own_assumptions() -> None:
    # not in sorted order, a float among the attributes: the standard library's bytes
    assert canonical_sorted({"b": 1, "a": 2, "data": {}}) == stdlib({"b": 1, "a": 2, "data": {}})
    assert canonical_sorted({"a": 1.5, "data": {"y": 1, "x": 2}}) == stdlib(
        {"a": 1.5, "data": {"y": 1, "x": 2}}
    )


class Spoke(DomainEvent):
    aggregate_type = "thing"
    words: str
    n: int
    tags: list[str]


def test_a_drafted_body_is_the_standard_librarys_canonical_envelope() -> None:
    moment = datetime(2027, 1, 4, 2, 0, 0, 120, tzinfo=UTC)
    request = AppendRequest(
        "thing-1",
        "t-a",
        4,
        [Spoke(words='承诺 "quoted"\n', n=3, tags=["甲", "b"])],
        CommandContext("m-1", "member", causation_id="c-1"),
    )
    draft = draft_event(
        source="/gongkai/test", request=request, index=0, event=request.events[0], now=moment
    )
    attrs = {**draft.attrs, "time": json_time(moment)}
    assert draft.body == stdlib(attrs)
    assert draft.attrs["streamversion"] == 5
    assert list(draft.attrs)[:2] == ["specversion", "id"]  # the envelope's own order


def test_event_ids_are_version_4_uuids() -> None:
    ids = {new_event_id() for _ in range(2000)}
    assert len(ids) == 2000
    for text in ids:
        parsed = uuid.UUID(text)
        assert (parsed.version, parsed.variant) == (4, uuid.RFC_4122)
        assert str(parsed) == text
