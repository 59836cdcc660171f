"""The notification service's part of a generated history (N3, N4): the county's calendar of
deadlines each January, and its clock-driven work run every day of the walk (reminders,
overdue notices, each month's supervision bulletin), once the service has received every
event so far, as it would have by then when running all along."""

from __future__ import annotations

from typing import Any

from services.cli.demo import COUNTY
from services.cli.history_calls import Caller, until


class NotificationHistory(Caller):
    def attach(self, runtime: Any, producers: list[Any]) -> None:
        """The service's runtime (its scheduler) and the pools of the services it hears."""
        self.runtime, self.producers = runtime, producers

    async def settled(self) -> None:
        """Every event the other services logged is in this service's inbox."""

        async def caught_up() -> bool:
            logged = 0
            for pool in self.producers:
                logged += await pool.fetchval("SELECT count(*) FROM events")
            received: int = await self.runtime.pool.fetchval("SELECT count(*) FROM inbox")
            return received >= logged

        await until(caught_up, "the notification service to receive every event")

    async def calendar(self, year: int) -> None:
        """The default deadlines; the drafting and round dates are the owners' (N3)."""
        await self.settled()  # the owners' calendars for the year are in its copies
        path = f"/v1/counties/{COUNTY[0]}/calendars/{year}"
        await self.post(path, {}, self.auth("county_admin", COUNTY[0]))

    async def day_ends(self) -> None:
        await self.runtime.components["worker"].tick()
