"""Projects the pledge service's events into the board's read models and the releases feed
(N1, P7, X2), and writes the releases of every projection (`release`). Values come from the
event only, never from now()."""

from __future__ import annotations

import json
from typing import Any

import asyncpg

from services.notification import contracts as k
from shared.envelope import EventEnvelope
from shared.files import IMAGES


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, default=str)


async def release(
    conn: asyncpg.Connection,
    e: EventEnvelope,
    kind: str,
    township_id: str,
    subject: str,
    content: dict[str, Any],
) -> None:
    """X2: one immutable release per published item, ordered by its log or inbox position."""
    position = await conn.fetchval(
        "SELECT position FROM inbox WHERE id = $1 UNION ALL"
        " SELECT position FROM events WHERE id = $1",
        e.id,
    )
    county = await conn.fetchval(
        "SELECT county_id FROM dir_townships WHERE township_id = $1", township_id
    )
    await conn.execute(
        "INSERT INTO releases (position, id, time, type, county_id, township_id, subject, content)"
        " VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (id) DO NOTHING",
        position,
        e.id,
        e.time,
        kind,
        county,
        township_id,
        subject,
        _json(content),
    )


# --- pledge -------------------------------------------------------------------------------


async def county_established(conn: asyncpg.Connection, e: EventEnvelope, d: dict[str, Any]) -> None:
    c = k.CountyEstablished.model_validate(d)
    await conn.execute(
        "INSERT INTO board_counties VALUES ($1, $2) ON CONFLICT DO NOTHING", c.county_id, c.name
    )


async def pledge_calendar_set(
    conn: asyncpg.Connection, e: EventEnvelope, d: dict[str, Any]
) -> None:
    """P6: the drafting deadline is the pledge service's; the reminders follow it."""
    c = k.PledgeCalendarSet.model_validate(d)
    await conn.execute(
        "INSERT INTO pledge_calendars VALUES ($1, $2, $3, $4) ON CONFLICT (county_id, year)"
        " DO UPDATE SET drafting_deadline = EXCLUDED.drafting_deadline,"
        " publication_deadline = EXCLUDED.publication_deadline",
        c.county_id,
        c.year,
        c.drafting_deadline,
        c.publication_deadline,
    )


async def pledge_drafted(conn: asyncpg.Connection, e: EventEnvelope, d: dict[str, Any]) -> None:
    p = k.PledgeDrafted.model_validate(d)
    await conn.execute(
        "INSERT INTO board_pledges (pledge_id, year, pledger_kind, branch_id, member_id,"
        " pledger_name, township_id, county_id, standard, status, entered_by)"
        " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'drafting', $10) ON CONFLICT DO NOTHING",
        p.pledge_id,
        p.year,
        p.pledger_kind,
        p.branch_id,
        p.member_id,
        p.pledger_name,
        p.township_id,
        p.county_id,
        p.standard,
        p.entered_by,
    )


async def _upsert_items(
    conn: asyncpg.Connection, pledge_id: str, items: tuple[k.ProposedItem, ...]
) -> None:
    start = await conn.fetchval(
        "SELECT coalesce(max(position), 0) FROM board_items WHERE pledge_id = $1", pledge_id
    )
    for index, i in enumerate(items, start=start + 1):
        await conn.execute(
            "INSERT INTO board_items (pledge_id, item_id, position, title, description, category,"
            " target, due_date) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
            " ON CONFLICT (pledge_id, item_id) DO UPDATE SET title = EXCLUDED.title,"
            " description = EXCLUDED.description, category = EXCLUDED.category,"
            " target = EXCLUDED.target, due_date = EXCLUDED.due_date",
            pledge_id,
            i.item_id,
            index,
            i.title,
            i.description,
            i.category,
            i.target,
            i.due_date,
        )


async def pledge_proposed(conn: asyncpg.Connection, e: EventEnvelope, d: dict[str, Any]) -> None:
    p = k.PledgeProposed.model_validate(d)
    await _status(conn, p.pledge_id, "proposed")
    await _entered_by(conn, p)
    await _upsert_items(conn, p.pledge_id, p.items)


async def _entered_by(conn: asyncpg.Connection, p: k.PledgeProposed) -> None:
    """Who entered the submission: the secretary on the member's behalf, or (None) the
    pledger."""
    await conn.execute(
        "UPDATE board_pledges SET entered_by = $2 WHERE pledge_id = $1", p.pledge_id, p.entered_by
    )


