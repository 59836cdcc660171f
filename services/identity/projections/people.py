"""People, their posts over time, and when a credential was set (never the credential)."""

from __future__ import annotations

from typing import Any

import asyncpg

from shared.envelope import EventEnvelope


async def registered(conn: asyncpg.Connection, e: EventEnvelope, d: dict[str, Any]) -> None:
    await conn.execute(
        "INSERT INTO people (person_id, name, county_id, source, registered)"
        " VALUES ($1, $2, $3, $4, $5)",
        d["person_id"],
        d["name"],
        d["county_id"],
        d["source"],
        e.time,
    )


async def renamed(conn: asyncpg.Connection, e: EventEnvelope, d: dict[str, Any]) -> None:
    await conn.execute(
        "UPDATE people SET name = $2 WHERE person_id = $1", d["person_id"], d["name"]
    )


async def post_started(conn: asyncpg.Connection, e: EventEnvelope, d: dict[str, Any]) -> None:
    await conn.execute(
        "INSERT INTO posts (event_id, person_id, role, org, source, started_at, started_by,"
        " reason) VALUES ($1, $2, $3, $4, $5, $6::text::timestamptz, $7, $8)",
        e.id,
        d["person_id"],
        d["role"],
        d["org"],
        d["source"],
        d["at"],
        d["by"],
        d["reason"],
    )


async def post_ended(conn: asyncpg.Connection, e: EventEnvelope, d: dict[str, Any]) -> None:
    await conn.execute(
        "UPDATE posts SET ended_at = $4::text::timestamptz, ended_by = $5, end_reason = $6"
        " WHERE person_id = $1 AND role = $2 AND org = $3 AND ended_at IS NULL",
        d["person_id"],
        d["role"],
        d["org"],
        d["at"],
        d["by"],
        d["reason"],
    )


async def locked(conn: asyncpg.Connection, e: EventEnvelope, d: dict[str, Any]) -> None:
    await conn.execute(
        "UPDATE people SET locked = true, locked_at = $2::text::timestamptz WHERE person_id = $1",
        d["person_id"],
        d["at"],
    )


async def unlocked(conn: asyncpg.Connection, e: EventEnvelope, d: dict[str, Any]) -> None:
    await conn.execute(
        "UPDATE people SET locked = false, locked_at = NULL WHERE person_id = $1", d["person_id"]
    )


async def credential_set(conn: asyncpg.Connection, e: EventEnvelope, d: dict[str, Any]) -> None:
    await conn.execute(
        "INSERT INTO credential_changes VALUES ($1, $2, $3, $4::text::timestamptz, $5)",
        e.id,
        d["person_id"],
        d["kind"],
        d["at"],
        d["by"],
    )


async def upstream_linked(conn: asyncpg.Connection, e: EventEnvelope, d: dict[str, Any]) -> None:
    await conn.execute(
        "INSERT INTO upstream_links VALUES ($1, $2, $3, $4, $5::text::timestamptz)",
        d["person_id"],
        d["issuer"],
        d["subject_hash"],
        d["attribute"],
        d["at"],
    )
