"""Projects the rounds' events (E1–E5) and the calendar's (E4) into their read models
(`read_models.sql`): rounds, subjects, raters with their personal data sealed (A7),
participations, the tally and the published results.

Everything written comes from the event, never from now(), so a rebuild gives the same rows.
"""

from __future__ import annotations

import json
from typing import Any

import asyncpg

from shared.envelope import EventEnvelope


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


async def calendar_set(conn: asyncpg.Connection, e: EventEnvelope, d: dict[str, Any]) -> None:
    await conn.execute(
        "INSERT INTO calendars VALUES ($1, $2, $3::text::date, $4::text::date)"
        " ON CONFLICT (county_id, year) DO UPDATE SET"
        " first_round_closes = EXCLUDED.first_round_closes,"
        " second_round_closes = EXCLUDED.second_round_closes",
        d["county_id"],
        d["year"],
        d["first_round_closes"],
        d["second_round_closes"],
    )


async def round_opened(conn: asyncpg.Connection, e: EventEnvelope, d: dict[str, Any]) -> None:
    await conn.execute(
        "INSERT INTO rounds VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9,"
        " $10::text::date, $11::text::date, 'open', NULL, $12)",
        d["round_id"],
        d["township_id"],
        d["organiser_kind"],
        d["organiser_id"],
        d["title"],
        d["year"],
        d["half"],
        _json(d["content"]),
        _json(d["scale"]),
        d["opens_on"],
        d["closes_on"],
        d.get("held_with"),
    )
    for index, s in enumerate(d["subjects"]):
        await conn.execute(
            "INSERT INTO round_subjects VALUES ($1, $2, $3, $4, $5, $6)",
            d["round_id"],
            s["subject_id"],
            index,
            s["subject_kind"],
            s["subject_name"],
            s["branch_id"],
        )


def sealed(d: dict[str, Any]) -> str | None:
    """A public rater's personal data as the event carries it, sealed (A7): the read model
    keeps it so, never opened (the query opens it for a reader allowed to see it)."""
    personal = d.get("personal")
    return None if personal is None else _json(personal)


async def rater_registered(conn: asyncpg.Connection, e: EventEnvelope, d: dict[str, Any]) -> None:
    await conn.execute(
        "INSERT INTO round_raters VALUES ($1, $2, $3, $4, $5, false, '{}', $6, false)",
        d["round_id"],
        d["rater_id"],
        d["rater_kind"],
        d["organisation_id"],
        d["member_id"],
        sealed(d),
    )


async def rater_participated(conn: asyncpg.Connection, e: EventEnvelope, d: dict[str, Any]) -> None:
    await conn.execute(
        "UPDATE round_raters SET voted = true, channels = array_append(channels, $3)"
        " WHERE round_id = $1 AND rater_id = $2",
        d["round_id"],
        d["rater_id"],
        d["channel"],
    )
    # whether the rater was registered is decided here, in log order: a participation the log
    # holds before (or without) the registration is reported by the audit (E3)
    await conn.execute(
        "INSERT INTO round_participations SELECT $1, $2, s, $3, EXISTS (SELECT FROM round_raters"
        " WHERE round_id = $1 AND rater_id = $2) FROM unnest($4::text[]) AS s",
        d["round_id"],
        d["rater_id"],
        d["channel"],
        d["subject_ids"],
    )


async def ballot_cast(conn: asyncpg.Connection, e: EventEnvelope, d: dict[str, Any]) -> None:
    for subject_id, grade in d["grades"].items():
        await conn.execute(
            "INSERT INTO round_tally VALUES ($1, $2, $3, 1) ON CONFLICT"
            " (round_id, subject_id, grade) DO UPDATE SET n = round_tally.n + 1",
            d["round_id"],
            subject_id,
            grade,
        )
    await conn.execute(
        "INSERT INTO round_ballot_tokens VALUES ($1, $2)", d["round_id"], d["token_hash"]
    )


async def round_closed(conn: asyncpg.Connection, e: EventEnvelope, d: dict[str, Any]) -> None:
    await conn.execute(
        "UPDATE rounds SET status = 'closed', closed_on = $2::text::date WHERE round_id = $1",
        d["round_id"],
        d["closed_on"],
    )


async def results_published(conn: asyncpg.Connection, e: EventEnvelope, d: dict[str, Any]) -> None:
    await conn.execute(
        "INSERT INTO round_publications VALUES ($1, $2, $3, $4::text::date, $5)",
        d["round_id"],
        d["township_id"],
        d["title"],
        d["published_on"],
        _json(d["results"]),
    )
