"""The branches' responsible leaders now (R1): assigned and unassigned by the office."""

from __future__ import annotations

from typing import Any

import asyncpg

from shared.envelope import EventEnvelope


async def assigned(conn: asyncpg.Connection, e: EventEnvelope, d: dict[str, Any]) -> None:
    await conn.execute(
        "INSERT INTO branch_leaders VALUES ($1, $2, $3, $4, $5::text::date)",
        d["branch_id"],
        d["leader_id"],
        d["township_id"],
        d["leader_name"],
        d["assigned_on"],
    )


async def unassigned(conn: asyncpg.Connection, e: EventEnvelope, d: dict[str, Any]) -> None:
    await conn.execute(
        "DELETE FROM branch_leaders WHERE branch_id = $1 AND leader_id = $2",
        d["branch_id"],
        d["leader_id"],
    )
