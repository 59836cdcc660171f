"""Events of other services that satisfaction checks read: the pledge service's
`ItemReportedDone` opens a check (E8, policies.py). Parsed with `extra="ignore"`: only the
fields named here are read; tests/unit/test_consumed_contracts.py holds them to the pledge
service's real class."""

from __future__ import annotations

from shared.consumed import Consumed, by_type


class ItemReportedDone(Consumed):
    pledge_id: str
    item_id: str
    township_id: str
    title: str
    summary: str


CONSUMED = by_type(ItemReportedDone)
