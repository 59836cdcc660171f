"""Projects the invitations' events (issue 17): how many invitations each rater was given, for
turnout (counts only; the codes are never in an event)."""

from __future__ import annotations

from typing import Any

import asyncpg

from shared.envelope import EventEnvelope


async def invitation_issued(conn: asyncpg.Connection, e: EventEnvelope, d: dict[str, Any]) -> None:
    await conn.execute(
        "INSERT INTO invitations_issued VALUES ($1, $2, $3, 1) ON CONFLICT (scope_id, rater_id)"
        " DO UPDATE SET issued = invitations_issued.issued + 1",
        d["scope_id"],
        d["rater_id"],
        d["scope"],
    )
