"""Reads of the rounds' read models (keyword-only arguments, plain dicts out): rounds, turnout,
raters, published results, the calendar (E4), and the auditor's check (E3)."""

from __future__ import annotations

import json
from typing import Any

import asyncpg

from services.evaluation.queries import erasures, findings, with_personal
from services.evaluation.rounds.aggregates import default_closing_dates
from services.evaluation.voting import queries as voting_queries
from shared import zh
from shared.errors import NotFound


def no_round(round_id: str) -> NotFound:
    """The answer for a round that does not exist (or that the caller may not know of)."""
    return NotFound("没有找到该评议：请核对后再试。", round_id=round_id)


async def round_row(conn: asyncpg.Connection, *, round_id: str) -> dict[str, Any]:
    row = await conn.fetchrow("SELECT * FROM rounds WHERE round_id = $1", round_id)
    if row is None:
        raise no_round(round_id)
    out = dict(row)
    out["content"] = json.loads(out["content"])
    out["scale"] = json.loads(out["scale"])
    for grade in out["scale"]["grades"]:  # older rounds wrote some labels in traditional
        grade["label"] = zh.simplified(grade["label"])
    subjects = await conn.fetch(
        "SELECT subject_kind, subject_id, subject_name, branch_id FROM round_subjects"
        " WHERE round_id = $1 ORDER BY position",
        round_id,
    )
    out["subjects"] = [dict(s) for s in subjects]
    return out


async def rounds(
    conn: asyncpg.Connection,
    *,
    township_id: str | None,
    year: int | None,
    organiser_id: str | None = None,
    limit: int = 100,
    offset: int = 0,
) -> dict[str, Any]:
    """Rounds of a township (or all; of one organiser if given), a page of them, the latest
    half-year first: what an organiser picks one from."""
    where = (
        "($1::text IS NULL OR township_id = $1) AND ($2::int IS NULL OR year = $2)"
        " AND ($3::text IS NULL OR organiser_id = $3)"
    )
    args = (township_id, year, organiser_id)
    total = await conn.fetchval(f"SELECT count(*) FROM rounds WHERE {where}", *args)
    rows = await conn.fetch(
        "SELECT round_id, township_id, organiser_kind, organiser_id, title, year, half,"
        f" opens_on, closes_on, status, closed_on FROM rounds WHERE {where}"
        " ORDER BY year DESC, half DESC, opens_on DESC, round_id LIMIT $4 OFFSET $5",
        *args,
        limit,
        offset,
    )
    return {"total": total, "limit": limit, "offset": offset, "rows": [dict(r) for r in rows]}


async def member_rounds(
    conn: asyncpg.Connection, *, member_id: str, status: str | None
) -> list[dict[str, Any]]:
    """The rounds a member is registered to rate in, newest first, each with whether an
    invitation was issued to them and whether they voted (never what they chose)."""
    rows = await conn.fetch(
        "SELECT r.round_id, r.township_id, r.organiser_kind, r.organiser_id, r.title, r.year,"
        " r.half, r.opens_on, r.closes_on, r.status, r.closed_on, rr.voted,"
        " (i.issued IS NOT NULL) AS invited"
        " FROM round_raters rr JOIN rounds r ON r.round_id = rr.round_id"
        " LEFT JOIN invitations_issued i ON i.scope = 'round' AND i.scope_id = rr.round_id"
        " AND i.rater_id = rr.rater_id"
        " WHERE rr.member_id = $1 AND ($2::text IS NULL OR r.status = $2)"
        " ORDER BY r.opens_on DESC, r.round_id LIMIT 500",
        member_id,
        status,
    )
    return [dict(r) for r in rows]


