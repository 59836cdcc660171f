"""The directory's steps (D1–D3): counties, calendars, categories, townships, branches and
members, with each branch's and member's history.

Everything written comes from the event (its data, time and actor), never from now(), so a
rebuild gives exactly the same rows.
"""

from __future__ import annotations

import json
from typing import Any

import asyncpg
from pydantic_core import to_json

from shared.envelope import EventEnvelope


async def _history(conn: asyncpg.Connection, e: EventEnvelope, subject_id: str) -> None:
    await conn.execute(
        "INSERT INTO directory_history (event_id, subject_id, change, detail, at)"
        " VALUES ($1, $2, $3, $4, $5)",
        e.id,
        subject_id,
        e.type,
        json.dumps(e.data),
        e.time,
    )


async def county(conn: asyncpg.Connection, e: EventEnvelope, d: dict[str, Any]) -> None:
    await conn.execute("INSERT INTO counties VALUES ($1, $2)", d["county_id"], d["name"])


async def calendar(conn: asyncpg.Connection, e: EventEnvelope, d: dict[str, Any]) -> None:
    await conn.execute(
        "INSERT INTO calendars VALUES ($1, $2, $3::text::date, $4::text::date)"
        " ON CONFLICT (county_id, year) DO UPDATE SET drafting_deadline ="
        " EXCLUDED.drafting_deadline, publication_deadline = EXCLUDED.publication_deadline",
        d["county_id"],
        d["year"],
        d["drafting_deadline"],
        d.get("publication_deadline"),
    )


async def categories(conn: asyncpg.Connection, e: EventEnvelope, d: dict[str, Any]) -> None:
    await conn.execute(
        "INSERT INTO categories VALUES ($1, $2, $3) ON CONFLICT (county_id, kind)"
        " DO UPDATE SET categories = EXCLUDED.categories",
        d["county_id"],
        d["kind"],
        json.dumps(d["categories"], ensure_ascii=False),
    )


async def township(conn: asyncpg.Connection, e: EventEnvelope, d: dict[str, Any]) -> None:
    await conn.execute(
        "INSERT INTO townships (township_id, county_id, name) VALUES ($1, $2, $3)",
        d["township_id"],
        d["county_id"],
        d["name"],
    )


async def head(conn: asyncpg.Connection, e: EventEnvelope, d: dict[str, Any]) -> None:
    await conn.execute(
        "UPDATE townships SET head_id = $2, head_name = $3 WHERE township_id = $1",
        d["township_id"],
        d["person_id"],
        d["name"],
    )


async def branch(conn: asyncpg.Connection, e: EventEnvelope, d: dict[str, Any]) -> None:
    await conn.execute(
        "INSERT INTO branches (branch_id, township_id, county_id, name, kind, village, active)"
        " VALUES ($1, $2, $3, $4, $5, $6, true)",
        d["branch_id"],
        d["township_id"],
        d["county_id"],
        d["name"],
        d["kind"],
        d["village"],
    )
    await _history(conn, e, d["branch_id"])


async def secretary(conn: asyncpg.Connection, e: EventEnvelope, d: dict[str, Any]) -> None:
    await conn.execute(
        "UPDATE branches SET secretary_id = $2 WHERE branch_id = $1", d["branch_id"], d["member_id"]
    )
    await _history(conn, e, d["branch_id"])


async def branch_moved(conn: asyncpg.Connection, e: EventEnvelope, d: dict[str, Any]) -> None:
    await conn.execute(
        "UPDATE branches SET township_id = $2 WHERE branch_id = $1",
        d["branch_id"],
        d["to_township_id"],
    )
    await conn.execute(
        "UPDATE members SET township_id = $2 WHERE branch_id = $1",
        d["branch_id"],
        d["to_township_id"],
    )
    await _history(conn, e, d["branch_id"])


async def branch_retired(conn: asyncpg.Connection, e: EventEnvelope, d: dict[str, Any]) -> None:
    await conn.execute(
        "UPDATE branches SET active = false, retired_reason = $2 WHERE branch_id = $1",
        d["branch_id"],
        d["reason"],
    )
    await _history(conn, e, d["branch_id"])


