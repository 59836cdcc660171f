"""Projects the erasure of a person's personal data (A7) into every read model that shows them:
the raters of rounds and of satisfaction checks alike. The sealed data is dropped as well (its
key is destroyed, so it no longer opens anyway); the reads show the person as 已删除."""

from __future__ import annotations

from typing import Any

import asyncpg

from shared.envelope import EventEnvelope


async def personal_data_erased(
    conn: asyncpg.Connection, e: EventEnvelope, d: dict[str, Any]
) -> None:
    """Every read model that shows the person shows them erased (A7); who erased them, and
    when, for the audits."""
    await conn.execute(
        "INSERT INTO erasures VALUES ($1, $2, $3, $4) ON CONFLICT (person_id) DO NOTHING",
        d["person_id"],
        e.time,
        e.actor,
        e.actorrole,
    )
    for table in ("round_raters", "check_raters"):
        await conn.execute(
            f"UPDATE {table} SET personal = NULL, erased = true"
            " WHERE rater_id = $1 AND member_id IS NULL",
            d["person_id"],
        )
