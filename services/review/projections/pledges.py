"""This service's copy of pledge status (R3 "fulfilment of pledges"), from the pledge
service's events as its contracts read them (`contracts.py`)."""

from __future__ import annotations

from typing import Any

import asyncpg

from services.review import contracts as k
from shared.envelope import EventEnvelope


async def _status(conn: asyncpg.Connection, pledge_id: str, status: str) -> None:
    await conn.execute("UPDATE pledge_copy SET status = $2 WHERE pledge_id = $1", pledge_id, status)


async def drafted(conn: asyncpg.Connection, e: EventEnvelope, d: dict[str, Any]) -> None:
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


async def proposed(conn: asyncpg.Connection, e: EventEnvelope, d: dict[str, Any]) -> None:
    await _items(conn, k.PledgeProposed.model_validate(d))


async def resubmitted(conn: asyncpg.Connection, e: EventEnvelope, d: dict[str, Any]) -> None:
    await _items(conn, k.PledgeResubmitted.model_validate(d))


async def returned(conn: asyncpg.Connection, e: EventEnvelope, d: dict[str, Any]) -> None:
    await _status(conn, k.PledgeReturned.model_validate(d).pledge_id, "returned")


async def approved(conn: asyncpg.Connection, e: EventEnvelope, d: dict[str, Any]) -> None:
    await _status(conn, k.PledgeApproved.model_validate(d).pledge_id, "approved")


async def published(conn: asyncpg.Connection, e: EventEnvelope, d: dict[str, Any]) -> None:
    p = k.PledgePublished.model_validate(d)
    await _status(conn, p.pledge_id, "published")
    await conn.execute(
        "UPDATE pledge_copy_items SET ledger_status = 'open' WHERE item_id = ANY($1::text[])",
        list(p.item_ids),
    )


async def closed(conn: asyncpg.Connection, e: EventEnvelope, d: dict[str, Any]) -> None:
    item = k.ItemClosed.model_validate(d)
    await conn.execute(
        "UPDATE pledge_copy_items SET ledger_status = 'closed' WHERE item_id = $1",
        item.item_id,
    )
