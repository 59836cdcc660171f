"""What the public board shows (N1): published data only, read from the read models."""

from __future__ import annotations

import json
from typing import Any

import asyncpg

from services.notification.board_projections import closing_reasons


def _rows(records: list[asyncpg.Record], *json_fields: str) -> list[dict[str, Any]]:
    rows = []
    for record in records:
        row = dict(record)
        for name in json_fields:
            row[name] = json.loads(row[name])
        rows.append(row)
    return rows


async def counties(conn: asyncpg.Connection) -> list[dict[str, Any]]:
    return _rows(await conn.fetch("SELECT * FROM board_counties ORDER BY county_id"))


async def county(conn: asyncpg.Connection, county_id: str) -> dict[str, Any] | None:
    row = await conn.fetchrow("SELECT * FROM board_counties WHERE county_id = $1", county_id)
    if row is None:
        return None
    townships = await conn.fetch(
        "SELECT t.township_id, t.name,"
        " (SELECT count(*) FROM dir_branches b WHERE b.township_id = t.township_id AND b.active)"
        "   AS branches,"
        " (SELECT count(*) FROM board_pledges p WHERE p.township_id = t.township_id"
        "   AND p.status = 'published') AS pledges,"
        " (SELECT count(*) FROM board_items i JOIN board_pledges p USING (pledge_id)"
        "   WHERE p.township_id = t.township_id AND i.published AND i.closed_at IS NULL)"
        "   AS open_items,"
        " (SELECT count(*) FROM board_items i JOIN board_pledges p USING (pledge_id)"
        "   WHERE p.township_id = t.township_id AND i.published AND i.closed_at IS NOT NULL)"
        "   AS closed_items"
        " FROM dir_townships t WHERE t.county_id = $1 ORDER BY t.name",
        county_id,
    )
    return {**dict(row), "townships": _rows(townships)}


async def township(conn: asyncpg.Connection, township_id: str) -> dict[str, Any] | None:
    row = await conn.fetchrow(
        "SELECT t.*, c.name AS county_name FROM dir_townships t"
        " LEFT JOIN board_counties c USING (county_id) WHERE township_id = $1",
        township_id,
    )
    if row is None:
        return None
    branches = await conn.fetch(
        "SELECT b.branch_id, b.name, b.kind,"
        " (SELECT name FROM dir_members m WHERE m.member_id = b.secretary_id) AS secretary,"
        " (SELECT count(*) FROM board_pledges p WHERE p.branch_id = b.branch_id"
        "   AND p.status = 'published') AS pledges,"
        " (SELECT count(*) FROM board_items i JOIN board_pledges p USING (pledge_id)"
        "   WHERE p.branch_id = b.branch_id AND i.published AND i.closed_at IS NULL) AS open_items,"
        " (SELECT count(*) FROM board_reviews r WHERE r.branch_id = b.branch_id) AS reviews"
        " FROM dir_branches b WHERE b.township_id = $1 AND b.active ORDER BY b.name",
        township_id,
    )
    return {
        **dict(row),
        "branches": _rows(branches),
        "rounds": await rounds(conn, township_id=township_id),
        "ratings": _rows(
            await conn.fetch(
                "SELECT * FROM board_ratings WHERE township_id = $1"
                " AND level = 'township_rates_branches' ORDER BY published_on DESC, rating_id",
                township_id,
            ),
            "results",
        ),
        "notices": await selection_notices(conn, township_id=township_id),
        "commendations": await commendations(conn, township_id=township_id),
        "bulletins": _rows(
            await conn.fetch(
                "SELECT * FROM bulletins WHERE township_id = $1"
                " ORDER BY issued_on DESC, bulletin_id LIMIT 12",
                township_id,
            ),
            "branches",
        ),
    }


async def rounds(
    conn: asyncpg.Connection, *, township_id: str, branch_id: str | None = None
) -> list[dict[str, Any]]:
    found = _rows(
        await conn.fetch(
            "SELECT * FROM board_rounds WHERE township_id = $1"
            " ORDER BY published_on DESC, round_id",
            township_id,
        ),
        "results",
    )
    if branch_id is not None:
        for r in found:
            r["results"] = [
                x
                for x in r["results"]
                if x.get("branch_id") == branch_id or x["subject_id"] == branch_id
            ]
        found = [r for r in found if r["results"]]
    return found


