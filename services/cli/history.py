"""A generated county with years of history (`gongkai demo --townships N ...`), made through
the services' own HTTP command paths while their clock walks through the years, day by day.
All four services run in this process on one injectable clock, against the stack's own
databases and broker (their events travel between them over NATS as ever), so `gongkai up`
serves the result afterwards. Nothing is dated after the present: the current
year stops where today is."""

from __future__ import annotations

import random
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

from services.cli.demo import COUNTY
from services.cli.history_calls import Township
from services.cli.history_evaluation import PUBLIC_RATERS, EvaluationHistory
from services.cli.history_notification import NotificationHistory
from services.cli.history_pledge import PledgeHistory, Published
from services.cli.history_review import ReviewHistory
from services.evaluation.app import DEFINITION as EVALUATION
from services.notification.app import DEFINITION as NOTIFICATION
from services.pledge.app import DEFINITION as PLEDGE
from services.review.app import DEFINITION as REVIEW
from shared.auth import LocalSigningKey
from shared.clock import FixedClock
from shared.embedded import free_port
from shared.logging import configure_logging
from shared.runtime import create_app
from shared.settings import ServiceSettings
from shared.testing import serving

QUARTER_MEETINGS = ((3, 25), (6, 10), (9, 24), (12, 18))  # June's before the selection


@dataclass(frozen=True)
class Scale:
    townships: int
    branches_per_township: int
    members_per_branch: int
    years: int


@dataclass
class Services:
    pledge: PledgeHistory
    review: ReviewHistory
    evaluation: EvaluationHistory
    notification: NotificationHistory
    pools: dict[str, Any]


@asynccontextmanager
async def in_process(
    clock: FixedClock,
    key: LocalSigningKey,
    keys_dir: Path,
    tick: Callable[[], None],
    **settings: Any,
) -> AsyncIterator[Services]:
    """The four services on one clock, each on its own database (not GONGKAI_DATABASE_NAME:
    that names one service's database, and four run here), with the stack's keys."""
    async with AsyncExitStack() as stack:
        clients, runtimes = {}, {}
        for definition in (PLEDGE, REVIEW, EVALUATION, NOTIFICATION):
            name = definition.name
            checkpoint_key = keys_dir / f"checkpoint-{name}.pem"
            LocalSigningKey.load_or_create(checkpoint_key)
            configured = ServiceSettings(
                service=name,
                port=free_port(),
                database_name=None,
                jwt_public_key_file=keys_dir / "signing.pub.pem",
                checkpoint_key_file=checkpoint_key,
                **settings,
            )
            app = create_app(definition, configured, clock=clock)
            configure_logging(json=False, level="WARNING")  # the progress bar speaks instead
            clients[name] = await stack.enter_async_context(serving(app, configured.port))
            runtimes[name] = app.state.runtime
        notification = NotificationHistory(clients["notification"], key, tick)
        producers = [runtimes[n].pool for n in ("pledge", "review", "evaluation")]
        notification.attach(runtimes["notification"], producers)
        yield Services(
            PledgeHistory(clients["pledge"], key, tick),
            ReviewHistory(clients["review"], key, tick),
            EvaluationHistory(clients["evaluation"], key, tick),
            notification,
            {name: runtime.pool for name, runtime in runtimes.items()},
        )


Step = Callable[[date], Awaitable[None]]


