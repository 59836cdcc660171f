"""The pledges' steps (P1–P11): pledges, opinions, items, reviews, the ledger's activity and
the quarterly pushes.

Everything written comes from the event (its data, time and actor), never from now(), so a
rebuild gives exactly the same rows. An item's open reasons (P10) are the ones its events
record; only an event written before they were recorded has them stated by the pledge's rule.
"""

from __future__ import annotations

import json
from typing import Any

import asyncpg

from services.pledge.aggregates.pledge import open_reasons
from services.pledge.events import OpenReasons, Verdict
from shared import zh
from shared.envelope import EventEnvelope


async def _open_reasons(conn: asyncpg.Connection, item_id: str, recorded: OpenReasons) -> None:
    """The item's open reasons after its event: as recorded, or (an event written before they
    were) by the rule, from the steps the ledger holds."""
    if recorded is None:
        row = await conn.fetchrow("SELECT * FROM items WHERE item_id = $1", item_id)
        recorded = tuple(
            open_reasons(
                done_reported=row["done_reported"],
                problem_solved=row["problem_solved"],
                implementation_verified=row["implementation_verified"],
                verdict=Verdict(row["verdict"]) if row["verdict"] else None,
            )
        )
    await conn.execute(
        "UPDATE items SET open_reasons = $2 WHERE item_id = $1", item_id, json.dumps(recorded)
    )


async def _touch(
    conn: asyncpg.Connection, e: EventEnvelope, d: dict[str, Any], status: str | None = None
) -> None:
    """The pledge changed at the event's time (to `status`); entered on the member's behalf
    when the event says so (`entered_by`), which a later event of the pledger's own keeps."""
    await conn.execute(
        "UPDATE pledges SET updated_at = $2, status = coalesce($3, status),"
        " entered_by = coalesce($4, entered_by) WHERE pledge_id = $1",
        d["pledge_id"],
        e.time,
        status,
        d.get("entered_by"),
    )


async def drafted(conn: asyncpg.Connection, e: EventEnvelope, d: dict[str, Any]) -> None:
    await conn.execute(
        "INSERT INTO pledges (pledge_id, year, pledger_kind, pledger_name, branch_id, member_id,"
        " township_id, county_id, standard, status, round, drafted_at, updated_at, entered_by)"
        " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'drafting', 0, $10, $10, $11)",
        d["pledge_id"],
        d["year"],
        d["pledger_kind"],
        d["pledger_name"],
        d["branch_id"],
        d["member_id"],
        d["township_id"],
        d["county_id"],
        d["standard"],
        e.time,
        d.get("entered_by"),
    )


async def opinion(conn: asyncpg.Connection, e: EventEnvelope, d: dict[str, Any]) -> None:
    await conn.execute(
        "INSERT INTO opinions VALUES ($1, $2, $3, $4::text::date, $5)",
        d["opinion_id"],
        d["pledge_id"],
        d["channel"],
        d["gathered_on"],
        d["summary"],
    )
    await _touch(conn, e, d)


async def _upsert_items(conn: asyncpg.Connection, d: dict[str, Any]) -> None:
    pledge = await conn.fetchrow(
        "SELECT township_id, branch_id, member_id FROM pledges WHERE pledge_id = $1", d["pledge_id"]
    )
    for item in d["items"]:
        position = int(item["item_id"].rsplit("-i", 1)[1])
        await conn.execute(
            "INSERT INTO items (item_id, pledge_id, position, township_id, branch_id, member_id,"
            " title, description, category, target, due_date, shaped_by, review_status)"
            " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11::text::date, $12, 'pending')"
            " ON CONFLICT (item_id) DO UPDATE SET title = EXCLUDED.title,"
            " description = EXCLUDED.description, category = EXCLUDED.category,"
            " target = EXCLUDED.target, due_date = EXCLUDED.due_date,"
            " shaped_by = EXCLUDED.shaped_by, review_status = 'pending', guidance = NULL",
            item["item_id"],
            d["pledge_id"],
            position,
            pledge["township_id"],
            pledge["branch_id"],
            pledge["member_id"],
            item["title"],
            item["description"],
            item["category"],
            item["target"],
            item["due_date"],
            json.dumps(item["shaped_by"]),
        )


