"""Reads from the read models. Keyword-only arguments; plain dicts out."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import asyncpg

from services.pledge.aggregates import (
    DEFAULT_CATEGORIES,
    default_drafting_deadline,
    default_publication_deadline,
)
from shared.errors import NotFound


def open_reasons(row: Any) -> list[str]:
    """P10: why a published item is still open, as its events recorded (projections/)."""
    reasons: list[str] = json.loads(row["open_reasons"])
    return reasons


async def county(conn: asyncpg.Connection, *, county_id: str) -> dict[str, Any]:
    row = await conn.fetchrow("SELECT * FROM counties WHERE county_id = $1", county_id)
    if row is None:
        raise NotFound(f"没有找到县 {county_id}：请核对后再试。")
    townships = await conn.fetch(
        "SELECT township_id, name, head_name FROM townships WHERE county_id = $1 ORDER BY name",
        county_id,
    )
    calendars = await conn.fetch(
        "SELECT year, drafting_deadline FROM calendars WHERE county_id = $1", county_id
    )
    categories = await conn.fetch(
        "SELECT kind, categories FROM categories WHERE county_id = $1", county_id
    )
    configured = {k.value: list(v) for k, v in DEFAULT_CATEGORIES.items()}
    configured.update({r["kind"]: json.loads(r["categories"]) for r in categories})
    return {
        **dict(row),
        "townships": [dict(t) for t in townships],
        "calendars": {r["year"]: r["drafting_deadline"] for r in calendars},
        "categories": configured,
    }


def no_township(township_id: str) -> NotFound:
    """The answer for a township that does not exist (or that the caller may not know of)."""
    return NotFound(f"没有找到乡镇 {township_id}：请核对后再试。")


async def township(conn: asyncpg.Connection, *, township_id: str) -> dict[str, Any]:
    row = await conn.fetchrow("SELECT * FROM townships WHERE township_id = $1", township_id)
    if row is None:
        raise no_township(township_id)
    branches = await conn.fetch(
        "SELECT branch_id, name, kind, village, active FROM branches WHERE township_id = $1"
        " ORDER BY name",
        township_id,
    )
    return {**dict(row), "branches": [dict(b) for b in branches]}


async def branch(conn: asyncpg.Connection, *, branch_id: str) -> dict[str, Any]:
    row = await conn.fetchrow("SELECT * FROM branches WHERE branch_id = $1", branch_id)
    if row is None:
        raise NotFound(f"没有找到支部 {branch_id}：请核对后再试。")
    members = await conn.fetch(
        "SELECT * FROM members WHERE branch_id = $1 ORDER BY leadership_team DESC, name", branch_id
    )
    return {**dict(row), "members": [dict(m) for m in members]}


async def member(conn: asyncpg.Connection, *, member_id: str) -> dict[str, Any]:
    row = await conn.fetchrow("SELECT * FROM members WHERE member_id = $1", member_id)
    if row is None:
        raise NotFound(f"没有找到党员 {member_id}：请核对后再试。")
    return dict(row)


async def members(
    conn: asyncpg.Connection,
    *,
    township_id: str,
    branch_id: str | None,
    name: str | None,
    limit: int,
    offset: int,
    member_ids: list[str] | None = None,
) -> dict[str, Any]:
    """D2: a township's members, by branch and name, those still active first; `name` is
    found anywhere in the member's name; `member_ids`: only those (of this township)."""
    where = (
        "m.township_id = $1 AND ($2::text IS NULL OR m.branch_id = $2)"
        " AND ($3::text IS NULL OR strpos(m.name, $3) > 0)"
        " AND ($4::text[] IS NULL OR m.member_id = ANY($4::text[]))"
    )
    args = (township_id, branch_id, name, member_ids)
    total = await conn.fetchval(f"SELECT count(*) FROM members m WHERE {where}", *args)
    rows = await conn.fetch(
        f"SELECT m.*, b.name AS branch FROM members m JOIN branches b USING (branch_id)"
        f" WHERE {where} ORDER BY m.active DESC, b.name, m.leadership_team DESC, m.name,"
        " m.member_id LIMIT $5 OFFSET $6",
        *args,
        limit,
        offset,
    )
    return {"total": total, "limit": limit, "offset": offset, "rows": [dict(r) for r in rows]}


