"""Projects the invitations' events (issue 17): how many invitations each rater was given,
and whether the latest went by a text the provider accepted or refused, for turnout (counts
only; the codes are never in an event)."""

from __future__ import annotations

from typing import Any

import asyncpg

from shared.envelope import EventEnvelope


async def invitation_issued(conn: asyncpg.Connection, e: EventEnvelope, d: dict[str, Any]) -> None:
    await conn.execute(
        "INSERT INTO invitations_issued (scope_id, rater_id, scope, issued, last_sms)"
        " VALUES ($1, $2, $3, 1, $4) ON CONFLICT (scope_id, rater_id) DO UPDATE SET"
        " issued = invitations_issued.issued + 1, last_sms = EXCLUDED.last_sms",
        d["scope_id"],
        d["rater_id"],
        d["scope"],
        "sent" if d.get("by_sms") else None,
    )


async def text_refused(conn: asyncpg.Connection, e: EventEnvelope, d: dict[str, Any]) -> None:
    await conn.execute(
        "UPDATE invitations_issued SET last_sms = 'refused' WHERE scope_id = $1 AND rater_id = $2",
        d["scope_id"],
        d["rater_id"],
    )
