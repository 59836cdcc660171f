"""Events of other services that the evaluation service consumes (their published contracts),
every area's in one table: the fields each reads, parsed with `extra="ignore"`;
tests/unit/test_consumed_contracts.py holds them to the publishers' real event classes."""

from __future__ import annotations

from services.evaluation.checks.contracts import CONSUMED as CHECKS
from services.evaluation.ratings.contracts import CONSUMED as RATINGS
from services.evaluation.rounds.contracts import CONSUMED as ROUNDS
from services.evaluation.selection.contracts import CONSUMED as SELECTION
from shared.consumed import Consumed

CONSUMED: dict[str, type[Consumed]] = {**ROUNDS, **CHECKS, **RATINGS, **SELECTION}
