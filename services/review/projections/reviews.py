"""Projects the review service's own events, and the pledge service's events it consumes,
into its read models (`read_models.sql` plus `shared.directory`'s copy of the hierarchy).

Everything written comes from the event (its data, time and actor), never from now(), so a
rebuild gives exactly the same rows.
"""

from __future__ import annotations

import json
from importlib import resources
from typing import Any

import asyncpg

from services.review import contracts as k
from services.review.events import REGISTRY
from shared.directory import DIRECTORY_DDL
from shared.envelope import EventEnvelope
from shared.projections import Projection, ReadModels

DDL = DIRECTORY_DDL + (
    resources.files("services.review").joinpath("read_models.sql").read_text(encoding="utf-8")
)

project = Projection("review", directory=True)
on = project.on
PLEDGE = "pledge"  # steps for events consumed from the pledge service


# --- the pledge status copy (R3 "fulfilment of pledges") -------------------------------


async def _status(conn: asyncpg.Connection, pledge_id: str, status: str) -> None:
    await conn.execute("UPDATE pledge_copy SET status = $2 WHERE pledge_id = $1", pledge_id, status)


@on("PledgeDrafted", source=PLEDGE)
async def _drafted(conn: asyncpg.Connection, e: EventEnvelope, d: dict[str, Any]) -> None:
    p = k.PledgeDrafted.model_validate(d)
    await conn.execute(
        "INSERT INTO pledge_copy VALUES ($1, $2, $3, $4, $5, 'drafting') ON CONFLICT DO NOTHING",
        p.pledge_id,
        p.year,
        p.branch_id,
        p.member_id,
        p.township_id,
    )


async def _items(conn: asyncpg.Connection, p: k.PledgeProposed) -> None:
    for item in p.items:
        await conn.execute(
            "INSERT INTO pledge_copy_items VALUES ($1, $2, NULL) ON CONFLICT DO NOTHING",
            item.item_id,
            p.pledge_id,
        )
    await _status(conn, p.pledge_id, "under_review")


@on("PledgeProposed", source=PLEDGE)
async def _proposed(conn: asyncpg.Connection, e: EventEnvelope, d: dict[str, Any]) -> None:
    await _items(conn, k.PledgeProposed.model_validate(d))


@on("PledgeResubmitted", source=PLEDGE)
async def _resubmitted(conn: asyncpg.Connection, e: EventEnvelope, d: dict[str, Any]) -> None:
    await _items(conn, k.PledgeResubmitted.model_validate(d))


@on("PledgeReturned", source=PLEDGE)
async def _returned(conn: asyncpg.Connection, e: EventEnvelope, d: dict[str, Any]) -> None:
    await _status(conn, k.PledgeReturned.model_validate(d).pledge_id, "returned")


@on("PledgeApproved", source=PLEDGE)
async def _approved(conn: asyncpg.Connection, e: EventEnvelope, d: dict[str, Any]) -> None:
    await _status(conn, k.PledgeApproved.model_validate(d).pledge_id, "approved")


@on("PledgePublished", source=PLEDGE)
async def _published(conn: asyncpg.Connection, e: EventEnvelope, d: dict[str, Any]) -> None:
    p = k.PledgePublished.model_validate(d)
    await _status(conn, p.pledge_id, "published")
    await conn.execute(
        "UPDATE pledge_copy_items SET ledger_status = 'open' WHERE item_id = ANY($1::text[])",
        list(p.item_ids),
    )


@on("ItemClosed", source=PLEDGE)
async def _closed(conn: asyncpg.Connection, e: EventEnvelope, d: dict[str, Any]) -> None:
    closed = k.ItemClosed.model_validate(d)
    await conn.execute(
        "UPDATE pledge_copy_items SET ledger_status = 'closed' WHERE item_id = $1",
        closed.item_id,
    )


# --- reviews ---------------------------------------------------------------------------


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


@on("ReviewRecorded")
async def _recorded(conn: asyncpg.Connection, e: EventEnvelope, d: dict[str, Any]) -> None:
    await _review(conn, e, d, d["review_id"])


@on("ReviewCorrected")
async def _corrected(conn: asyncpg.Connection, e: EventEnvelope, d: dict[str, Any]) -> None:
    await _review(conn, e, d, d["original_review_id"])
    await conn.execute(
        "UPDATE reviews SET superseded_by = $2 WHERE review_id = $1",
        d["corrects_review_id"],
        d["review_id"],
    )


# --- work journal ----------------------------------------------------------------------


async def _entry(conn: asyncpg.Connection, e: EventEnvelope, d: dict[str, Any]) -> None:
    await conn.execute(
        "INSERT INTO journal_entries (entry_id, corrects_entry_id, township_id, branch_id,"
        " member_id, month, recorded_on, work_content, duty_performance, reason, recorded_at,"
        " sequence) VALUES ($1, $2, $3, $4, $5, $6, $7::text::date, $8, $9, $10, $11, $12)",
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
    )


@on("JournalEntryRecorded")
async def _entry_recorded(conn: asyncpg.Connection, e: EventEnvelope, d: dict[str, Any]) -> None:
    await _entry(conn, e, d)


@on("JournalEntryCorrected")
async def _entry_corrected(conn: asyncpg.Connection, e: EventEnvelope, d: dict[str, Any]) -> None:
    await _entry(conn, e, d)
    await conn.execute(
        "UPDATE journal_entries SET superseded_by = $2 WHERE entry_id = $1",
        d["corrects_entry_id"],
        d["entry_id"],
    )


@on("MonthlyPresentationEvaluated")
async def _presented(conn: asyncpg.Connection, e: EventEnvelope, d: dict[str, Any]) -> None:
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


# --- guidance visits -------------------------------------------------------------------


@on("GuidanceVisitRecorded")
async def _visit(conn: asyncpg.Connection, e: EventEnvelope, d: dict[str, Any]) -> None:
    await conn.execute(
        "INSERT INTO visits VALUES ($1, $2, $3, $4, $5, $6::text::date, $7, $8, $9, $10)",
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


READ_MODELS = ReadModels(ddl=DDL, project=project, upcast=REGISTRY.upcast)