async def _status(conn: asyncpg.Connection, pledge_id: str, status: str) -> None:
    await conn.execute(
        "UPDATE board_pledges SET status = $2 WHERE pledge_id = $1", pledge_id, status
    )


# P5, P6: a pledge returned for revision has not finished drafting until it is approved (the
# pledge service's drafting report counts 'approved' and 'published' as finished)
async def pledge_returned(conn: asyncpg.Connection, e: EventEnvelope, d: dict[str, Any]) -> None:
    await _status(conn, k.PledgeReturned.model_validate(d).pledge_id, "returned")


async def pledge_resubmitted(conn: asyncpg.Connection, e: EventEnvelope, d: dict[str, Any]) -> None:
    p = k.PledgeResubmitted.model_validate(d)
    await _status(conn, p.pledge_id, "proposed")
    await _entered_by(conn, p)
    await _upsert_items(conn, p.pledge_id, p.items)


async def pledge_approved(conn: asyncpg.Connection, e: EventEnvelope, d: dict[str, Any]) -> None:
    approved = k.PledgeApproved.model_validate(d)
    await _status(conn, approved.pledge_id, "approved")
    await conn.execute(
        "UPDATE board_pledges SET drafted_late = $2 WHERE pledge_id = $1",
        approved.pledge_id,
        approved.late,
    )


async def card(conn: asyncpg.Connection, pledge_id: str) -> dict[str, Any]:
    """The pledge card's public content (P7): pledger, letter number and items."""
    pledge = await conn.fetchrow(
        "SELECT p.*, b.name AS branch_name FROM board_pledges p"
        " LEFT JOIN dir_branches b USING (branch_id) WHERE pledge_id = $1",
        pledge_id,
    )
    items = await conn.fetch(
        "SELECT item_id, title, category, target, due_date FROM board_items"
        " WHERE pledge_id = $1 AND published ORDER BY position",
        pledge_id,
    )
    return {
        "pledge_id": pledge_id,
        "year": pledge["year"],
        "letter_no": pledge["letter_no"],
        "pledger_kind": pledge["pledger_kind"],
        "pledger_name": pledge["pledger_name"],
        "branch_id": pledge["branch_id"],
        "branch_name": pledge["branch_name"],
        "items": [{**dict(i), "due_date": i["due_date"].isoformat()} for i in items],
    }


async def pledge_published(conn: asyncpg.Connection, e: EventEnvelope, d: dict[str, Any]) -> None:
    p = k.PledgePublished.model_validate(d)
    township = await conn.fetchval(
        "UPDATE board_pledges SET status = 'published', letter_no = $2, published_at = $3"
        " WHERE pledge_id = $1 RETURNING township_id",
        p.pledge_id,
        p.letter_no,
        e.time,
    )
    await conn.execute(
        "UPDATE board_items SET published = true, open_reasons = $3"
        " WHERE pledge_id = $1 AND item_id = ANY($2)",
        p.pledge_id,
        list(p.item_ids),
        _reasons(p.open_reasons),
    )
    content = await card(conn, p.pledge_id)
    await release(conn, e, "pledge_published", township, content["pledger_name"], content)


def _reasons(reasons: tuple[str, ...] | None) -> list[str] | None:
    return None if reasons is None else list(reasons)


async def _item(conn: asyncpg.Connection, i: k.ItemEvent, sql: str, *values: Any) -> None:
    await conn.execute(
        f"UPDATE board_items SET {sql} WHERE pledge_id = $1 AND item_id = $2",
        i.pledge_id,
        i.item_id,
        *values,
    )


async def _open_reasons(conn: asyncpg.Connection, i: k.ItemEvent, reasons: Any) -> None:
    """Why the item is still open (P10), as the pledge recorded it; an event written before
    the field leaves what the board knew."""
    if reasons is not None:
        await _item(conn, i, "open_reasons = $3", list(reasons))


async def progress_reported(conn: asyncpg.Connection, e: EventEnvelope, d: dict[str, Any]) -> None:
    p = k.ProgressReported.model_validate(d)
    await _item(conn, p, "percent = $3, progress = $4", p.percent, p.summary)
    # the photos by their hashes: the bytes stay the pledge service's (its public file route)
    photos = [f.sha256 for f in p.files if f.media_type in IMAGES]
    if photos:
        await _item(conn, p, "photos = photos || $3::jsonb", json.dumps(photos))


