"""The event envelope: CloudEvents attribute names plus the log's own attributes.

CloudEvents extension names must be lower-case letters and digits, so the log's attributes
are spelt `streamid`, `streamversion`, `partition`, `sequence`, `schemaversion`, `actor`,
`actorrole`, `causationid`, `correlationid`, `prevhash`, `hash`. In NATS they travel as
`ce-<name>` headers (binary mode) with `data` as the JSON body.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict
from pydantic_core import PydanticSerializationError, to_json

GENESIS_HASH = "0" * 64
_INT64 = 1 << 63
_SCALARS = (str, bool, type(None))


class NotPlain(Exception):
    """A value `plain_sorted` (or a fast writer of canonical JSON) leaves to the standard
    library's encoder."""


def canonical_json(value: Any) -> bytes:
    """Deterministic JSON bytes: sorted keys, no spaces, UTF-8, exactly
    `json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)`.

    Every event's hash covers these bytes, so they never change. Plain values (strings,
    booleans, null, 64-bit integers, lists, objects with string keys: what events carry) are
    written by pydantic-core's serializer from a key-sorted copy, byte for byte what the
    standard library writes (same escapes, non-ASCII as UTF-8, tested against it) at a
    quarter of the cost; anything else (floats, whose digits the two write differently;
    bigger integers; other types) by the standard library itself."""
    try:
        return to_json(plain_sorted(value))
    except (NotPlain, PydanticSerializationError):  # (a lone surrogate: json's error below)
        return _stdlib_json(value)


def canonical_sorted(value: dict[str, Any]) -> bytes:
    """`canonical_json` of an object whose keys are already in sorted order and whose values
    are plain scalars, except `data` (walked): the envelope, on every append's path."""
    try:
        if list(value) != sorted(value):
            raise NotPlain
        for key, item in value.items():
            kind = type(item)
            if kind in _SCALARS or key == "data" or (kind is int and -_INT64 <= item < _INT64):
                continue
            raise NotPlain
        return to_json({**value, "data": plain_sorted(value["data"])})
    except (NotPlain, PydanticSerializationError):
        return _stdlib_json(value)


def _is_int64(value: Any) -> bool:
    return type(value) is int and -_INT64 <= value < _INT64


def _stdlib_json(value: Any) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def plain_sorted(value: Any) -> Any:
    """A copy of `value` with every object's keys in sorted order, if it is plain JSON
    (see `canonical_json`); else NotPlain."""
    kind = type(value)
    if kind is dict:
        keys = sorted(value)  # keys that do not compare: TypeError, as json.dumps says
        copy = {key: value[key] for key in keys}
        for key, item in copy.items():
            if type(key) is not str:
                raise NotPlain
            if type(item) not in _SCALARS:
                copy[key] = plain_sorted(item)
        return copy
    if kind in _SCALARS or _is_int64(value):
        return value
    if kind is list or kind is tuple:
        return [plain_sorted(item) for item in value]
    raise NotPlain


def json_time(moment: datetime) -> str:
    """A UTC time exactly as pydantic writes it in JSON (the hash covers these bytes)."""
    # isoformat writes the same digits (microseconds only when not zero) at a third the cost
    return moment.astimezone(UTC).replace(tzinfo=None).isoformat() + "Z"


def chain_hash(prev_hash: str, sequence: int, body: bytes) -> str:
    """hash = sha256(prev_hash bytes || sequence as 8-byte big-endian || canonical body).

    The same formula is computed inside PostgreSQL when the event is appended
    (`sha256(prev || int8send(seq) || body)`) and by the offline verifier.
    """
    digest = hashlib.sha256(bytes.fromhex(prev_hash) + sequence.to_bytes(8, "big") + body)
    return digest.hexdigest()


class EventEnvelope(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    # CloudEvents core attributes
    specversion: str = "1.0"
    id: str
    source: str
    type: str
    subject: str
    time: datetime
    datacontenttype: str = "application/json"
    # Gongkai extension attributes
    streamid: str
    streamversion: int
    partition: str
    sequence: int
    schemaversion: int
    actor: str
    actorrole: str
    causationid: str | None = None
    correlationid: str
    prevhash: str
    hash: str
    data: dict[str, Any]

    def body(self) -> bytes:
        """The canonical bytes covered by the hash (everything but sequence and hashes)."""
        return canonical_json(
            self.model_dump(mode="json", exclude={"sequence", "prevhash", "hash"})
        )

    def verifies_after(self, prev_hash: str) -> bool:
        return (
            self.prevhash == prev_hash
            and chain_hash(prev_hash, self.sequence, self.body()) == self.hash
        )

    def data_bytes(self) -> bytes:
        return canonical_json(self.data)

    def headers(self) -> dict[str, str]:
        """CloudEvents binary-mode headers (`ce-` + attribute) for NATS."""
        attrs = self.model_dump(mode="json", exclude={"data", "datacontenttype"})
        headers = {f"ce-{k}": str(v) for k, v in attrs.items() if v is not None}
        headers["content-type"] = self.datacontenttype
        return headers

    @classmethod
    def from_message(cls, headers: dict[str, str], payload: bytes) -> EventEnvelope:
        attrs: dict[str, Any] = {k[3:]: v for k, v in headers.items() if k.startswith("ce-")}
        attrs["data"] = json.loads(payload)
        return cls.model_validate(attrs)