async def pledge_row(conn: asyncpg.Connection, *, pledge_id: str) -> asyncpg.Record:
    row = await conn.fetchrow("SELECT * FROM pledges WHERE pledge_id = $1", pledge_id)
    if row is None:
        raise NotFound(f"没有找到承诺 {pledge_id}：请核对后再试。")
    return row


def _item(row: Any) -> dict[str, Any]:
    return {
        **dict(row),
        "shaped_by": json.loads(row["shaped_by"]),
        "open_reasons": open_reasons(row),
    }


async def pledge(conn: asyncpg.Connection, *, row: asyncpg.Record) -> dict[str, Any]:
    pledge_id = row["pledge_id"]
    items = await conn.fetch(
        "SELECT * FROM items WHERE pledge_id = $1 ORDER BY position", pledge_id
    )
    opinions = await conn.fetch(
        "SELECT opinion_id, channel, gathered_on, summary FROM opinions WHERE pledge_id = $1"
        " ORDER BY opinion_id",
        pledge_id,
    )
    reviews = await conn.fetch(
        "SELECT item_id, round, shows_advanced_standard, matches_wishes, feasible, decision,"
        " guidance, at FROM item_reviews WHERE pledge_id = $1 ORDER BY at, item_id",
        pledge_id,
    )
    revisions = await conn.fetch(
        "SELECT round, note, item_ids, at FROM revisions WHERE pledge_id = $1 ORDER BY round",
        pledge_id,
    )
    activity = await conn.fetch(
        "SELECT item_id, kind, summary, detail, at FROM item_activity WHERE pledge_id = $1"
        " ORDER BY at",
        pledge_id,
    )
    pushes = await conn.fetch(
        "SELECT quarter, assessment, next_steps, at FROM quarterly_pushes WHERE pledge_id = $1"
        " ORDER BY quarter",
        pledge_id,
    )
    return {
        **dict(row),
        "items": [_item(i) for i in items],
        "opinions": [dict(o) for o in opinions],
        "reviews": [dict(r) for r in reviews],
        "revisions": [{**dict(r), "item_ids": json.loads(r["item_ids"])} for r in revisions],
        "entered_on_behalf": row["entered_by"] is not None,
        "activity": [{**dict(a), "detail": json.loads(a["detail"])} for a in activity],
        "quarterly_pushes": [dict(p) for p in pushes],
    }


async def pledges(
    conn: asyncpg.Connection,
    *,
    township_id: str | None,
    branch_id: str | None,
    year: int | None,
    status: str | None,
    published_only: bool,
    limit: int,
    offset: int,
    member_id: str | None = None,
    unpublished_of: str | None = None,
) -> dict[str, Any]:
    """`published_only`, but for the unpublished pledges of the county `unpublished_of`."""
    where = (
        "($1::text IS NULL OR township_id = $1) AND ($2::text IS NULL OR branch_id = $2)"
        " AND ($3::int IS NULL OR year = $3) AND ($4::text IS NULL OR status = $4)"
        " AND (NOT $5 OR status = 'published' OR county_id = $7)"
        " AND ($6::text IS NULL OR member_id = $6)"
    )
    args = (township_id, branch_id, year, status, published_only, member_id, unpublished_of)
    total = await conn.fetchval(f"SELECT count(*) FROM pledges WHERE {where}", *args)
    rows = await conn.fetch(
        f"SELECT * FROM pledges WHERE {where} ORDER BY township_id, branch_id,"
        " member_id NULLS FIRST LIMIT $8 OFFSET $9",
        *args,
        limit,
        offset,
    )
    return {"total": total, "limit": limit, "offset": offset, "rows": [dict(r) for r in rows]}


