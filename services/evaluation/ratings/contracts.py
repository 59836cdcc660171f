"""Events of other services that periodic ratings read: none (their subjects come from the
directory copy, D2)."""

from __future__ import annotations

from shared.consumed import Consumed

CONSUMED: dict[str, type[Consumed]] = {}
