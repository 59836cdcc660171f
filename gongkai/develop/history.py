"""A generated county with years of history (`gongkai demo --townships N ...`), made through
the services' own HTTP command paths while their clock walks through the years, day by day.
All four services run in this process on one injectable clock, against the stack's own
databases and broker (their events travel between them over NATS as ever), so `gongkai up`
serves the result afterwards. Nothing is dated after the present: the current
year stops where today is."""

from __future__ import annotations

import asyncio
import os
import random
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

from gongkai.develop.demo import COUNTY
from gongkai.develop.history_calls import Township
from gongkai.develop.history_evaluation import PUBLIC_RATERS, SERVED, EvaluationHistory
from gongkai.develop.history_notification import NotificationHistory
from gongkai.develop.history_pledge import PledgeHistory, Published
from gongkai.develop.history_review import ReviewHistory
from gongkai.develop.history_streams import settled
from gongkai.develop.serving import serving
from services.evaluation.app import DEFINITION as EVALUATION
from services.notification.app import DEFINITION as NOTIFICATION
from services.pledge.app import DEFINITION as PLEDGE
from services.review.app import DEFINITION as REVIEW
from shared.auth import LocalSigningKey
from shared.clock import FixedClock
from shared.embedded import free_port
from shared.logging import configure_logging
from shared.messaging import Subjects, ensure_stream
from shared.runtime import Runtime, create_app
from shared.settings import ServiceSettings

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
    runtimes: dict[str, Runtime]

    async def settled(self) -> None:
        """Until each service has heard every event the others logged (over NATS). A
        consumer not yet made would owe nothing the broker could count: wait for them all."""
        for runtime in self.runtimes.values():
            await asyncio.wait_for(runtime.broker_joined(), 60)
        any_one = self.runtimes["pledge"]
        assert any_one.nc is not None
        subjects = Subjects(any_one.settings.nats_subject_root)
        # the review service copies the committees' seats from the identity service's stream
        # (R1); the identity service does not run here: its stream, empty until it does
        # (`gongkai up`), lets that consumer start
        await ensure_stream(any_one.nc.jetstream(), "identity", subjects)
        runners = [r for runtime in self.runtimes.values() for r in runtime.runners]
        await asyncio.wait_for(asyncio.gather(*(r.consuming.wait() for r in runners)), 60)
        pools = {name: runtime.pool for name, runtime in self.runtimes.items()}
        await settled(any_one.nc.jetstream(), subjects, pools)


@asynccontextmanager
async def in_process(
    clock: FixedClock,
    key: LocalSigningKey,
    keys_dir: Path,
    advance: Callable[[], None],
    **settings: Any,
) -> AsyncIterator[Services]:
    """The four services on one clock, each on its own database (not GONGKAI_DATABASE_NAME:
    that names one service's database, and four run here), with the stack's keys. The walk
    runs the notification service's daily work itself: its own passes wait an hour."""
    os.environ["GONGKAI_SCHEDULER_INTERVAL"] = "3600"
    os.environ["GONGKAI_DELIVERY_INTERVAL"] = "3600"
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
                public_requests_per_second=0,  # the county's whole public speaks from here
                **settings,
            )
            app = create_app(definition, configured, clock=clock)
            configure_logging(json=False, level="WARNING")  # the progress bar speaks instead
            clients[name] = await stack.enter_async_context(serving(app, configured.port))
            runtimes[name] = app.state.runtime
        notification = NotificationHistory(clients["notification"], key, advance)
        notification.attach(runtimes["notification"].components["worker"])
        yield Services(
            PledgeHistory(clients["pledge"], key, advance),
            ReviewHistory(clients["review"], key, advance),
            EvaluationHistory(clients["evaluation"], key, advance),
            notification,
            runtimes,
        )


Step = Callable[[date], Awaitable[None]]


