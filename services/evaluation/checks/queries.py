"""Reads of the satisfaction checks' read models (E8): checks, the people an item served, and the
auditor's check (E3), as for a round."""

from __future__ import annotations

from typing import Any

import asyncpg

from services.evaluation.checks.aggregates.check import DEFAULT_THRESHOLD, DEFAULT_WINDOW
from services.evaluation.queries import erasures, findings, with_personal
from services.evaluation.voting import queries as voting_queries
from shared.errors import NotFound


def no_check(check_id: str) -> NotFound:
    """The answer for a check that does not exist (or that the caller may not know of)."""
    return NotFound("没有找到该满意度测评：请核对后再试。", check_id=check_id)


async def check(conn: asyncpg.Connection, *, check_id: str) -> dict[str, Any]:
    row = await conn.fetchrow("SELECT * FROM checks WHERE check_id = $1", check_id)
    if row is None:
        raise no_check(check_id)
    registered = await conn.fetchval(
        "SELECT count(*) FROM check_raters WHERE check_id = $1", check_id
    )
    voted = await conn.fetchval(
        "SELECT count(*) FROM check_raters WHERE check_id = $1 AND voted", check_id
    )
    return {**dict(row), "registered": registered, "voted": voted}


async def check_raters(conn: asyncpg.Connection, *, check_id: str) -> dict[str, Any]:
    """The people an item served, registered for its check (whether an invitation was
    issued to them), with their personal data opened and masked as it is read (A7): for the
    township office only, whom the route checks."""
    rows = await conn.fetch(
        "SELECT r.rater_id, r.member_id, r.voted, r.channel, (i.issued IS NOT NULL) AS invited,"
        " r.personal, r.erased FROM check_raters r"
        " LEFT JOIN invitations_issued i ON i.scope_id = r.check_id AND i.rater_id = r.rater_id"
        " WHERE r.check_id = $1 ORDER BY r.rater_id",
        check_id,
    )
    return {"check_id": check_id, "raters": await with_personal(conn, rows)}


async def checks(
    conn: asyncpg.Connection, *, township_id: str | None, item_id: str | None
) -> list[dict[str, Any]]:
    rows = await conn.fetch(
        "SELECT check_id FROM checks WHERE ($1::text IS NULL OR township_id = $1)"
        " AND ($2::text IS NULL OR item_id = $2) ORDER BY opens_on, check_id",
        township_id,
        item_id,
    )
    return [await check(conn, check_id=r["check_id"]) for r in rows]


async def check_audit(conn: asyncpg.Connection, *, check_id: str) -> dict[str, Any]:
    """The same for a satisfaction check (E8): its one subject is the pledge item."""
    found = await check(conn, check_id=check_id)
    item = found["item_id"]
    participations = await conn.fetch(
        "SELECT rater_id, $2::text AS subject_id, registered FROM check_participations"
        " WHERE check_id = $1 ORDER BY rater_id",
        check_id,
        item,
    )
    ballots = await conn.fetchval(
        "SELECT coalesce(sum(n), 0)::int FROM check_tally WHERE check_id = $1", check_id
    )
    waiting = sum((await voting_queries.waiting(conn, scope_id=check_id)).values())
    [subject], problems = findings(participations, {item: ballots + waiting}, [item])
    problems += voting_queries.urn_problems({item: waiting}, found["status"] == "closed")
    return {
        "check_id": check_id,
        "registered_raters": found["registered"],
        "raters_who_voted": found["voted"],
        "participations": subject["participations"],
        "ballots": ballots,
        "in_urn": waiting,
        "problems": problems,
        "consistent": not problems,
        "erasures": await erasures(conn, "check_raters", "check_id", check_id),
    }


async def check_terms(conn: asyncpg.Connection, *, county_id: str, year: int) -> dict[str, Any]:
    """P10c: the county's terms for the year's checks, or the defaults (`default`)."""
    row = await conn.fetchrow(
        "SELECT * FROM check_terms WHERE county_id = $1 AND year = $2", county_id, year
    )
    if row is not None:
        return {**dict(row), "default": False}
    return {
        "county_id": county_id,
        "year": year,
        "threshold": DEFAULT_THRESHOLD,
        "window_days": DEFAULT_WINDOW.days,
        "default": True,
    }
