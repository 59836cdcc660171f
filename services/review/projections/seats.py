"""The township committees' seats (R1), from the identity service's posts as its contracts
read them (`contracts.py`): only the township_committee post counts, at its township."""

from __future__ import annotations

from typing import Any

import asyncpg

from services.review import contracts as k
from shared.auth import Role
from shared.envelope import EventEnvelope

TAKEN = "INSERT INTO committee_seats VALUES ($1, $2) ON CONFLICT DO NOTHING"
LEFT = "DELETE FROM committee_seats WHERE township_id = $1 AND person_id = $2"


async def _seat(conn: asyncpg.Connection, change: str, post: k.PostEvent) -> None:
    if post.role == Role.TOWNSHIP_COMMITTEE:
        await conn.execute(change, post.org, post.person_id)


async def started(conn: asyncpg.Connection, e: EventEnvelope, d: dict[str, Any]) -> None:
    await _seat(conn, TAKEN, k.PostStarted.model_validate(d))


async def ended(conn: asyncpg.Connection, e: EventEnvelope, d: dict[str, Any]) -> None:
    await _seat(conn, LEFT, k.PostEnded.model_validate(d))
