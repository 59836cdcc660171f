"""The notification service's part of a generated history (N3, N4): the county's calendar of
deadlines each January, and its clock-driven work (reminders, overdue notices, each month's
supervision bulletin) at the end of every day of the walk."""

from __future__ import annotations

from gongkai.develop.demo import COUNTY
from gongkai.develop.history_calls import Caller
from services.notification.delivery.worker import Worker


class NotificationHistory(Caller):
    def attach(self, worker: Worker) -> None:
        self.worker = worker

    async def calendar(self, year: int) -> None:
        """The default deadlines; the drafting and round dates are the owners' (N3)."""
        path = f"/v1/counties/{COUNTY[0]}/calendars/{year}"
        await self.post(path, {}, self.auth("county_admin", COUNTY[0]))

    async def day_ends(self) -> None:
        await self.worker.tick()