async def turnout(conn: asyncpg.Connection, *, round_id: str) -> dict[str, Any]:
    """E3a: turnout per round and per organisation, and ballots per channel, while it is open."""
    await round_row(conn, round_id=round_id)
    rows = await conn.fetch(
        "SELECT organisation_id, count(*) AS registered, count(*) FILTER (WHERE voted) AS voted"
        " FROM round_raters WHERE round_id = $1 GROUP BY organisation_id ORDER BY 1",
        round_id,
    )
    channels = await conn.fetch(
        "SELECT c AS channel, count(DISTINCT rater_id) AS raters"
        " FROM round_raters, unnest(channels) AS c WHERE round_id = $1 GROUP BY c ORDER BY c",
        round_id,
    )
    registered = sum(r["registered"] for r in rows)
    voted = sum(r["voted"] for r in rows)
    return {
        "round_id": round_id,
        "registered": registered,
        "voted": voted,
        "rate": round(voted / registered, 4) if registered else 0.0,
        "by_organisation": [
            {
                **dict(r),
                "rate": round(r["voted"] / r["registered"], 4) if r["registered"] else 0.0,
            }
            for r in rows
        ],
        "by_channel": [dict(c) for c in channels],
    }


async def raters(conn: asyncpg.Connection, *, round_id: str) -> dict[str, Any]:
    """Who is registered (whether an invitation was issued to them, whether they voted), with
    public raters' personal data opened and masked as it is read (A7): for the round's
    organiser only, whom the route checks."""
    await round_row(conn, round_id=round_id)
    rows = await conn.fetch(
        "SELECT r.rater_id, r.rater_kind, r.organisation_id, r.member_id, r.voted,"
        " (i.issued IS NOT NULL) AS invited, r.personal, r.erased FROM round_raters r"
        " LEFT JOIN invitations_issued i ON i.scope_id = r.round_id AND i.rater_id = r.rater_id"
        " WHERE r.round_id = $1 ORDER BY r.rater_id",
        round_id,
    )
    return {"round_id": round_id, "raters": await with_personal(conn, rows)}


async def published_results(conn: asyncpg.Connection, *, round_id: str) -> dict[str, Any] | None:
    row = await conn.fetchrow("SELECT * FROM round_publications WHERE round_id = $1", round_id)
    if row is None:
        return None
    return {**dict(row), "results": json.loads(row["results"])}


async def calendar(conn: asyncpg.Connection, *, county_id: str, year: int) -> dict[str, Any]:
    row = await conn.fetchrow(
        "SELECT * FROM calendars WHERE county_id = $1 AND year = $2", county_id, year
    )
    if row is not None:
        return {**dict(row), "default": False}
    first, second = default_closing_dates(year)
    return {
        "county_id": county_id,
        "year": year,
        "first_round_closes": first,
        "second_round_closes": second,
        "default": True,
    }


async def round_audit(conn: asyncpg.Connection, *, round_id: str) -> dict[str, Any]:
    """E3, the auditor's check: every counted ballot came from a distinct registered rater
    (services/evaluation/queries.py, `findings`)."""
    found = await round_row(conn, round_id=round_id)
    participations = await conn.fetch(
        "SELECT rater_id, subject_id, registered FROM round_participations WHERE round_id = $1"
        " ORDER BY rater_id, subject_id",
        round_id,
    )
    ballots = await conn.fetch(
        "SELECT subject_id, sum(n)::int AS n FROM round_tally WHERE round_id = $1 GROUP BY 1",
        round_id,
    )
    # ballots waiting in the urn (issue 17) count with the appended ones while the round is
    # open; once it is closed the urn must be empty
    in_urn = await voting_queries.waiting(conn, scope_id=round_id)
    counted = {b["subject_id"]: b["n"] for b in ballots}
    for subject_id, n in in_urn.items():
        counted[subject_id] = counted.get(subject_id, 0) + n
    subjects, problems = findings(
        participations, counted, [s["subject_id"] for s in found["subjects"]]
    )
    problems += voting_queries.urn_problems(in_urn, found["status"] == "closed")
    raters = await conn.fetchrow(
        "SELECT count(*) AS registered, count(*) FILTER (WHERE voted) AS voted"
        " FROM round_raters WHERE round_id = $1",
        round_id,
    )
    tokens = await conn.fetchval(
        "SELECT count(*) FROM round_ballot_tokens WHERE round_id = $1", round_id
    )
    return {
        "round_id": round_id,
        "registered_raters": raters["registered"],
        "raters_who_voted": raters["voted"],
        "ballots": tokens,
        "in_urn": await conn.fetchval(
            "SELECT count(*) FROM public.urn WHERE scope_id = $1", round_id
        ),
        "subjects": subjects,
        "problems": problems,
        "consistent": not problems,
        "erasures": await erasures(conn, "round_raters", "round_id", round_id),
    }