class Timeline:
    """The county's years as dated steps, walked day by day up to today: each day's steps at
    ten in the morning, China time, then the notification service's daily work."""

    def __init__(self, services: Services, county: list[Township], clock: FixedClock) -> None:
        self.s, self.county, self.clock = services, county, clock
        self.rng = random.Random(2027)  # the same county every time
        self.agenda: dict[date, list[Step]] = {}

    def plan(self, year: int) -> None:
        s, county, rng = self.s, self.county, self.rng
        published: list[Published] = []
        selections: list[str] = []
        rounds: dict[int, list[tuple[str, dict[str, str]]]] = {}

        async def pledges(day: date) -> None:
            published.extend(await s.pledge.pledges(year, county, rng))

        async def open_rounds(day: date) -> None:
            half = 1 if day.month <= 6 else 2
            rounds[half] = await s.evaluation.rounds(year, half, day, county, rng)

        async def select(day: date) -> None:
            selections.extend(await s.evaluation.selections(year, county))

        steps: list[tuple[date, Step]] = [
            (date(year, 1, 8), lambda _: s.evaluation.calendar(year)),
            (date(year, 1, 9), lambda _: s.notification.calendar(year)),
            (date(year, 1, 10), pledges),
            (date(year, 6, 1), open_rounds),
            (date(year, 6, 14), lambda _: s.evaluation.close(rounds[1])),
            (date(year, 6, 16), select),
            (date(year, 6, 18), lambda _: s.evaluation.notices(selections, county)),
            (date(year, 6, 28), lambda _: s.pledge.progress(published)),
            (date(year, 6, 30), lambda _: s.evaluation.commendations(selections, county)),
            (date(year, 10, 15), lambda _: s.pledge.fulfilment(published)),
            (date(year, 12, 10), open_rounds),
            (date(year + 1, 1, 3), lambda _: s.evaluation.close(rounds[2])),
        ]
        ratings = partial(s.evaluation.ratings, county=county, rng=rng)
        steps += [(date(year, month, 27), ratings) for month in range(1, 13)]
        meeting = partial(s.review.quarter, county=county, rng=rng)
        steps += [(date(year, month, dom), meeting) for month, dom in QUARTER_MEETINGS]
        journals = partial(s.review.journals, county=county)
        steps += [(date(year, month, 20), journals) for month in range(1, 13)]
        for day, step in steps:
            self.agenda.setdefault(day, []).append(step)

    async def walk(self, start: date, now: datetime) -> None:
        """From `start` to today; steps still in the future are left undone."""
        day = start
        while (moment := datetime(day.year, day.month, day.day, 2, tzinfo=UTC)) <= now:
            self.clock.set(moment)
            steps = self.agenda.get(day, [])
            for step in steps:
                await step(day)
            if steps:
                await self.s.notification.settled()
            await self.s.notification.day_ends()
            day += timedelta(days=1)


async def generate(
    scale: Scale,
    *,
    database_url: str,
    nats_url: str,
    key: LocalSigningKey,
    keys_dir: Path,
    progress: Callable[[], None],
) -> dict[str, int]:
    """The county and `scale.years` years of history, ending today; events per service."""
    now = datetime.now(UTC)
    first = date(now.year - scale.years + 1, 1, 5)
    clock = FixedClock(datetime(first.year, 1, 5, 2, tzinfo=UTC))
    async with in_process(
        clock, key, keys_dir, progress, database_url=database_url, nats_url=nats_url
    ) as services:
        if (await services.pledge.get(f"/v1/counties/{COUNTY[0]}")).status_code == 200:
            raise RuntimeError("the county already exists here: use a fresh --data-dir")
        rng = random.Random(2027)
        county = await services.pledge.directory(
            scale.townships, scale.branches_per_township, scale.members_per_branch, rng
        )
        await services.review.copied(county)
        await services.evaluation.copied(county)
        timeline = Timeline(services, county, clock)
        for year in range(first.year, first.year + scale.years):
            timeline.plan(year)
        await timeline.walk(first, now)
        return {
            name: await pool.fetchval("SELECT count(*) FROM events")
            for name, pool in services.pools.items()
        }


def commands_expected(scale: Scale) -> int:
    """About how many commands `generate` sends in whole years (for the progress bar)."""
    townships, per_township = scale.townships, scale.branches_per_township
    branches = townships * per_township
    members = branches * scale.members_per_branch
    pledgers = branches + members
    team = min(2, scale.members_per_branch) * per_township
    directory = 1 + 2 * townships + 2 * branches + members
    pledge = 4 * pledgers + 2 * branches + pledgers + 3 * (pledgers + branches) // 2
    review = 4 * (townships + branches + members) + 12 * 2 * members
    ratings = 12 * branches + 6 * townships
    calendars = 2
    rounds = 2 * townships * (4 + team + PUBLIC_RATERS - 2) + 2 * branches * 3 + 2 * members
    selection = townships * (6 + 2 * min(2, scale.members_per_branch) * per_township)
    return directory + scale.years * (pledge + review + ratings + rounds + selection + calendars)
