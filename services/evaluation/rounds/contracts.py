"""Events of other services that the rounds read: none. Their subjects come from this
service's copy of the directory (D2, shared/directory.py), which the pledge service's directory
events keep."""

from __future__ import annotations

from shared.consumed import Consumed

CONSUMED: dict[str, type[Consumed]] = {}
