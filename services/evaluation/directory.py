"""Reads of this service's copy of the directory (D2, shared/directory.py): the hierarchy
that decides who organises and who is rated (E2)."""

from __future__ import annotations

import asyncpg

from shared.auth import Principal, Role
from shared.errors import InvalidInput, NotFound


async def township(conn: asyncpg.Connection, township_id: str) -> asyncpg.Record:
    row = await conn.fetchrow("SELECT * FROM dir_townships WHERE township_id = $1", township_id)
    if row is None:
        raise NotFound("township not found (not yet in this service's directory copy)")
    return row


async def branch(conn: asyncpg.Connection, branch_id: str) -> asyncpg.Record:
    row = await conn.fetchrow(
        "SELECT * FROM dir_branches WHERE branch_id = $1 AND active", branch_id
    )
    if row is None:
        raise NotFound("branch not found (not yet in this service's directory copy)")
    return row


async def branches_of(conn: asyncpg.Connection, township_id: str) -> list[asyncpg.Record]:
    return list(
        await conn.fetch(
            "SELECT * FROM dir_branches WHERE township_id = $1 AND active ORDER BY branch_id",
            township_id,
        )
    )


async def members_of(conn: asyncpg.Connection, branch_id: str) -> list[asyncpg.Record]:
    return list(
        await conn.fetch(
            "SELECT * FROM dir_members WHERE branch_id = $1 AND active ORDER BY member_id",
            branch_id,
        )
    )


async def member_in(
    conn: asyncpg.Connection, member_id: str, township_id: str, where: str
) -> asyncpg.Record:
    row = await conn.fetchrow(
        "SELECT * FROM dir_members WHERE member_id = $1 AND active AND township_id = $2",
        member_id,
        township_id,
    )
    if row is None:
        raise InvalidInput(f"{member_id} is not an active member of this township", field=where)
    return row


async def home_township(conn: asyncpg.Connection, who: Principal) -> str | None:
    """The township a member (by their id) or a branch secretary (by the branch) belongs to
    now, as this copy shows it (D3); None for other roles, or if not (or no longer) there."""
    if who.role is Role.MEMBER:
        query = "SELECT township_id FROM dir_members WHERE member_id = $1 AND active"
        found: str | None = await conn.fetchval(query, who.subject)
        return found
    if who.role is Role.BRANCH_SECRETARY and who.org is not None:
        query = "SELECT township_id FROM dir_branches WHERE branch_id = $1 AND active"
        found = await conn.fetchval(query, who.org)
        return found
    return None
