"""The review ledger: every version of every review; the current one has `superseded_by`
null (R4)."""

from __future__ import annotations

import json
from typing import Any

import asyncpg

from services.review.projections.visits import attach_files
from shared.envelope import EventEnvelope


async def _review(
    conn: asyncpg.Connection, e: EventEnvelope, d: dict[str, Any], original: str
) -> None:
    await conn.execute(
        "INSERT INTO reviews (review_id, original_review_id, corrects_review_id, township_id,"
        " branch_id, subject_kind, subject_id, subject_name, reviewer_id, reviewer_name,"
        " occasion, cadence, quarter, held_on, achievements, shortcomings, direction,"
        " assessments, pledge_status, reason, recorded_by, recorded_at, sequence) VALUES ($1,"
        " $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14::text::date, $15, $16, $17,"
        " $18, $19, $20, $21, $22, $23)",
        d["review_id"],
        original,
        d.get("corrects_review_id"),
        d["township_id"],
        d["branch_id"],
        d["subject_kind"],
        d["subject_id"],
        d["subject_name"],
        d["reviewer_id"],
        d["reviewer_name"],
        d["occasion"],
        d["cadence"],
        d["quarter"],
        d["held_on"],
        d["achievements"],
        d["shortcomings"],
        d["direction"],
        json.dumps(d["assessments"], ensure_ascii=False),
        json.dumps(d["pledge_status"], ensure_ascii=False),
        d.get("reason"),
        e.actor,
        e.time,
        e.sequence,
    )
    await attach_files(conn, e, d, "review", d["review_id"])


async def recorded(conn: asyncpg.Connection, e: EventEnvelope, d: dict[str, Any]) -> None:
    await _review(conn, e, d, d["review_id"])


async def corrected(conn: asyncpg.Connection, e: EventEnvelope, d: dict[str, Any]) -> None:
    await _review(conn, e, d, d["original_review_id"])
    await conn.execute(
        "UPDATE reviews SET superseded_by = $2 WHERE review_id = $1",
        d["corrects_review_id"],
        d["review_id"],
    )
