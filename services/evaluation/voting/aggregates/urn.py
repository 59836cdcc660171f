"""When the urn's ballots go into the ballot box, in what order, and how long a guesser waits
(issue 17). Pure rules; the randomness is the operating system's (`secrets`)."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from typing import TypeVar

T = TypeVar("T")

DEFAULT_BATCH = 10  # k: ballots appended together, at least (per round: a setting)


def batch_due(in_urn: int, k: int, closing: bool) -> bool:
    """A batch is appended once k ballots wait, and at close whatever remains (a check with
    fewer than k raters: only then)."""
    return in_urn > 0 and (closing or in_urn >= max(k, 1))


def shuffled(ballots: Sequence[T]) -> list[T]:
    """The batch in an order drawn from the operating system's random source: nothing of the
    order the raters voted in is left in the order the ballots are appended."""
    out = list(ballots)
    secrets.SystemRandom().shuffle(out)
    return out


# --- guessing codes ------------------------------------------------------------------------
FREE_FAILURES = 5  # wrong codes from one address before it waits
ADDRESS_MAX_WAIT = 3600.0  # seconds
SERVICE_FREE_FAILURES = 500  # wrong codes from everyone within a window before all wait
SERVICE_MAX_WAIT = 300.0


def wait_after(failures: int, free: int = FREE_FAILURES, cap: float = ADDRESS_MAX_WAIT) -> float:
    """Seconds to wait before the next try after `failures` wrong codes: none for the first
    few (typing mistakes), then doubling: 1, 2, 4 … up to the cap."""
    if failures < free:
        return 0.0
    return float(min(2 ** (failures - free), cap))
