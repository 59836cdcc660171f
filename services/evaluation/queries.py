"""Read-side queries over the read models (keyword-only arguments, plain dicts out)."""

from __future__ import annotations

import json
from typing import Any

import asyncpg

from services.evaluation.ratings import default_closing_dates
from shared.errors import NotFound


async def round_row(conn: asyncpg.Connection, *, round_id: str) -> dict[str, Any]:
    row = await conn.fetchrow("SELECT * FROM rounds WHERE round_id = $1", round_id)
    if row is None:
        raise NotFound("round not found", round_id=round_id)
    out = dict(row)
    out["content"] = json.loads(out["content"])
    out["scale"] = json.loads(out["scale"])
    subjects = await conn.fetch(
        "SELECT subject_kind, subject_id, subject_name, branch_id FROM round_subjects"
        " WHERE round_id = $1 ORDER BY position",
        round_id,
    )
    out["subjects"] = [dict(s) for s in subjects]
    return out


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
    """Who is registered (and has voted), with public raters' masked personal data (A7)."""
    await round_row(conn, round_id=round_id)
    rows = await conn.fetch(
        "SELECT rater_id, rater_kind, organisation_id, member_id, voted, name, phone,"
        " id_number, erased FROM round_raters WHERE round_id = $1 ORDER BY rater_id",
        round_id,
    )
    return {"round_id": round_id, "raters": [dict(r) for r in rows]}


async def published_results(conn: asyncpg.Connection, *, round_id: str) -> dict[str, Any] | None:
    row = await conn.fetchrow("SELECT * FROM round_publications WHERE round_id = $1", round_id)
    if row is None:
        return None
    return {**dict(row), "results": json.loads(row["results"])}


async def check(conn: asyncpg.Connection, *, check_id: str) -> dict[str, Any]:
    row = await conn.fetchrow("SELECT * FROM checks WHERE check_id = $1", check_id)
    if row is None:
        raise NotFound("satisfaction check not found", check_id=check_id)
    registered = await conn.fetchval(
        "SELECT count(*) FROM check_raters WHERE check_id = $1", check_id
    )
    voted = await conn.fetchval(
        "SELECT count(*) FROM check_raters WHERE check_id = $1 AND voted", check_id
    )
    return {**dict(row), "registered": registered, "voted": voted}


async def check_raters(conn: asyncpg.Connection, *, check_id: str) -> dict[str, Any]:
    """The people an item served, registered for its check, with masked personal data (A7)."""
    rows = await conn.fetch(
        "SELECT rater_id, member_id, voted, channel, name, phone, id_number, erased"
        " FROM check_raters WHERE check_id = $1 ORDER BY rater_id",
        check_id,
    )
    return {"check_id": check_id, "raters": [dict(r) for r in rows]}


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


async def ratings(
    conn: asyncpg.Connection,
    *,
    township_id: str | None,
    branch_id: str | None,
    period: str | None,
) -> list[dict[str, Any]]:
    rows = await conn.fetch(
        "SELECT * FROM ratings WHERE ($1::text IS NULL OR township_id = $1)"
        " AND ($2::text IS NULL OR branch_id = $2) AND ($3::text IS NULL OR period = $3)"
        " ORDER BY period, rating_id",
        township_id,
        branch_id,
        period,
    )
    return [{**dict(r), "results": json.loads(r["results"])} for r in rows]


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


async def township_copy(conn: asyncpg.Connection, *, township_id: str) -> dict[str, Any]:
    """This service's copy of a township's directory (D2), as the evaluation sees it."""
    row = await conn.fetchrow("SELECT * FROM dir_townships WHERE township_id = $1", township_id)
    if row is None:
        raise NotFound("township not (yet) in this service's directory copy")
    branches = []
    for branch in await conn.fetch(
        "SELECT branch_id, name, kind, secretary_id FROM dir_branches"
        " WHERE township_id = $1 AND active ORDER BY branch_id",
        township_id,
    ):
        members = await conn.fetch(
            "SELECT member_id, name, post FROM dir_members WHERE branch_id = $1 AND active"
            " ORDER BY member_id",
            branch["branch_id"],
        )
        branches.append({**dict(branch), "members": [dict(m) for m in members]})
    return {
        "township_id": township_id,
        "county_id": row["county_id"],
        "name": row["name"],
        "branches": branches,
    }


async def selection(conn: asyncpg.Connection, *, selection_id: str) -> dict[str, Any]:
    row = await conn.fetchrow("SELECT * FROM selections WHERE selection_id = $1", selection_id)
    if row is None:
        raise NotFound("selection not found", selection_id=selection_id)
    out = {**dict(row), "finalists": json.loads(row["finalists"] or "[]")}
    formula = await conn.fetchval(
        "SELECT formula FROM selection_formulas WHERE selection_id = $1 AND version = $2",
        selection_id,
        row["formula_version"],
    )
    out["formula"] = json.loads(formula) if formula else None
    candidates = await conn.fetch(
        "SELECT subject_id, subject_name, branch_id, nominated_by, reason"
        " FROM selection_candidates WHERE selection_id = $1 ORDER BY subject_id",
        selection_id,
    )
    out["candidates"] = [dict(c) for c in candidates]
    stages = await conn.fetch(
        "SELECT stage, formula_version, scored_on, candidates FROM selection_stages"
        " WHERE selection_id = $1 ORDER BY stage",
        selection_id,
    )
    out["stages"] = [{**dict(s), "candidates": json.loads(s["candidates"])} for s in stages]
    objections = await conn.fetch(
        "SELECT objection_id, subject_id, summary, answer, upheld FROM selection_objections"
        " WHERE selection_id = $1 ORDER BY objection_id",
        selection_id,
    )
    out["objections"] = [dict(o) for o in objections]
    return out


async def commendations(
    conn: asyncpg.Connection, *, township_id: str | None
) -> list[dict[str, Any]]:
    rows = await conn.fetch(
        "SELECT * FROM commendations WHERE ($1::text IS NULL OR township_id = $1)"
        " ORDER BY year, selection_id",
        township_id,
    )
    return [{**dict(r), "awardees": json.loads(r["awardees"])} for r in rows]
