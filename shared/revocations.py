"""Access ended "at once": posts ended and people locked, as the identity service publishes them.

A bearer token lives minutes; a post revoked or a person locked must not keep acting until it
expires. The identity service publishes `PostEnded {person_id, role, org, at}`,
`PersonLocked {person_id, at, until?}` (a brute-force lock ends by itself) and
`PersonUnlocked {person_id, at}` on its stream
(`gongkai.identity.<partition>.<aggregate>.<Type>`, docs/security.md). Every service's runtime
follows those three subjects (`RevocationFeed`, an ordered consumer replaying from now minus
the longest token lifetime at start) into a `Revocations` memory, which the token verifier asks
on every use of a token (`TokenVerifier.revocations`). The rule, with `iat` the token's issue
time:

* a token of (sub, role, org) is refused when that post ended at or after `iat`;
* a token of sub is refused when sub was locked at or after `iat`, or was locked when it was
  issued (the last lock or unlock at or before `iat` is a lock).

A token issued after an unlock or a new grant is fine. `iat` counts whole seconds, so a token
issued in the same second as the revocation is refused too (the safe side). What is older than
the longest token lifetime is forgotten: no token it could refuse is still alive (the verifier
refuses tokens living longer).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import structlog
from nats.js import JetStreamContext
from nats.js.api import ConsumerConfig, DeliverPolicy
from nats.js.errors import NotFoundError

from shared.auth import Principal
from shared.envelope import EventEnvelope
from shared.messaging import Subjects

log = structlog.get_logger()

SOURCE = "identity"
POST_ENDED = "PostEnded"
PERSON_LOCKED = "PersonLocked"
PERSON_UNLOCKED = "PersonUnlocked"
TYPES = (POST_ENDED, PERSON_LOCKED, PERSON_UNLOCKED)
REVOKED = "访问权限已被撤销"
RETRY_SECONDS = 1.0  # how often a missing identity stream (or broker) is looked for again


def _seconds(value: Any) -> float:
    """An event's `at` (ISO 8601, `Z` or an offset; naive is UTC) as a POSIX time."""
    if isinstance(value, datetime):
        moment = value
    else:
        moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


@dataclass
class Revocations:
    """What ended whose access when, for the last `window_seconds`; no I/O."""

    window_seconds: float
    now: Callable[[], float] = time.time
    posts: dict[tuple[str, str, str | None], float] = field(default_factory=dict)  # latest end
    locks: dict[str, list[tuple[float, bool]]] = field(default_factory=dict)  # (at, locked)
    applied: int = 0

    def record(self, event_type: str, data: dict[str, Any]) -> None:
        """Remember one identity event (other types are ignored)."""
        if event_type not in TYPES:
            return
        person, at = str(data["person_id"]), _seconds(data["at"])
        if event_type == POST_ENDED:
            post = (person, str(data["role"]), data.get("org"))
            self.posts[post] = max(at, self.posts.get(post, at))
        else:
            changes = self.locks.setdefault(person, [])
            changes.append((at, event_type == PERSON_LOCKED))
            if event_type == PERSON_LOCKED and data.get("until"):  # a lock that ends by itself
                changes.append((_seconds(data["until"]), False))
            changes.sort()
        self.applied += 1
        if self.applied % 256 == 0:
            self.forget_old()

    def record_envelope(self, envelope: EventEnvelope) -> None:
        data = dict(envelope.data)
        data.setdefault("at", envelope.time)
        self.record(envelope.type, data)

    def refused(self, principal: Principal, issued_at: float) -> str | None:
        """Why a token of `principal` issued at `issued_at` gives no access now (None: it does)."""
        ended = self.posts.get((principal.subject, str(principal.role), principal.org))
        if ended is not None and ended >= issued_at:
            post = f"{principal.role}，{principal.org}"
            return f"{REVOKED}：该岗位已于令牌签发后结束（{post}），请重新登录"
        changes = self.locks.get(principal.subject)
        if changes:
            if any(locked and at >= issued_at for at, locked in changes):
                return f"{REVOKED}：账户已于令牌签发后锁定"
            before = [locked for at, locked in changes if at < issued_at]
            if before and before[-1]:
                return f"{REVOKED}：账户在令牌签发时处于锁定状态"
        return None

    def forget_old(self) -> None:
        """Drop what no live token can be refused by (older than the longest lifetime)."""
        horizon = self.now() - self.window_seconds
        self.posts = {post: at for post, at in self.posts.items() if at >= horizon}
        for person in list(self.locks):
            changes = self.locks[person]
            # the last change before the horizon still says whether they were locked then
            older = [c for c in changes if c[0] < horizon]
            kept = [c for c in changes if c[0] >= horizon]
            if older and older[-1][1]:
                kept.insert(0, older[-1])
            if kept:
                self.locks[person] = kept
            else:
                del self.locks[person]


class RevocationFeed:
    """Follows the identity service's PostEnded/PersonLocked/PersonUnlocked into `revocations`:
    an ordered (ephemeral, in-memory) consumer starting `window_seconds` ago, so every process
    knows what ended within a token's lifetime from the moment it starts. Until the identity
    stream exists (identity not deployed yet, or started after this service) it looks again
    every second."""

    def __init__(self, js: JetStreamContext, subjects: Subjects, revocations: Revocations) -> None:
        self.js = js
        self.subjects = subjects
        self.revocations = revocations
        self._stopping = asyncio.Event()
        self.following = asyncio.Event()  # set once the consumer exists

    def stop(self) -> None:
        self._stopping.set()

    @property
    def filters(self) -> list[str]:
        return [self.subjects.matching(SOURCE, event_type=kind) for kind in TYPES]

    async def run(self) -> None:
        while not self._stopping.is_set():
            try:
                await self._follow()
            except NotFoundError:
                log.debug("revocations_waiting_for_identity_stream")
            except Exception as error:  # the broker went away: follow again, replaying
                log.warning("revocations_retrying", error=repr(error))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), timeout=RETRY_SECONDS)

    async def _follow(self) -> None:
        start = datetime.fromtimestamp(
            self.revocations.now() - self.revocations.window_seconds, tz=UTC
        )
        subscription = await self.js.subscribe(
            self.filters[0],
            stream=self.subjects.stream(SOURCE),
            ordered_consumer=True,
            config=ConsumerConfig(
                filter_subjects=self.filters,
                deliver_policy=DeliverPolicy.BY_START_TIME,
                opt_start_time=start,
            ),
        )
        self.following.set()
        log.info("revocations_following", since=start.isoformat())
        try:
            while not self._stopping.is_set():
                try:
                    msg = await subscription.next_msg(timeout=1.0)
                except TimeoutError:
                    continue
                try:
                    envelope = EventEnvelope.from_message(dict(msg.headers or {}), msg.data)
                    self.revocations.record_envelope(envelope)
                except Exception as error:  # malformed: nothing to refuse by; say which
                    log.error("revocation_unreadable", subject=msg.subject, error=repr(error))
        finally:
            self.following.clear()
            with contextlib.suppress(Exception):
                await subscription.unsubscribe()
