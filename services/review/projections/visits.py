"""Contact-point guidance visits (R7)."""

from __future__ import annotations

import json
from typing import Any

import asyncpg

from shared.envelope import EventEnvelope


async def recorded(conn: asyncpg.Connection, e: EventEnvelope, d: dict[str, Any]) -> None:
    await conn.execute(
        "INSERT INTO visits VALUES ($1, $2, $3, $4, $5, $6::text::date, $7, $8, $9, $10, '[]')",
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
    await attach_files(conn, e, d, "visit", d["visit_id"])


RECORDS = {  # the table and key of each kind of record that carries files
    "review": ("reviews", "review_id"),
    "journal": ("journal_entries", "entry_id"),
    "visit": ("visits", "visit_id"),
}


async def attach_files(
    conn: asyncpg.Connection, e: EventEnvelope, d: dict[str, Any], kind: str, record_id: str
) -> None:
    """The evidence files the event attaches to its record (who may see it, may see them)."""
    files = d.get("files", ())
    if files:
        table, key = RECORDS[kind]
        await conn.execute(
            f"UPDATE {table} SET files = $2 WHERE {key} = $1",
            record_id,
            json.dumps(files, ensure_ascii=False),
        )
    for f in files:
        await conn.execute(
            "INSERT INTO attached_files VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
            " ON CONFLICT DO NOTHING",
            f["sha256"],
            e.id,
            kind,
            record_id,
            d["township_id"],
            d.get("member_id"),
            f["media_type"],
            f["name"],
        )
