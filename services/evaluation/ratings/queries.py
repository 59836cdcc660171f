"""Reads of the published ratings (E6)."""

from __future__ import annotations

import json
from typing import Any

import asyncpg

from shared.errors import NotFound


async def ratings(
    conn: asyncpg.Connection,
    *,
    township_id: str | None,
    branch_id: str | None,
    period: str | None,
    level: str | None = None,
    limit: int = 100,
    offset: int = 0,
) -> dict[str, Any]:
    """A page of the published ratings of a township or a branch (of a period, of a level
    if given), the latest period first."""
    where = (
        "($1::text IS NULL OR township_id = $1) AND ($2::text IS NULL OR branch_id = $2)"
        " AND ($3::text IS NULL OR period = $3) AND ($4::text IS NULL OR level = $4)"
    )
    args = (township_id, branch_id, period, level)
    total = await conn.fetchval(f"SELECT count(*) FROM ratings WHERE {where}", *args)
    rows = await conn.fetch(
        f"SELECT * FROM ratings WHERE {where} ORDER BY period DESC, rating_id LIMIT $5 OFFSET $6",
        *args,
        limit,
        offset,
    )
    return {"total": total, "limit": limit, "offset": offset, "rows": [shown(r) for r in rows]}


async def rating(conn: asyncpg.Connection, *, rating_id: str) -> dict[str, Any]:
    row = await conn.fetchrow("SELECT * FROM ratings WHERE rating_id = $1", rating_id)
    if row is None:
        raise NotFound("没有找到该评定：请核对后再试。", rating_id=rating_id)
    return shown(row)


def shown(row: asyncpg.Record) -> dict[str, Any]:
    return {**dict(row), "results": json.loads(row["results"])}