async def commendations(
    conn: asyncpg.Connection, *, township_id: str, branch_id: str | None = None
) -> list[dict[str, Any]]:
    found = _rows(
        await conn.fetch(
            "SELECT * FROM board_commendations WHERE township_id = $1"
            " ORDER BY issued_on DESC, selection_id",
            township_id,
        ),
        "awardees",
    )
    if branch_id is not None:
        for c in found:
            c["awardees"] = [
                a for a in c["awardees"] if branch_id in (a.get("branch_id"), a["subject_id"])
            ]
        found = [c for c in found if c["awardees"]]
    return found


async def selection_notices(conn: asyncpg.Connection, *, township_id: str) -> list[dict[str, Any]]:
    """S3: selections posted for public notice and not yet commended, with the finalists
    still standing (an upheld objection takes one off) and how many objections are open."""
    rows = await conn.fetch(
        "SELECT s.selection_id, s.title, s.year, s.subject_kind, n.posted_on, n.notice_until,"
        " (SELECT coalesce(jsonb_agg(c.subject_name ORDER BY c.subject_name), '[]')"
        "   FROM board_candidates c WHERE c.selection_id = s.selection_id"
        "   AND n.finalists ? c.subject_id AND NOT EXISTS (SELECT 1 FROM board_objections o"
        "     WHERE o.selection_id = s.selection_id AND o.subject_id = c.subject_id AND o.upheld))"
        "   AS finalists,"
        " (SELECT count(*) FROM board_objections o WHERE o.selection_id = s.selection_id"
        "   AND o.upheld IS NULL) AS objections_open"
        " FROM board_selections s JOIN board_notices n USING (selection_id)"
        " WHERE s.township_id = $1 AND NOT EXISTS"
        " (SELECT 1 FROM board_commendations m WHERE m.selection_id = s.selection_id)"
        " ORDER BY n.posted_on DESC, s.selection_id",
        township_id,
    )
    return _rows(rows, "finalists")


async def pledge_cards(
    conn: asyncpg.Connection, *, branch_id: str | None = None, pledge_id: str | None = None
) -> list[dict[str, Any]]:
    pledges = await conn.fetch(
        "SELECT p.*, b.name AS branch_name, m.post FROM board_pledges p"
        " LEFT JOIN dir_branches b USING (branch_id)"
        " LEFT JOIN dir_members m ON m.member_id = p.member_id"
        " WHERE p.status = 'published' AND ($1::text IS NULL OR p.branch_id = $1)"
        " AND ($2::text IS NULL OR p.pledge_id = $2)"
        " ORDER BY p.year DESC, p.pledger_kind, p.pledger_name",
        branch_id,
        pledge_id,
    )
    cards = []
    for p in pledges:
        items = _rows(
            await conn.fetch(
                "SELECT * FROM board_items WHERE pledge_id = $1 AND published ORDER BY position",
                p["pledge_id"],
            )
        )
        for i in items:
            i["closing_reasons"] = closing_reasons(i) if i["closed_at"] else []
        cards.append({**dict(p), "items": items})
    return cards


async def branch(conn: asyncpg.Connection, branch_id: str) -> dict[str, Any] | None:
    row = await conn.fetchrow(
        "SELECT b.*, t.name AS township_name,"
        " (SELECT name FROM dir_members m WHERE m.member_id = b.secretary_id) AS secretary"
        " FROM dir_branches b LEFT JOIN dir_townships t USING (township_id)"
        " WHERE b.branch_id = $1",
        branch_id,
    )
    if row is None:
        return None
    township_id = row["township_id"]
    cards = await pledge_cards(conn, branch_id=branch_id)
    items = [dict(i, pledger_name=c["pledger_name"]) for c in cards for i in c["items"]]
    return {
        **dict(row),
        "cards": cards,
        "open_items": [i for i in items if not i["closed_at"]],
        "closed_items": [i for i in items if i["closed_at"]],
        "reviews": _rows(
            await conn.fetch(
                "SELECT * FROM board_reviews WHERE branch_id = $1 AND corrected_by IS NULL"
                " ORDER BY held_on DESC, review_id",
                branch_id,
            )
        ),
        "visits": _rows(
            await conn.fetch(
                "SELECT * FROM board_visits WHERE branch_id = $1 ORDER BY visited_on DESC",
                branch_id,
            )
        ),
        "rounds": await rounds(conn, township_id=township_id, branch_id=branch_id),
        "ratings": _rows(
            await conn.fetch(
                "SELECT * FROM board_ratings WHERE branch_id = $1"
                " ORDER BY published_on DESC, rating_id",
                branch_id,
            ),
            "results",
        ),
        "commendations": await commendations(conn, township_id=township_id, branch_id=branch_id),
    }