async def member(conn: asyncpg.Connection, e: EventEnvelope, d: dict[str, Any]) -> None:
    await conn.execute(
        "INSERT INTO members (member_id, branch_id, township_id, name, post, duties,"
        " leadership_team, active) VALUES ($1, $2, $3, $4, $5, $6, $7, true)",
        d["member_id"],
        d["branch_id"],
        d["township_id"],
        d["name"],
        d["post"],
        d["duties"],
        d["leadership_team"],
    )
    await _history(conn, e, d["member_id"])


async def post(conn: asyncpg.Connection, e: EventEnvelope, d: dict[str, Any]) -> None:
    await conn.execute(
        "UPDATE members SET post = $2, duties = $3, leadership_team = $4 WHERE member_id = $1",
        d["member_id"],
        d["post"],
        d["duties"],
        d["leadership_team"],
    )
    await _history(conn, e, d["member_id"])


async def transfer(conn: asyncpg.Connection, e: EventEnvelope, d: dict[str, Any]) -> None:
    await conn.execute(
        "UPDATE members SET branch_id = $2, township_id = $3 WHERE member_id = $1",
        d["member_id"],
        d["to_branch_id"],
        d["to_township_id"],
    )
    await conn.execute(
        "UPDATE branches SET secretary_id = NULL WHERE branch_id = $1 AND secretary_id = $2",
        d["from_branch_id"],
        d["member_id"],
    )
    await _history(conn, e, d["member_id"])


async def member_retired(conn: asyncpg.Connection, e: EventEnvelope, d: dict[str, Any]) -> None:
    await conn.execute(
        "UPDATE members SET active = false, retired_reason = $2 WHERE member_id = $1",
        d["member_id"],
        d["reason"],
    )
    await conn.execute(
        "UPDATE branches SET secretary_id = NULL WHERE secretary_id = $1", d["member_id"]
    )
    await _history(conn, e, d["member_id"])


# --- many at once (the bulk path of a roster import): the same rows as one by one, by COPY --

HISTORY = ("event_id", "subject_id", "change", "detail", "at")


async def _histories(conn: asyncpg.Connection, events: list[EventEnvelope], key: str) -> None:
    # the detail is jsonb: the same value as `_history`'s json.dumps, written faster
    await conn.copy_records_to_table(
        "directory_history",
        records=[(e.id, e.data[key], e.type, to_json(e.data).decode(), e.time) for e in events],
        columns=HISTORY,
    )


async def branches(conn: asyncpg.Connection, events: list[EventEnvelope]) -> None:
    await conn.copy_records_to_table(
        "branches",
        records=[
            (
                d["branch_id"],
                d["township_id"],
                d["county_id"],
                d["name"],
                d["kind"],
                d["village"],
                True,
            )
            for d in (e.data for e in events)
        ],
        columns=("branch_id", "township_id", "county_id", "name", "kind", "village", "active"),
    )
    await _histories(conn, events, "branch_id")


async def members(conn: asyncpg.Connection, events: list[EventEnvelope]) -> None:
    await conn.copy_records_to_table(
        "members",
        records=[
            (
                d["member_id"],
                d["branch_id"],
                d["township_id"],
                d["name"],
                d["post"],
                d["duties"],
                d["leadership_team"],
                True,
            )
            for d in (e.data for e in events)
        ],
        columns=(
            "member_id",
            "branch_id",
            "township_id",
            "name",
            "post",
            "duties",
            "leadership_team",
            "active",
        ),
    )
    await _histories(conn, events, "member_id")


async def secretaries(conn: asyncpg.Connection, events: list[EventEnvelope]) -> None:
    # one statement for the run; a branch given two secretaries in it keeps the later, as
    # one by one (an UPDATE ... FROM matching a row twice would keep either)
    latest = {e.data["branch_id"]: e.data["member_id"] for e in events}
    await conn.execute(
        "UPDATE branches SET secretary_id = s.member_id"
        " FROM unnest($1::text[], $2::text[]) AS s (branch_id, member_id)"
        " WHERE branches.branch_id = s.branch_id",
        list(latest),
        list(latest.values()),
    )
    await _histories(conn, events, "branch_id")
