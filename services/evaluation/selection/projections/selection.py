"""Projections of the annual selection (S1–S3) and of the other services' records it scores
from: pledges (from the pledge service's events) and leadership reviews (from the review
service's, when it runs). Listed in the table in projections/__init__.py."""

from __future__ import annotations

import json
from typing import Any

import asyncpg

from services.evaluation.selection import contracts as k
from shared.envelope import EventEnvelope

Data = dict[str, Any]


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


# --- other services' records ------------------------------------------------------------


async def pledge_drafted(conn: asyncpg.Connection, e: EventEnvelope, d: Data) -> None:
    p = k.PledgeDrafted.model_validate(d)
    await conn.execute(
        "INSERT INTO pledge_copy VALUES ($1, $2, $3, $4, NULL) ON CONFLICT DO NOTHING",
        p.pledge_id,
        p.year,
        p.member_id or p.branch_id,
        p.township_id,
    )


async def pledge_published(conn: asyncpg.Connection, e: EventEnvelope, d: Data) -> None:
    p = k.PledgePublished.model_validate(d)
    await conn.execute(
        "UPDATE pledge_copy SET item_ids = $2 WHERE pledge_id = $1",
        p.pledge_id,
        _json(list(p.item_ids)),
    )


async def item_closed(conn: asyncpg.Connection, e: EventEnvelope, d: Data) -> None:
    i = k.ItemClosed.model_validate(d)
    await conn.execute(
        "INSERT INTO pledge_items_closed VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
        i.pledge_id,
        i.item_id,
        e.time,
    )


async def review_recorded(conn: asyncpg.Connection, e: EventEnvelope, d: Data) -> None:
    r = k.ReviewRecorded.model_validate(d)
    if e.type == "ReviewCorrected":
        corrects = k.ReviewCorrected.model_validate(d).corrects_review_id
        await conn.execute(
            "UPDATE review_copy SET superseded = true WHERE review_id = $1", corrects
        )
    grades = {a.dimension: a.grade for a in r.assessments}
    await conn.execute(
        "INSERT INTO review_copy VALUES ($1, $2, $3, $4, $5, false, $6) ON CONFLICT DO NOTHING",
        r.review_id,
        r.township_id,
        r.subject_id,
        r.quarter,
        r.held_on,
        _json(grades),
    )


# --- the selection ----------------------------------------------------------------------


async def selection_opened(conn: asyncpg.Connection, e: EventEnvelope, d: Data) -> None:
    await conn.execute(
        "INSERT INTO selections VALUES ($1, $2, $3, $4, $5, $6, $7::text::date, NULL, 0,"
        " NULL, NULL, NULL, NULL, $8, $9)",
        d["selection_id"],
        d["township_id"],
        d["year"],
        d["title"],
        d["subject_kind"],
        d["notice_days"],
        d["commendation_on"],
        d.get("level", "township"),
        d.get("organisation_id") or d["township_id"],
    )


async def formula_declared(conn: asyncpg.Connection, e: EventEnvelope, d: Data) -> None:
    version = d["formula"]["version"]
    await conn.execute(
        "INSERT INTO selection_formulas VALUES ($1, $2, $3)",
        d["selection_id"],
        version,
        _json(d["formula"]),
    )
    await conn.execute(
        "UPDATE selections SET formula_version = $2 WHERE selection_id = $1",
        d["selection_id"],
        version,
    )


async def candidate_nominated(conn: asyncpg.Connection, e: EventEnvelope, d: Data) -> None:
    await conn.execute(
        "INSERT INTO selection_candidates VALUES ($1, $2, $3, $4, $5, $6)",
        d["selection_id"],
        d["subject_id"],
        d["subject_name"],
        d["branch_id"],
        d["nominated_by"],
        d["reason"],
    )


async def stage_scored(conn: asyncpg.Connection, e: EventEnvelope, d: Data) -> None:
    await conn.execute(
        "INSERT INTO selection_stages VALUES ($1, $2, $3, $4::text::date, $5, $6, $7, $8)",
        d["selection_id"],
        d["stage"],
        d["formula_version"],
        d["scored_on"],
        _json(d["candidates"]),
        "formula" if d.get("decided") else None,  # schema 1: the cut decided
        d["scored_on"] if d.get("decided") else None,
        _json(d.get("decided") or []),
    )
    await conn.execute(
        "UPDATE selections SET stages_scored = $2 WHERE selection_id = $1",
        d["selection_id"],
        d["stage"],
    )


async def stage_decided(conn: asyncpg.Connection, e: EventEnvelope, d: Data) -> None:
    await conn.execute(
        "UPDATE selection_stages SET decided_by = $3, decided_on = $4::text::date, decisions = $5"
        " WHERE selection_id = $1 AND stage = $2",
        d["selection_id"],
        d["stage"],
        d["body"],
        d["decided_on"],
        _json(d["decisions"]),
    )


async def notice_posted(conn: asyncpg.Connection, e: EventEnvelope, d: Data) -> None:
    await conn.execute(
        "UPDATE selections SET posted_on = $2::text::date, notice_until = $3::text::date,"
        " finalists = $4 WHERE selection_id = $1",
        d["selection_id"],
        d["posted_on"],
        d["notice_until"],
        _json(d["finalists"]),
    )


async def objection_filed(conn: asyncpg.Connection, e: EventEnvelope, d: Data) -> None:
    await conn.execute(
        "INSERT INTO selection_objections VALUES ($1, $2, $3, $4, NULL, NULL, $5, $6)",
        d["selection_id"],
        d["objection_id"],
        d["subject_id"],
        d["summary"],
        d.get("in_person", False),
        d.get("township_id"),  # none in objections filed before they named it
    )


async def objection_answered(conn: asyncpg.Connection, e: EventEnvelope, d: Data) -> None:
    await conn.execute(
        "UPDATE selection_objections SET answer = $2, upheld = $3 WHERE objection_id = $1",
        d["objection_id"],
        d["answer"],
        d["upheld"],
    )


async def commendation_issued(conn: asyncpg.Connection, e: EventEnvelope, d: Data) -> None:
    await conn.execute(
        "INSERT INTO commendations VALUES ($1, $2, $3, $4, $5::text::date, $6, $7)",
        d["selection_id"],
        d["township_id"],
        d["year"],
        d["title"],
        d["issued_on"],
        _json(d["awardees"]),
        d.get("level", "township"),
    )
    await conn.execute(
        "UPDATE selections SET issued_on = $2::text::date WHERE selection_id = $1",
        d["selection_id"],
        d["issued_on"],
    )
