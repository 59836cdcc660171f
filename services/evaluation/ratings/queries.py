"""Reads of the published ratings (E6)."""

from __future__ import annotations

import json
from typing import Any

import asyncpg


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
