"""What one request may not exceed, checked before the app sees it: the body's size (also
when it comes in chunks, with no Content-Length), its JSON nesting depth, a key given twice,
and a public client's request rate (a token bucket per client address)."""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from starlette.requests import ClientDisconnect
from starlette.types import Message, Receive

# a backslash escape (one token, so an escaped quote does not end a string), a quote, a bracket
_JSON_TOKENS = re.compile(rb'\\.|["\[\]{}]', re.DOTALL)


class BodyTooLarge(Exception):
    pass


async def read_body(receive: Receive, limit: int) -> bytes:
    """The whole body, refused as soon as it passes `limit` bytes, however it is sent."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":  # the client went away: nothing to hand on
            raise ClientDisconnect
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge
        chunks.append(chunk)
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


def replaying(body: bytes, receive: Receive) -> Receive:
    """A `receive` that hands the app the body already read, then defers to the client."""
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if sent:
            return await receive()
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return replay


def json_too_deep(body: bytes, limit: int) -> bool:
    """Whether the JSON text nests arrays and objects deeper than `limit`, by counting brackets
    outside strings: linear, no recursion, and no scan at all when there are too few brackets
    to reach the limit (every ordinary body)."""
    if body.count(b"[") + body.count(b"{") <= limit:
        return False
    depth, in_string = 0, False
    for match in _JSON_TOKENS.finditer(body):
        token = match.group()
        if token == b'"':
            in_string = not in_string
        elif in_string or token[:1] == b"\\":
            continue
        elif token in (b"[", b"{"):
            depth += 1
            if depth > limit:
                return True
        else:
            depth -= 1
    return False


class _Twice(dict[str, Any]):
    """A JSON object that gave `key` more than once."""

    key = ""


def _object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    found = dict(pairs)
    if len(found) == len(pairs):
        return found
    twice, seen = _Twice(found), set()
    for key, _ in pairs:
        if key in seen:
            twice.key = key
            break
        seen.add(key)
    return twice


def duplicated_key(body: bytes) -> str | None:
    """Where the JSON text gives a key twice in one object (its dotted path), else None. Python
    keeps the last value and other parsers the first, so such a body means different things to
    whoever reads it (the check, the log, an auditor's tool). Not JSON: None, the app says why."""
    try:
        parsed = json.loads(body, object_pairs_hook=_object)
    except ValueError:  # not UTF-8 or not JSON
        return None
    stack: list[tuple[Any, tuple[str, ...]]] = [(parsed, ())]
    while stack:
        value, path = stack.pop()
        if isinstance(value, _Twice):
            return ".".join((*path, value.key))
        items: Iterable[tuple[Any, Any]]
        if isinstance(value, dict):
            items = value.items()
        elif isinstance(value, list):
            items = enumerate(value)
        else:
            continue
        stack.extend((item, (*path, str(key))) for key, item in items)
    return None


@dataclass
class TokenBuckets:
    """`rate` requests a second per key, in bursts of up to `burst`."""

    rate: float
    burst: int
    max_keys: int = 100_000  # past this many clients, forget those whose bucket is full
    _buckets: dict[str, tuple[float, float]] = field(default_factory=dict)  # tokens, at

    def take(self, key: str, now: float) -> float:
        """Take a token: 0 when there was one, else the seconds until there will be."""
        tokens, at = self._buckets.get(key, (float(self.burst), now))
        tokens = min(float(self.burst), tokens + (now - at) * self.rate)
        if tokens < 1:
            self._buckets[key] = (tokens, now)
            return (1 - tokens) / self.rate
        if len(self._buckets) >= self.max_keys:
            self._forget_full(now)
        self._buckets[key] = (tokens - 1, now)
        return 0.0

    def _forget_full(self, now: float) -> None:
        """Forget the buckets that are full again; if too many callers are still recent (a
        flood of addresses), forget the least recently seen half, so memory stays bounded."""
        refill = self.burst / self.rate
        kept = {k: v for k, v in self._buckets.items() if now - v[1] < refill}
        if len(kept) >= self.max_keys // 2:
            recent = sorted(kept.items(), key=lambda item: item[1][1])[len(kept) // 2 :]
            kept = dict(recent)
        self._buckets = kept


def retry_after(seconds: float) -> str:
    return str(max(1, math.ceil(seconds)))