async def item_reported_done(conn: asyncpg.Connection, e: EventEnvelope, d: dict[str, Any]) -> None:
    done = k.ItemReportedDone.model_validate(d)
    await _item(conn, done, "done_summary = $3, percent = 100", done.summary)
    await _open_reasons(conn, done, done.open_reasons)


async def problem_solved_confirmed(
    conn: asyncpg.Connection, e: EventEnvelope, d: dict[str, Any]
) -> None:
    solved = k.ProblemSolvedConfirmed.model_validate(d)
    await _item(conn, solved, "solved_note = $3", solved.note)
    await _open_reasons(conn, solved, solved.open_reasons)


async def implementation_verified(
    conn: asyncpg.Connection, e: EventEnvelope, d: dict[str, Any]
) -> None:
    verified = k.ImplementationVerified.model_validate(d)
    await _item(conn, verified, "verified_note = $3", verified.note)
    await _open_reasons(conn, verified, verified.open_reasons)


async def satisfaction_verdict_recorded(
    conn: asyncpg.Connection, e: EventEnvelope, d: dict[str, Any]
) -> None:
    v = k.SatisfactionVerdictRecorded.model_validate(d)
    await _item(conn, v, "verdict = $3, satisfaction_rate = $4", v.verdict, v.satisfaction_rate)
    await _open_reasons(conn, v, v.open_reasons)


async def satisfaction_not_rated(
    conn: asyncpg.Connection, e: EventEnvelope, d: dict[str, Any]
) -> None:
    not_rated = k.SatisfactionNotRated.model_validate(d)
    await _open_reasons(conn, not_rated, not_rated.open_reasons)


async def satisfaction_check_reopened(
    conn: asyncpg.Connection, e: EventEnvelope, d: dict[str, Any]
) -> None:
    reopened = k.SatisfactionCheckReopened.model_validate(d)
    await _open_reasons(conn, reopened, reopened.open_reasons)


async def item_closed(conn: asyncpg.Connection, e: EventEnvelope, d: dict[str, Any]) -> None:
    closed = k.ItemClosed.model_validate(d)
    await _item(
        conn,
        closed,
        "closed_at = $3, closed_because = $4, open_reasons = '{}'",
        e.time,
        list(closed.reasons),
    )
    row = await conn.fetchrow(
        "SELECT i.*, p.pledger_name, p.township_id, p.branch_id FROM board_items i"
        " JOIN board_pledges p USING (pledge_id) WHERE pledge_id = $1 AND item_id = $2",
        closed.pledge_id,
        closed.item_id,
    )
    content = {
        "pledge_id": closed.pledge_id,
        "item_id": closed.item_id,
        "branch_id": row["branch_id"],
        "pledger_name": row["pledger_name"],
        "title": row["title"],
        "closing_reasons": closing_reasons(dict(row)),
    }
    await release(conn, e, "item_closed", row["township_id"], row["title"], content)


SAID = {  # how the board states each pass, with what the item holds of it
    "problem_solved": lambda item: f"问题已解决: {item['solved_note']}",
    "implementation_verified": lambda item: f"落实已核实: {item['verified_note']}",
    "public_satisfied": lambda item: (
        f"群众满意 (满意率 {(item['satisfaction_rate'] or 0) * 100:.0f}%)"
    ),
}


def closing_reasons(item: dict[str, Any]) -> list[str]:
    """The passes that closed the item, as the pledge service recorded them (P10), stated as
    the ledger states them; a pass the board does not know yet is shown by its name."""
    return [SAID[r](item) if r in SAID else r for r in item.get("closed_because") or ()]


async def quarterly_push_recorded(
    conn: asyncpg.Connection, e: EventEnvelope, d: dict[str, Any]
) -> None:
    """P11: the reminders of the quarter's push stop at the pledges pushed."""
    push = k.QuarterlyPushRecorded.model_validate(d)
    await conn.execute(
        "INSERT INTO board_pushes VALUES ($1, $2) ON CONFLICT DO NOTHING",
        push.pledge_id,
        push.quarter,
    )
