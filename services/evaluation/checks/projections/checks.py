"""Projects the satisfaction checks' events (E8) into their read models: checks, the people an
item served with their personal data sealed (A7), participations, the tally and the verdict."""

from __future__ import annotations

from typing import Any

import asyncpg

from services.evaluation.rounds.projections.rounds import sealed
from shared.envelope import EventEnvelope


async def check_opened(conn: asyncpg.Connection, e: EventEnvelope, d: dict[str, Any]) -> None:
    await conn.execute(
        "INSERT INTO checks VALUES ($1, $2, $3, $4, $5, $6, $7, $8::text::date,"
        " $9::text::date, $10, 'open', NULL, NULL, NULL)",
        d["check_id"],
        d["pledge_id"],
        d["item_id"],
        d["township_id"],
        d["title"],
        d["summary"],
        d["threshold"],
        d["opens_on"],
        d["closes_on"],
        d["source_event_id"],
    )


async def check_rater_registered(
    conn: asyncpg.Connection, e: EventEnvelope, d: dict[str, Any]
) -> None:
    await conn.execute(
        "INSERT INTO check_raters VALUES ($1, $2, $3, false, NULL, $4, false)",
        d["check_id"],
        d["rater_id"],
        d["member_id"],
        sealed(d),
    )


async def check_rater_participated(
    conn: asyncpg.Connection, e: EventEnvelope, d: dict[str, Any]
) -> None:
    await conn.execute(
        "UPDATE check_raters SET voted = true, channel = $3 WHERE check_id = $1 AND rater_id = $2",
        d["check_id"],
        d["rater_id"],
        d["channel"],
    )
    await conn.execute(
        "INSERT INTO check_participations SELECT $1, $2, $3, EXISTS (SELECT FROM check_raters"
        " WHERE check_id = $1 AND rater_id = $2)",
        d["check_id"],
        d["rater_id"],
        d["channel"],
    )


async def check_ballot_cast(conn: asyncpg.Connection, e: EventEnvelope, d: dict[str, Any]) -> None:
    await conn.execute(
        "INSERT INTO check_tally VALUES ($1, $2, 1) ON CONFLICT (check_id, grade)"
        " DO UPDATE SET n = check_tally.n + 1",
        d["check_id"],
        d["grade"],
    )


async def verdict_reached(conn: asyncpg.Connection, e: EventEnvelope, d: dict[str, Any]) -> None:
    await conn.execute(
        "UPDATE checks SET status = 'closed', verdict = $2, satisfaction_rate = $3, ballots = $4"
        " WHERE check_id = $1",
        d["check_id"],
        d["verdict"],
        d["satisfaction_rate"],
        d["ballots"],
    )


async def check_lapsed(conn: asyncpg.Connection, e: EventEnvelope, d: dict[str, Any]) -> None:
    """No ballot, no verdict: the check waits for the office to extend or reopen it."""
    await conn.execute(
        "UPDATE checks SET status = 'lapsed', ballots = 0 WHERE check_id = $1", d["check_id"]
    )


async def check_extended(conn: asyncpg.Connection, e: EventEnvelope, d: dict[str, Any]) -> None:
    await conn.execute(
        "UPDATE checks SET status = 'open', ballots = NULL, closes_on = $2::text::date"
        " WHERE check_id = $1",
        d["check_id"],
        d["closes_on"],
    )


async def terms_set(conn: asyncpg.Connection, e: EventEnvelope, d: dict[str, Any]) -> None:
    """P10c: the county's threshold and window for the year's checks."""
    await conn.execute(
        "INSERT INTO check_terms VALUES ($1, $2, $3, $4) ON CONFLICT (county_id, year)"
        " DO UPDATE SET threshold = EXCLUDED.threshold, window_days = EXCLUDED.window_days",
        d["county_id"],
        d["year"],
        d["threshold"],
        d["window_days"],
    )
