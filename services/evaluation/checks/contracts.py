"""Events of other services that satisfaction checks read: the pledge service's
`ItemReportedDone` opens a check (E8, policies.py). Its fields are read from the event's data
as it stands for now (`pledge_id`, `item_id`, `township_id`, `title`, `summary`), not yet
through a model here."""

from __future__ import annotations

from shared.consumed import Consumed

CONSUMED: dict[str, type[Consumed]] = {}
