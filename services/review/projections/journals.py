"""Work journals (R6): entries with their corrections, and the monthly presentations."""

from __future__ import annotations

import json
from typing import Any

import asyncpg

from services.review.projections.visits import attach_files
from shared.envelope import EventEnvelope


async def _entry(conn: asyncpg.Connection, e: EventEnvelope, d: dict[str, Any]) -> None:
    await conn.execute(
        "INSERT INTO journal_entries (entry_id, corrects_entry_id, township_id, branch_id,"
        " member_id, month, recorded_on, work_content, duty_performance, reason, recorded_at,"
        " sequence, entered_by)"
        " VALUES ($1, $2, $3, $4, $5, $6, $7::text::date, $8, $9, $10, $11, $12, $13)",
        d["entry_id"],
        d.get("corrects_entry_id"),
        d["township_id"],
        d["branch_id"],
        d["member_id"],
        d["month"],
        d["recorded_on"],
        d["work_content"],
        d["duty_performance"],
        d.get("reason"),
        e.time,
        e.sequence,
        d.get("entered_by"),
    )
    await attach_files(conn, e, d, "journal", d["entry_id"])


async def entry_recorded(conn: asyncpg.Connection, e: EventEnvelope, d: dict[str, Any]) -> None:
    await _entry(conn, e, d)


async def entry_corrected(conn: asyncpg.Connection, e: EventEnvelope, d: dict[str, Any]) -> None:
    await _entry(conn, e, d)
    await conn.execute(
        "UPDATE journal_entries SET superseded_by = $2 WHERE entry_id = $1",
        d["corrects_entry_id"],
        d["entry_id"],
    )


async def presented(conn: asyncpg.Connection, e: EventEnvelope, d: dict[str, Any]) -> None:
    await conn.execute(
        "INSERT INTO presentations VALUES ($1, $2, $3, $4, $5::text::date, $6, $7, $8, $9,"
        " $10, $11)",
        d["member_id"],
        d["month"],
        d["township_id"],
        d["branch_id"],
        d["presented_on"],
        json.dumps(d["entry_ids"]),
        d["grade"],
        d["evaluation"],
        d["evaluator_id"],
        d["evaluator_name"],
        e.time,
    )