LEDGER_FROM = """
FROM items i JOIN pledges p USING (pledge_id)
JOIN townships t ON t.township_id = i.township_id
JOIN branches b ON b.branch_id = i.branch_id
WHERE i.ledger_status IS NOT NULL
  AND ($1::text IS NULL OR i.township_id = $1) AND ($2::text IS NULL OR i.branch_id = $2)
  AND ($3::text IS NULL OR i.ledger_status = $3) AND ($4::int IS NULL OR p.year = $4)
"""


async def ledger(
    conn: asyncpg.Connection,
    *,
    township_id: str | None,
    branch_id: str | None,
    status: str | None,
    year: int | None,
    limit: int | None,
    offset: int,
) -> dict[str, Any]:
    """P8: the ledger, one row per published item, tagged open until closed."""
    args = (township_id, branch_id, status, year)
    total = await conn.fetchval(f"SELECT count(*) {LEDGER_FROM}", *args)
    rows = await conn.fetch(
        "SELECT i.*, p.year, p.pledger_kind, p.pledger_name, p.drafted_late, t.name AS township,"
        f" b.name AS branch {LEDGER_FROM}"
        " ORDER BY t.name, b.name, p.member_id NULLS FIRST, i.position"
        " LIMIT $5 OFFSET $6",
        *args,
        limit,
        offset,
    )
    return {
        "total": total,
        "limit": limit or total,
        "offset": offset,
        "rows": [
            {**dict(r), "status": r["ledger_status"], "open_reasons": open_reasons(r)} for r in rows
        ],
    }


async def drafting_report(
    conn: asyncpg.Connection,
    *,
    township_id: str,
    year: int,
    today: date,
) -> dict[str, Any]:
    """P6: every active branch and member of the township, and how far their pledge got."""
    town = await township(conn, township_id=township_id)
    calendar = await conn.fetchrow(
        "SELECT drafting_deadline, publication_deadline FROM calendars"
        " WHERE county_id = $1 AND year = $2",
        town["county_id"],
        year,
    )
    deadline = calendar["drafting_deadline"] if calendar else default_drafting_deadline(year)
    publication = (calendar and calendar["publication_deadline"]) or (
        default_publication_deadline(deadline)
    )
    rows = await conn.fetch(
        """
        SELECT 'branch' AS pledger_kind, b.branch_id, NULL::text AS member_id, b.name,
               p.pledge_id, p.status, p.approved_on, coalesce(p.drafted_late, false) AS late
        FROM branches b LEFT JOIN pledges p
          ON p.branch_id = b.branch_id AND p.member_id IS NULL AND p.year = $2
        WHERE b.township_id = $1 AND b.active
        UNION ALL
        SELECT 'member', m.branch_id, m.member_id, m.name, p.pledge_id, p.status,
               p.approved_on, coalesce(p.drafted_late, false)
        FROM members m JOIN branches b ON b.branch_id = m.branch_id AND b.active
        LEFT JOIN pledges p ON p.member_id = m.member_id AND p.year = $2
        WHERE m.township_id = $1 AND m.active
        ORDER BY 2, 3 NULLS FIRST
        """,
        township_id,
        year,
    )
    statuses = []
    for r in rows:
        finished = r["status"] in ("approved", "published")
        statuses.append(
            {
                **dict(r),
                "status": r["status"] or "none",
                "finished": finished,
                # P6: approved after the deadline stays late; not approved by it is late too
                "late": bool(r["late"]) or (not finished and today > deadline),
            }
        )
    return {
        "township_id": township_id,
        "year": year,
        "deadline": deadline,
        "publication_deadline": publication,
        "today": today,
        "overdue": today > deadline,
        "not_finished": [s for s in statuses if not s["finished"]],
        "finished": sum(1 for s in statuses if s["finished"]),
        "finished_late": [s for s in statuses if s["finished"] and s["late"]],
        # P7: every approved pledge is published, by the publication deadline
        "not_published": [s for s in statuses if s["status"] == "approved"],
        "publication_overdue": today > publication,
    }