class Timeline:
    """The county's years as dated steps, walked day by day up to now: each day's steps at
    ten in the morning, China time; then, once every service has heard of them, the
    notification service's daily work."""

    def __init__(self, services: Services, county: list[Township], clock: FixedClock) -> None:
        self.services, self.county, self.clock = services, county, clock
        self.rng = random.Random(2027)  # the same county every time
        self.agenda: dict[date, list[Step]] = {}

    def plan(self, year: int) -> None:
        pledge, review = self.services.pledge, self.services.review
        evaluation, notification = self.services.evaluation, self.services.notification
        county, rng = self.county, self.rng
        published: list[Published] = []
        done: dict[str, list[str]] = {}
        selections: list[str] = []
        rounds: dict[int, list[tuple[str, dict[str, str]]]] = {}

        async def pledges(day: date) -> None:
            published.extend(await pledge.pledges(year, county, rng))

        async def fulfilment(day: date) -> None:
            done.update(await pledge.fulfilment(published))

        async def open_rounds(day: date) -> None:
            half = 1 if day.month <= 6 else 2
            rounds[half] = await evaluation.rounds(year, half, day, county, rng)

        async def select(day: date) -> None:
            selections.extend(await evaluation.selections(year, county))

        county_selection: list[str] = []

        async def select_in_county(day: date) -> None:
            county_selection.append(await evaluation.county_selection(year, county))

        steps: list[tuple[date, Step]] = [
            (date(year, 1, 8), lambda _: evaluation.calendar(year)),
            (date(year, 1, 9), lambda _: notification.calendar(year)),
            (date(year, 1, 10), pledges),
            (date(year, 6, 1), open_rounds),
            (date(year, 6, 14), lambda _: evaluation.close(rounds[1])),
            (date(year, 6, 16), select),
            (date(year, 6, 18), lambda _: evaluation.notices(selections, county)),
            (date(year, 6, 28), lambda _: pledge.progress(published)),
            (date(year, 6, 30), lambda _: evaluation.commendations(selections, county)),
            (date(year, 7, 2), select_in_county),
            (date(year, 7, 10), lambda _: evaluation.county_commendation(county_selection[0])),
            (date(year, 10, 15), fulfilment),
            (date(year, 10, 16), lambda _: evaluation.checks_answered(done, rng)),
            (date(year, 10, 30), lambda _: evaluation.checks_closed(county)),
            (date(year, 12, 10), open_rounds),
            (date(year + 1, 1, 3), lambda _: evaluation.close(rounds[2])),
        ]
        ratings = partial(evaluation.ratings, county=county, rng=rng)
        steps += [(date(year, month, 27), ratings) for month in range(1, 13)]
        meeting = partial(review.quarter, county=county, rng=rng)
        steps += [(date(year, month, dom), meeting) for month, dom in QUARTER_MEETINGS]
        journals = partial(review.journals, county=county)
        steps += [(date(year, month, 20), journals) for month in range(1, 13)]
        for day, step in steps:
            self.agenda.setdefault(day, []).append(step)

    async def walk(self, start: date, now: datetime) -> None:
        """From `start` to today; steps still in the future are left undone."""
        day = start
        while (moment := _morning(day)) <= now:
            self.clock.set(moment)
            steps = self.agenda.get(day, [])
            for step in steps:
                await step(day)
            if steps:
                await self.services.settled()
            await self.services.notification.day_ends()
            day += timedelta(days=1)


def _morning(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 2, tzinfo=UTC)  # 10:00 in China


async def generate(
    scale: Scale,
    *,
    database_url: str,
    nats_url: str,
    key: LocalSigningKey,
    keys_dir: Path,
    progress: Callable[[], None],
    until: date | None = None,
) -> dict[str, int]:
    """The county and `scale.years` years of history up to now (or up to the morning of
    `until`, when that has come: the years end there); the events per service.
    The county is established on January 5 of the first year, or now if that is to come."""
    now = datetime.now(UTC)
    if until is not None:
        now = min(now, _morning(until))
    first = date(now.year - scale.years + 1, 1, 5)
    clock = FixedClock(min(_morning(first), now))
    async with in_process(
        clock, key, keys_dir, progress, database_url=database_url, nats_url=nats_url
    ) as services:
        if (await services.pledge.get(f"/v1/counties/{COUNTY[0]}")).status_code == 200:
            raise RuntimeError("the county already exists here: use a fresh --data-dir")
        rng = random.Random(2027)
        county = await services.pledge.directory(
            scale.townships, scale.branches_per_township, scale.members_per_branch, rng
        )
        await services.settled()  # review and evaluation decide from their directory copies
        timeline = Timeline(services, county, clock)
        for year in range(first.year, first.year + scale.years):
            timeline.plan(year)
        await timeline.walk(first, now)
        await services.settled()
        return {
            name: await runtime.pool.fetchval("SELECT count(*) FROM events")
            for name, runtime in services.runtimes.items()
        }


def commands_expected(scale: Scale) -> int:
    """About how many commands `generate` sends in whole years (for the progress bar)."""
    townships, per_township = scale.townships, scale.branches_per_township
    branches = townships * per_township
    members = branches * scale.members_per_branch
    pledgers = branches + members
    team = 2 * per_township  # the leadership team: two members of each branch
    directory = 1 + 2 * townships + 2 * branches + members
    items = 2 * branches + members  # a branch pledges two items, a member one
    pledge = 4 * pledgers + branches + pledgers + 3 * items // 2
    checks = (2 + len(SERVED)) * items // 2 + townships  # registered, invited, answered
    review = 4 * (townships + branches + members) + 12 * 2 * members
    ratings = 12 * branches + 6 * townships
    calendars = 2
    rounds = 2 * townships * (5 + team + PUBLIC_RATERS - 2) + 2 * branches * 4 + 2 * members
    selection = townships * (6 + team) + 6 + townships
    per_year = pledge + checks + review + ratings + calendars + rounds + selection
    return directory + scale.years * per_year
