"""Projects the erasure of a person's personal data (A7) into every read model that shows them:
the raters of rounds and of satisfaction checks alike."""

from __future__ import annotations

from typing import Any

import asyncpg

from services.evaluation.rounds.projections.rounds import ERASED_COLUMNS
from shared.envelope import EventEnvelope


async def personal_data_erased(
    conn: asyncpg.Connection, e: EventEnvelope, d: dict[str, Any]
) -> None:
    """Every read model that shows the person shows them erased (A7)."""
    for table in ("round_raters", "check_raters"):
        await conn.execute(
            f"UPDATE {table} SET name = $2, phone = $3, id_number = $4, erased = $5"
            " WHERE rater_id = $1 AND member_id IS NULL",
            d["person_id"],
            *ERASED_COLUMNS,
        )
