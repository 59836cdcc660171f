"""The selection's inputs from the real read models (S2): a formula's data window takes every
input from the twelve months before the selection opens, each record counted when the period
it covers ends in it (a review when held; the pledge whose items fell due at a year end in it,
its items closed by the window's end); a formula declared before windows reads the calendar
year, exactly as it did; both recompute from the records they name; the county reads the
townships' winners (not a branch's own selection's)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime

import asyncpg
import pytest

from services.evaluation.app import DEFINITION as EVALUATION
from services.evaluation.projections import READ_MODELS
from services.evaluation.selection.aggregates import REVIEW_POINTS, default_window
from services.evaluation.selection.events import (
    Formula,
    ReviewsMeasure,
    ReviewsRule,
    Source,
    WhenMissing,
)
from services.evaluation.selection.queries import inputs_for, recompute, township_winners
from tests.support import Servers, fresh_log_database

FORMULA = Formula(
    version=1,
    weights={Source.RATINGS: 0.5, Source.PLEDGES: 0.25, Source.REVIEWS: 0.25},
    when_missing=WhenMissing.REWEIGHT,
    quotas=(1,),
    reviews=ReviewsRule(measure=ReviewsMeasure.GRADES, points=REVIEW_POINTS),
    window=default_window(date(2027, 7, 5)),  # 2026-07-05 .. 2027-07-04
)


@pytest.fixture
async def pool(servers: Servers) -> AsyncIterator[asyncpg.Pool]:
    pool, _ = await fresh_log_database(servers, "evaluation", migrations=EVALUATION.migrations)
    await READ_MODELS.ensure(pool)
    async with pool.acquire() as conn:
        for period, score in (("2026-05", 10), ("2026-12", 80), ("2027-02", 90)):
            results = [{"subject_id": "m1", "grade": "qualified", "score": score}]
            await conn.execute(
                "INSERT INTO ratings VALUES ($1, 't1', 'b1', $2, 'branch_rates_members',"
                " '2027-01-01', $3)",
                f"b1-{period}",
                period,
                json.dumps(results),
            )
        for review_id, held_on, grade in (
            ("rv-a", date(2026, 6, 20), "excellent"),
            ("rv-b", date(2027, 2, 20), "qualified"),
        ):
            quarter = f"{held_on.year}Q{(held_on.month - 1) // 3 + 1}"
            await conn.execute(
                "INSERT INTO review_copy VALUES ($1, 't1', 'm1', $2, $3, false, $4)",
                review_id,
                quarter,
                held_on,
                json.dumps({"execution": grade}),
            )
        for pledge_id, year, items in (("p26", 2026, ["a", "b"]), ("p27", 2027, ["c"])):
            await conn.execute(
                "INSERT INTO pledge_copy VALUES ($1, $2, 'm1', 't1', $3)",
                pledge_id,
                year,
                json.dumps(items),
            )
        for pledge_id, item_id, closed in (
            ("p26", "a", datetime(2026, 11, 30, tzinfo=UTC)),
            ("p26", "b", datetime(2027, 7, 20, tzinfo=UTC)),  # after the window
            ("p27", "c", datetime(2027, 3, 1, tzinfo=UTC)),
        ):
            await conn.execute(
                "INSERT INTO pledge_items_closed VALUES ($1, $2, $3)", pledge_id, item_id, closed
            )
    yield pool
    await pool.close()


async def test_the_window_and_the_calendar_year_read_what_they_declare(
    pool: asyncpg.Pool,
) -> None:
    async with pool.acquire() as conn:
        windowed = {i.source: i for i in await inputs_for(conn, "m1", 2027, FORMULA)}
        assert windowed[Source.RATINGS].evidence == ("b1-2026-12", "b1-2027-02")
        assert windowed[Source.RATINGS].value == 85.0
        assert windowed[Source.REVIEWS].evidence == ("rv-b",)
        # last year's pledge, due in December: one of two items closed by the window's end
        assert windowed[Source.PLEDGES].evidence == ("p26", "a")
        assert windowed[Source.PLEDGES].value == 50.0
        legacy = FORMULA.model_copy(update={"window": None})
        old = {i.source: i for i in await inputs_for(conn, "m1", 2027, legacy)}
        assert old[Source.RATINGS].evidence == ("b1-2027-02",)
        assert old[Source.REVIEWS].evidence == ("rv-b",)
        assert old[Source.PLEDGES].evidence == ("p27", "c")  # the year's own pledge, as then
        for formula, recorded in ((FORMULA, windowed), (legacy, old)):
            given = tuple(recorded.values())
            assert await recompute(conn, "m1", given, formula) == given


async def test_the_county_reads_the_townships_winners_only(pool: asyncpg.Pool) -> None:
    async with pool.acquire() as conn:
        await conn.execute(
            "INSERT INTO dir_townships (township_id, county_id, name) VALUES ('t1', 'c1', '镇')"
        )
        awardee = {"subject_kind": "member", "subject_id": "m1", "subject_name": "李"}
        for selection_id, level, subject in (
            ("s-2027-member-t1", "township", "m1"),
            ("s-2027-member-branch-b1", "branch", "m2"),
        ):
            await conn.execute(
                "INSERT INTO commendations VALUES ($1, 't1', 2027, '评选', '2027-07-01', $2, $3)",
                selection_id,
                json.dumps([awardee | {"subject_id": subject, "branch_id": "b1"}]),
                level,
            )
        winners = await township_winners(conn, "c1", 2027, "member")
        assert list(winners) == ["m1"]
        assert winners["m1"]["township_id"] == "t1"
        assert await township_winners(conn, "c1", 2026, "member") == {}