async def quarterly_push_report(
    conn: asyncpg.Connection,
    *,
    township_id: str,
    quarter: str,
) -> dict[str, Any]:
    """P11: which published pledges were pushed forward in the quarter, and which not."""
    rows = await conn.fetch(
        "SELECT p.pledge_id, q.quarter IS NOT NULL AS pushed FROM pledges p"
        " LEFT JOIN quarterly_pushes q ON q.pledge_id = p.pledge_id AND q.quarter = $2"
        " WHERE p.township_id = $1 AND p.status = 'published' AND p.year = $3"
        " ORDER BY p.pledge_id",
        township_id,
        quarter,
        int(quarter[:4]),
    )
    return {
        "township_id": township_id,
        "quarter": quarter,
        "pushed": [r["pledge_id"] for r in rows if r["pushed"]],
        "not_pushed": [r["pledge_id"] for r in rows if not r["pushed"]],
    }


# --- roster imports (issue 19) ------------------------------------------------------------


async def roster_townships(conn: asyncpg.Connection, *, kind: str, scope_id: str) -> list[str]:
    """The townships a roster import of this scope plans on (`roster`'s), ids only."""
    column = "township_id" if kind == "township" else "county_id"
    rows = await conn.fetch(f"SELECT township_id FROM townships WHERE {column} = $1", scope_id)
    return [row["township_id"] for row in rows]


async def roster(conn: asyncpg.Connection, *, kind: str, scope_id: str) -> dict[str, Any]:
    """The active branches and members of a township (`kind` "township") or of a county's
    townships, with the townships' names and the county: what a roster import plans on and
    what its template is filled with. Read in the caller's transaction."""
    if kind == "township":
        towns = await conn.fetch(
            "SELECT township_id, county_id, name FROM townships WHERE township_id = $1",
            scope_id,
        )
        if not towns:
            raise NotFound(f"没有找到乡镇 {scope_id}：请核对后再试。")
        county_id = towns[0]["county_id"]
    else:
        if not await conn.fetchval("SELECT 1 FROM counties WHERE county_id = $1", scope_id):
            raise NotFound(f"没有找到县 {scope_id}：请核对后再试。")
        county_id = scope_id
        towns = await conn.fetch(
            "SELECT township_id, county_id, name FROM townships WHERE county_id = $1 ORDER BY name",
            scope_id,
        )
    ids = [t["township_id"] for t in towns]
    names = {t["township_id"]: t["name"] for t in towns}
    branches = await conn.fetch(
        "SELECT branch_id, township_id, name, kind, village, secretary_id FROM branches"
        " WHERE township_id = ANY($1) AND active ORDER BY township_id, name, branch_id",
        ids,
    )
    members = await conn.fetch(
        "SELECT member_id, branch_id, township_id, name, post, duties, leadership_team"
        " FROM members WHERE township_id = ANY($1) AND active"
        " ORDER BY township_id, branch_id, leadership_team DESC, name, member_id",
        ids,
    )
    return {
        "county_id": county_id,
        "townships": names,
        "branches": [{**dict(b), "township_name": names[b["township_id"]]} for b in branches],
        "members": [dict(m) for m in members],
    }


async def county_of(conn: asyncpg.Connection, *, kind: str, scope_id: str) -> str:
    """The county of a township (`kind` "township"), or the county itself."""
    if kind == "county":
        return scope_id
    county_id: str | None = await conn.fetchval(
        "SELECT county_id FROM townships WHERE township_id = $1", scope_id
    )
    if county_id is None:
        raise NotFound(f"没有找到乡镇 {scope_id}：请核对后再试。")
    return county_id


async def may_see_file(conn: asyncpg.Connection, who: Any, sha256: str) -> bool:
    """Files of published pledges are public (progress and follow-ups are only ever on
    published items); a file not attached yet is its uploaders' alone."""
    return bool(
        await conn.fetchval(
            "SELECT EXISTS (SELECT 1 FROM attached_files f JOIN pledges p USING (pledge_id)"
            "  WHERE f.sha256 = $1 AND p.status = 'published')"
            " OR EXISTS (SELECT 1 FROM file_uploads WHERE sha256 = $1 AND uploaded_by = $2)",
            sha256,
            who.subject,
        )
    )
