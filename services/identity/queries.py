"""Reads from the read models. Keyword-only arguments; plain dicts out.

The `Reads` port is what the handlers and the directory policy read inside a command's
transaction: where an org sits (the directory copy) and who holds a post now (this
service's own posts). tests/support/identity.py keeps the same port in memory."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Protocol

import asyncpg

from services.identity.access import Place
from services.identity.oidc import passwords


class Reads(Protocol):
    async def place(self, org: str) -> Place | None: ...
    async def holders(self, role: str, org: str) -> list[str]: ...
    async def posts_at(self, org: str) -> list[tuple[str, str]]: ...
    async def townships_of(self, person_id: str) -> set[str]: ...
    async def roles_of(self, person_id: str) -> set[str]: ...


class PostgresReads:
    def __init__(self, conn: asyncpg.Connection) -> None:
        self.conn = conn

    async def place(self, org: str) -> Place | None:
        row = await self.conn.fetchrow(
            "SELECT county_id, township_id FROM dir_townships WHERE township_id = $1"
            " UNION ALL SELECT county_id, township_id FROM dir_branches WHERE branch_id = $1"
            " UNION ALL SELECT b.county_id, m.township_id FROM dir_members m"
            "  JOIN dir_branches b USING (branch_id) WHERE m.member_id = $1"
            " UNION ALL (SELECT county_id, NULL FROM dir_townships WHERE county_id = $1 LIMIT 1)"
            " LIMIT 1",
            org,
        )
        return None if row is None else Place(row["county_id"], row["township_id"])

    async def holders(self, role: str, org: str) -> list[str]:
        rows = await self.conn.fetch(
            "SELECT person_id FROM posts WHERE role = $1 AND org = $2 AND ended_at IS NULL"
            " ORDER BY person_id",
            role,
            org,
        )
        return [r["person_id"] for r in rows]

    async def posts_at(self, org: str) -> list[tuple[str, str]]:
        rows = await self.conn.fetch(
            "SELECT person_id, role FROM posts WHERE org = $1 AND ended_at IS NULL"
            " ORDER BY person_id, role",
            org,
        )
        return [(r["person_id"], r["role"]) for r in rows]

    async def townships_of(self, person_id: str) -> set[str]:
        rows = await self.conn.fetch(
            "SELECT coalesce(t.township_id, b.township_id) AS township_id FROM posts p"
            " LEFT JOIN dir_townships t ON t.township_id = p.org"
            " LEFT JOIN dir_branches b ON b.branch_id = p.org"
            " WHERE p.person_id = $1 AND p.ended_at IS NULL",
            person_id,
        )
        return {r["township_id"] for r in rows if r["township_id"]}

    async def roles_of(self, person_id: str) -> set[str]:
        rows = await self.conn.fetch(
            "SELECT DISTINCT role FROM posts WHERE person_id = $1 AND ended_at IS NULL", person_id
        )
        return {r["role"] for r in rows}


def reads(conn: asyncpg.Connection) -> Reads:
    return PostgresReads(conn)


POST_COLUMNS = (
    "person_id, role, org, source, started_at, started_by, reason, ended_at, ended_by, end_reason"
)


async def person(conn: asyncpg.Connection, person_id: str) -> dict[str, Any] | None:
    row = await conn.fetchrow(
        "SELECT person_id, name, county_id, source, locked FROM people WHERE person_id = $1",
        person_id,
    )
    return None if row is None else dict(row)


async def posts_on(
    conn: asyncpg.Connection, *, person_id: str, at: datetime
) -> list[dict[str, Any]]:
    """The posts the person held at `at`: who could do what, as of any moment."""
    rows = await conn.fetch(
        f"SELECT {POST_COLUMNS} FROM posts WHERE person_id = $1 AND started_at <= $2"
        " AND (ended_at IS NULL OR ended_at > $2) ORDER BY started_at, role, org",
        person_id,
        at,
    )
    return [dict(r) for r in rows]


async def post_history(conn: asyncpg.Connection, *, person_id: str) -> list[dict[str, Any]]:
    rows = await conn.fetch(
        f"SELECT {POST_COLUMNS} FROM posts WHERE person_id = $1 ORDER BY started_at, role, org",
        person_id,
    )
    return [dict(r) for r in rows]


async def people(
    conn: asyncpg.Connection, *, county_id: str, name: str | None = None, limit: int, offset: int
) -> dict[str, Any]:
    """A county's people, paged; `name` is found anywhere in the name, letters of any case.
    No trigram index: most Chinese names are two or three characters, shorter than a
    trigram, so a search scans one county's rows (its index) and pages them."""
    rows = await conn.fetch(
        "SELECT person_id, name, county_id, source, locked, count(*) OVER () AS total"
        " FROM people WHERE county_id = $1"
        " AND ($2::text IS NULL OR strpos(lower(name), lower($2)) > 0)"
        " ORDER BY person_id LIMIT $3 OFFSET $4",
        county_id,
        name,
        limit,
        offset,
    )
    total = rows[0]["total"] if rows else 0
    items = [{k: v for k, v in dict(r).items() if k != "total"} for r in rows]
    return {"items": items, "total": total, "limit": limit, "offset": offset}


async def person_by_login(
    conn: asyncpg.Connection, *, county_id: str, login_name: str
) -> dict[str, Any]:
    """The county's person with this login name, as a page of one (or none). The table
    beside the log keeps only the name's keyed hash, never the number: it is compared so."""
    pepper = await conn.fetchval("SELECT key FROM identity_pepper WHERE name = 'login'")
    rows = (
        []
        if pepper is None  # no login name was ever set
        else await conn.fetch(
            "SELECT p.person_id, p.name, p.county_id, p.source, p.locked FROM credentials c"
            " JOIN people p USING (person_id) WHERE c.login_hash = $1 AND p.county_id = $2",
            passwords.login_hash(pepper, login_name),
            county_id,
        )
    )
    return {"items": [dict(r) for r in rows], "total": len(rows), "limit": 1, "offset": 0}


async def current_posts(conn: asyncpg.Connection, person_id: str) -> list[dict[str, Any]]:
    """The posts held now, with the place's name where the directory knows it: the hats a
    person chooses among at sign-in."""
    rows = await conn.fetch(
        "SELECT p.role, p.org, coalesce(t.name, b.name, m.name) AS place FROM posts p"
        " LEFT JOIN dir_townships t ON t.township_id = p.org"
        " LEFT JOIN dir_branches b ON b.branch_id = p.org"
        " LEFT JOIN dir_members m ON m.member_id = p.org"
        " WHERE p.person_id = $1 AND p.ended_at IS NULL ORDER BY p.started_at, p.role",
        person_id,
    )
    return [dict(r) for r in rows]


async def township_committee(conn: asyncpg.Connection, *, township_id: str) -> dict[str, Any]:
    """The people on the township's committee now (its head among them): the leaders the
    township office assigns to branches (R1). None of the township: not found."""
    town = await conn.fetchrow(
        "SELECT township_id, county_id, head_id FROM dir_townships WHERE township_id = $1",
        township_id,
    )
    if town is None:
        return {}
    rows = await conn.fetch(
        "SELECT DISTINCT p.person_id, coalesce(pe.name, p.person_id) AS name FROM posts p"
        " LEFT JOIN people pe USING (person_id)"
        " WHERE p.org = $1 AND p.role = 'township_committee' AND p.ended_at IS NULL"
        " ORDER BY 2, 1",
        township_id,
    )
    members = [{**dict(r), "head": r["person_id"] == town["head_id"]} for r in rows]
    return {"township_id": township_id, "county_id": town["county_id"], "members": members}
