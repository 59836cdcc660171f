"""Projects the published ratings (E6) into their read model."""

from __future__ import annotations

import json
from typing import Any

import asyncpg

from shared.envelope import EventEnvelope


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


async def rating_published(conn: asyncpg.Connection, e: EventEnvelope, d: dict[str, Any]) -> None:
    await conn.execute(
        "INSERT INTO ratings VALUES ($1, $2, $3, $4, $5, $6::text::date, $7)",
        d["rating_id"],
        d["township_id"],
        d["branch_id"],
        d["period"],
        d["level"],
        d["published_on"],
        _json(d["results"]),
    )
