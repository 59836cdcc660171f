"""Contact-point guidance visits (R7)."""

from __future__ import annotations

from typing import Any

import asyncpg

from shared.envelope import EventEnvelope


async def recorded(conn: asyncpg.Connection, e: EventEnvelope, d: dict[str, Any]) -> None:
    await conn.execute(
        "INSERT INTO visits VALUES ($1, $2, $3, $4, $5, $6::text::date, $7, $8, $9, $10)",
        d["visit_id"],
        d["township_id"],
        d["branch_id"],
        d["cadre_id"],
        d["cadre_name"],
        d["visited_on"],
        d["summary"],
        d.get("problems_found"),
        d.get("guidance_given"),
        e.time,
    )
