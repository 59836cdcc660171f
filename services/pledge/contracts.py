"""Events of other services that the pledge service consumes (their published contract).

`SatisfactionVerdictReached` is emitted by the evaluation service (E8) when the satisfaction
check of a pledge item closes. Contract, version 1:

- stream `GONGKAI_EVALUATION`, subject
  `gongkai.evaluation.<township_id>.satisfaction_check.SatisfactionVerdictReached`
- CloudEvents binary mode as every Gongkai event (`ce-type: SatisfactionVerdictReached`,
  `ce-schemaversion: 1`, `ce-streamid: satisfaction_check-<check_id>`, ...), JSON body below.
- `verdict` is `satisfied` when `satisfaction_rate` (satisfied + mostly satisfied, over all
  ballots) reached the check's `threshold`, else `dissatisfied`.

Parsed with `extra="ignore"`: only the fields named here are read (a field the evaluation
service adds later never stops a verdict); tests/unit/test_consumed_contracts.py holds them to
the evaluation service's real class.
"""

from __future__ import annotations

from pydantic import Field

from services.pledge.events import Verdict
from shared.consumed import Consumed, by_type


class SatisfactionVerdictReached(Consumed):
    check_id: str
    pledge_id: str
    item_id: str
    verdict: Verdict
    satisfaction_rate: float = Field(ge=0, le=1)


class SatisfactionCheckLapsed(Consumed):
    """The check's window ended with no ballot: no verdict (E8); subject
    `gongkai.evaluation.<township_id>.satisfaction_check.SatisfactionCheckLapsed`."""

    check_id: str
    pledge_id: str
    item_id: str


class SatisfactionCheckExtended(Consumed):
    """A later closing date for a check; `reopened` when it had lapsed with no ballot."""

    check_id: str
    pledge_id: str
    item_id: str
    reopened: bool


CONSUMED = by_type(SatisfactionVerdictReached, SatisfactionCheckLapsed, SatisfactionCheckExtended)