async def proposed(conn: asyncpg.Connection, e: EventEnvelope, d: dict[str, Any]) -> None:
    await _upsert_items(conn, d)
    await conn.execute(
        "UPDATE pledges SET round = $2, basis = $3 WHERE pledge_id = $1",
        d["pledge_id"],
        d["round"],
        d["basis"],
    )
    await _touch(conn, e, d, "under_review")


async def reviewed(conn: asyncpg.Connection, e: EventEnvelope, d: dict[str, Any]) -> None:
    await conn.execute(
        "INSERT INTO item_reviews VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
        e.id,
        d["pledge_id"],
        d["item_id"],
        d["round"],
        d["shows_advanced_standard"],
        d["matches_wishes"],
        d["feasible"],
        d["decision"],
        d["guidance"],
        e.actor,
        e.time,
    )
    await conn.execute(
        "UPDATE items SET review_status = $2, guidance = $3 WHERE item_id = $1",
        d["item_id"],
        d["decision"],
        d["guidance"],
    )
    await _touch(conn, e, d)


async def returned(conn: asyncpg.Connection, e: EventEnvelope, d: dict[str, Any]) -> None:
    await _touch(conn, e, d, "returned")


async def resubmitted(conn: asyncpg.Connection, e: EventEnvelope, d: dict[str, Any]) -> None:
    await _upsert_items(conn, d)
    await conn.execute(
        "INSERT INTO revisions VALUES ($1, $2, $3, $4, $5)",
        d["pledge_id"],
        d["round"],
        d["note"],
        json.dumps([i["item_id"] for i in d["items"]]),
        e.time,
    )
    await conn.execute(
        "UPDATE pledges SET round = $2 WHERE pledge_id = $1", d["pledge_id"], d["round"]
    )
    await _touch(conn, e, d, "under_review")


async def approved(conn: asyncpg.Connection, e: EventEnvelope, d: dict[str, Any]) -> None:
    await conn.execute(
        "UPDATE pledges SET approved_on = $2::text::date, drafted_late = $3 WHERE pledge_id = $1",
        d["pledge_id"],
        d.get("approved_on"),
        bool(d.get("late")),
    )
    await _touch(conn, e, d, "approved")


async def published(conn: asyncpg.Connection, e: EventEnvelope, d: dict[str, Any]) -> None:
    await conn.execute(
        "UPDATE pledges SET letter_no = $2, published_at = $3 WHERE pledge_id = $1",
        d["pledge_id"],
        d["letter_no"],
        e.time,
    )
    await conn.execute(
        "UPDATE items SET ledger_status = 'open' WHERE pledge_id = $1", d["pledge_id"]
    )
    for item_id in d["item_ids"]:
        await _open_reasons(conn, item_id, d.get("open_reasons"))
    await _touch(conn, e, d, "published")


async def _activity(
    conn: asyncpg.Connection, e: EventEnvelope, d: dict[str, Any], kind: str, summary: str
) -> None:
    await conn.execute(
        "INSERT INTO item_activity VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        e.id,
        d["pledge_id"],
        d["item_id"],
        kind,
        summary,
        json.dumps(d, ensure_ascii=False),
        e.actor,
        e.time,
    )
    await _touch(conn, e, d)


async def _files(conn: asyncpg.Connection, e: EventEnvelope, d: dict[str, Any]) -> None:
    """The evidence files the event attaches (who may see the item may see them)."""
    for f in d.get("files", ()):
        await conn.execute(
            "INSERT INTO attached_files VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING",
            f["sha256"],
            e.id,
            d["pledge_id"],
            d["item_id"],
            f["media_type"],
            f["name"],
        )


