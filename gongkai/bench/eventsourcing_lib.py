"""The same workload through the Python `eventsourcing` library (its PostgreSQL recorder, via
psycopg) on the same server: one new aggregate with one event per command, and a replay that
reads every notification and decodes it back into a domain event.

The library is synchronous, so its writers are threads (one pooled connection each), as an
application using it would run them.
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from urllib.parse import urlsplit

from eventsourcing.application import Application
from eventsourcing.domain import Aggregate, event


class BenchPledge(Aggregate):
    @event("Made")
    def __init__(
        self, pledge_id: str, township: str, title: str, description: str, due_date: str
    ) -> None:
        self.pledge_id = pledge_id
        self.township = township
        self.title = title
        self.description = description
        self.due_date = due_date


class BenchPledges(Application[Any]):
    """Its events live in the table `benchpledges_events` of the bench's database."""


def open_application(dsn: str, writers: int) -> BenchPledges:
    parts = urlsplit(dsn)
    return BenchPledges(
        env={
            "PERSISTENCE_MODULE": "eventsourcing.postgres",
            "POSTGRES_DBNAME": parts.path.lstrip("/"),
            "POSTGRES_HOST": parts.hostname or "127.0.0.1",
            "POSTGRES_PORT": str(parts.port or 5432),
            "POSTGRES_USER": parts.username or "postgres",
            "POSTGRES_PASSWORD": parts.password or "",
            "POSTGRES_POOL_SIZE": str(writers),
            "POSTGRES_MAX_OVERFLOW": "0",
        }
    )


def build(payloads: list[list[dict[str, str]]]) -> list[list[BenchPledge]]:
    """New aggregates (their first event made, not yet saved), per writer."""
    return [[BenchPledge(**p) for p in mine] for mine in payloads]


def append(app: BenchPledges, aggregates: list[list[BenchPledge]]) -> float:
    """Save every aggregate, one writer thread per list; the seconds it took."""

    def writer(mine: list[BenchPledge]) -> None:
        for aggregate in mine:
            app.save(aggregate)

    with ThreadPoolExecutor(max_workers=len(aggregates)) as threads:
        start = time.perf_counter()
        for done in [threads.submit(writer, mine) for mine in aggregates]:
            done.result()
        return time.perf_counter() - start


def replay(app: BenchPledges, page: int = 2000) -> int:
    """Read every stored event in notification order and decode it; how many."""
    count, start = 0, 1
    while True:
        notifications = app.recorder.select_notifications(start, page)
        for notification in notifications:
            app.mapper.to_domain_event(notification)
        count += len(notifications)
        if len(notifications) < page:
            return count
        start = notifications[-1].id + 1
