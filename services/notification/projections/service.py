"""Projects the notification service's own events (calendars, notices, channels, deliveries,
bulletins) into `read_models.sql`; the table of steps is in `__init__.py`. Values come from
the event (its data, time and log position), never from now()."""

from __future__ import annotations

import json
from typing import Any

import asyncpg

from services.notification.projections.board import release
from shared.envelope import EventEnvelope


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, default=str)


async def calendar_set(conn: asyncpg.Connection, e: EventEnvelope, d: dict[str, Any]) -> None:
    await conn.execute(
        "INSERT INTO calendars VALUES ($1, $2, $3) ON CONFLICT (county_id, year)"
        " DO UPDATE SET deadlines = EXCLUDED.deadlines",
        d["county_id"],
        d["year"],
        _json(d["deadlines"]),
    )


async def notice_issued(conn: asyncpg.Connection, e: EventEnvelope, d: dict[str, Any]) -> None:
    await conn.execute(
        "INSERT INTO notices (notice_id, stream_id, county_id, township_id, deadline_id, kind,"
        " recipient, title, body, due_on, issued_at)"
        " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10::text::date, $11)",
        d["notice_id"],
        e.streamid,
        d["county_id"],
        d["township_id"],
        d["deadline_id"],
        d["kind"],
        d["recipient"],
        d["title"],
        d["body"],
        d["due_on"],
        e.time,
    )


async def notice_read(conn: asyncpg.Connection, e: EventEnvelope, d: dict[str, Any]) -> None:
    await conn.execute(
        "UPDATE notices SET read_at = $2 WHERE notice_id = $1", d["notice_id"], e.time
    )


async def channel_registered(conn: asyncpg.Connection, e: EventEnvelope, d: dict[str, Any]) -> None:
    await conn.execute(
        "INSERT INTO channels VALUES ($1, $2, $3, $4, $5, $6, $7, $8, true)",
        d["channel_id"],
        d["county_id"],
        d["township_id"],
        d["kind"],
        d["name"],
        d["shown_as"],
        d["signed"],
        _json(d["release_types"]),
    )


async def channel_retired(conn: asyncpg.Connection, e: EventEnvelope, d: dict[str, Any]) -> None:
    await conn.execute("UPDATE channels SET active = false WHERE channel_id = $1", d["channel_id"])


async def phone_registered(conn: asyncpg.Connection, e: EventEnvelope, d: dict[str, Any]) -> None:
    await conn.execute(
        "INSERT INTO contacts VALUES ($1, $2, $3, $4) ON CONFLICT (person_id) DO UPDATE"
        " SET county_id = EXCLUDED.county_id, township_id = EXCLUDED.township_id,"
        " phone = EXCLUDED.phone",
        d["person_id"],
        d["county_id"],
        d["township_id"],
        _json(d["phone"]),
    )


async def phone_removed(conn: asyncpg.Connection, e: EventEnvelope, d: dict[str, Any]) -> None:
    await conn.execute("DELETE FROM contacts WHERE person_id = $1", d["person_id"])


async def delivery_scheduled(conn: asyncpg.Connection, e: EventEnvelope, d: dict[str, Any]) -> None:
    await conn.execute(
        "INSERT INTO deliveries VALUES ($1, $2, $3, $4, $5, $6, $7, 'pending', 0,"
        " $8::text::timestamptz, NULL, $9)",
        d["delivery_id"],
        d["channel_id"],
        d["township_id"],
        d["release_id"],
        d["release_type"],
        d["subject"],
        _json(d["content"]),
        d["due_at"],
        e.time,
    )


async def _delivery(
    conn: asyncpg.Connection, e: EventEnvelope, d: dict[str, Any], sql: str, *values: Any
) -> None:
    await conn.execute(
        f"UPDATE deliveries SET updated_at = $2, {sql} WHERE delivery_id = $1",
        d["delivery_id"],
        e.time,
        *values,
    )


async def delivery_attempt_failed(
    conn: asyncpg.Connection, e: EventEnvelope, d: dict[str, Any]
) -> None:
    await _delivery(
        conn,
        e,
        d,
        "attempts = $3, last_error = $4, next_attempt_at = $5::text::timestamptz",
        d["attempt"],
        d["error"],
        d["retry_at"],
    )


async def delivery_succeeded(conn: asyncpg.Connection, e: EventEnvelope, d: dict[str, Any]) -> None:
    await _delivery(
        conn, e, d, "status = 'delivered', attempts = $3, next_attempt_at = NULL", d["attempt"]
    )


async def delivery_given_up(conn: asyncpg.Connection, e: EventEnvelope, d: dict[str, Any]) -> None:
    await _delivery(
        conn,
        e,
        d,
        "status = 'dead', attempts = $3, last_error = $4, next_attempt_at = NULL",
        d["attempts"],
        d["error"],
    )


async def delivery_requeued(conn: asyncpg.Connection, e: EventEnvelope, d: dict[str, Any]) -> None:
    await _delivery(
        conn,
        e,
        d,
        "status = 'pending', attempts = 0, next_attempt_at = $3::text::timestamptz",
        d["due_at"],
    )


async def bulletin_issued(conn: asyncpg.Connection, e: EventEnvelope, d: dict[str, Any]) -> None:
    await conn.execute(
        "INSERT INTO bulletins VALUES ($1, $2, $3, $4, $5, $6, $7::text::date, $8, $9, $10, $11)",
        d["bulletin_id"],
        d["township_id"],
        d["county_id"],
        d["period"],
        d["regular"],
        d["title"],
        d["issued_on"],
        d["note"],
        _json(d["branches"]),
        _json(d.get("guidance", [])),
        _json(d.get("publicity", [])),
    )
    await release(conn, e, "bulletin", d["township_id"], d["title"], d)