async def progress(conn: asyncpg.Connection, e: EventEnvelope, d: dict[str, Any]) -> None:
    await _activity(conn, e, d, "progress", d["summary"])
    await _files(conn, e, d)
    await conn.execute(
        "UPDATE items SET progress_percent = $2 WHERE item_id = $1", d["item_id"], d["percent"]
    )


async def follow_up(conn: asyncpg.Connection, e: EventEnvelope, d: dict[str, Any]) -> None:
    await _activity(conn, e, d, "follow_up", d["note"])
    await _files(conn, e, d)


async def done(conn: asyncpg.Connection, e: EventEnvelope, d: dict[str, Any]) -> None:
    await _activity(conn, e, d, "done_reported", d["summary"])
    await _files(conn, e, d)
    await conn.execute(
        "UPDATE items SET done_reported = true, verdict = NULL, satisfaction_rate = NULL,"
        " progress_percent = 100 WHERE item_id = $1",  # done is 100%, as the board says
        d["item_id"],
    )
    await _open_reasons(conn, d["item_id"], d.get("open_reasons"))


async def solved(conn: asyncpg.Connection, e: EventEnvelope, d: dict[str, Any]) -> None:
    await _activity(conn, e, d, "problem_solved", d["note"])
    await conn.execute("UPDATE items SET problem_solved = true WHERE item_id = $1", d["item_id"])
    await _open_reasons(conn, d["item_id"], d.get("open_reasons"))


async def verified(conn: asyncpg.Connection, e: EventEnvelope, d: dict[str, Any]) -> None:
    await _activity(conn, e, d, "implementation_verified", d["note"])
    await conn.execute(
        "UPDATE items SET implementation_verified = true WHERE item_id = $1", d["item_id"]
    )
    await _open_reasons(conn, d["item_id"], d.get("open_reasons"))


async def verdict(conn: asyncpg.Connection, e: EventEnvelope, d: dict[str, Any]) -> None:
    await _activity(conn, e, d, "satisfaction_verdict", zh.label(d["verdict"]))
    await conn.execute(
        "UPDATE items SET verdict = $2, satisfaction_rate = $3 WHERE item_id = $1",
        d["item_id"],
        d["verdict"],
        d["satisfaction_rate"],
    )
    await _open_reasons(conn, d["item_id"], d.get("open_reasons"))


async def not_rated(conn: asyncpg.Connection, e: EventEnvelope, d: dict[str, Any]) -> None:
    """The item's check had no ballot: no verdict, open as not rated (E8)."""
    await _activity(conn, e, d, "satisfaction_not_rated", zh.label("satisfaction_not_rated"))
    await _open_reasons(conn, d["item_id"], d.get("open_reasons"))


async def reopened(conn: asyncpg.Connection, e: EventEnvelope, d: dict[str, Any]) -> None:
    """The item's lapsed check was reopened: its verdict is pending again (E8)."""
    await _activity(conn, e, d, "satisfaction_check_reopened", "满意度测评重新开展")
    await _open_reasons(conn, d["item_id"], d.get("open_reasons"))


async def closed(conn: asyncpg.Connection, e: EventEnvelope, d: dict[str, Any]) -> None:
    # the passes that closed it (P10; all three for events written before the field)
    passes = d.get("reasons") or ["problem_solved", "implementation_verified", "public_satisfied"]
    await _activity(conn, e, d, "closed", "已销号：" + zh.labels(passes, "、"))
    await conn.execute(
        "UPDATE items SET ledger_status = 'closed', closed_at = $2, open_reasons = '[]'"
        " WHERE item_id = $1",
        d["item_id"],
        e.time,
    )


async def quarter(conn: asyncpg.Connection, e: EventEnvelope, d: dict[str, Any]) -> None:
    await conn.execute(
        "INSERT INTO quarterly_pushes VALUES ($1, $2, $3, $4, $5)",
        d["pledge_id"],
        d["quarter"],
        d["assessment"],
        d["next_steps"],
        e.time,
    )
    await _touch(conn, e, d)
