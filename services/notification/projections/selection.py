"""Projects the evaluation service's selection events into the board's public notice (S3,
N1): the finalists posted for the notice period, by name, until the commendation is issued.
An upheld objection takes its finalist off the notice; what an objection says, and who filed
it, never reach the board (contracts.py keeps only which finalist it concerns)."""

from __future__ import annotations

import json
from typing import Any

import asyncpg

from services.notification import contracts as k
from services.notification.projections.board import release
from shared.envelope import EventEnvelope


async def selection_opened(conn: asyncpg.Connection, e: EventEnvelope, d: dict[str, Any]) -> None:
    s = k.SelectionOpened.model_validate(d)
    if s.level == "county":  # its township_id is the county's: no township's board shows it
        return
    await conn.execute(
        "INSERT INTO board_selections VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
        s.selection_id,
        s.township_id,
        s.year,
        s.title,
        s.subject_kind,
    )


async def candidate_nominated(
    conn: asyncpg.Connection, e: EventEnvelope, d: dict[str, Any]
) -> None:
    c = k.CandidateNominated.model_validate(d)
    await conn.execute(
        "INSERT INTO board_candidates VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
        c.selection_id,
        c.subject_id,
        c.subject_name,
        c.branch_id,
    )


async def notice_posted(conn: asyncpg.Connection, e: EventEnvelope, d: dict[str, Any]) -> None:
    n = k.NoticePosted.model_validate(d)
    await conn.execute(
        "INSERT INTO board_notices VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
        n.selection_id,
        n.posted_on,
        n.notice_until,
        json.dumps(list(n.finalists)),
    )
    selection = await conn.fetchrow(
        "SELECT township_id, title FROM board_selections WHERE selection_id = $1", n.selection_id
    )
    names = await conn.fetch(
        "SELECT subject_name FROM board_candidates WHERE selection_id = $1"
        " AND subject_id = ANY($2::text[]) ORDER BY subject_name",
        n.selection_id,
        list(n.finalists),
    )
    if selection is not None:
        content = n.model_dump(mode="json") | {"finalist_names": [r[0] for r in names]}
        await release(
            conn, e, "selection_notice", selection["township_id"], selection["title"], content
        )


async def objection_filed(conn: asyncpg.Connection, e: EventEnvelope, d: dict[str, Any]) -> None:
    o = k.ObjectionFiled.model_validate(d)
    await conn.execute(
        "INSERT INTO board_objections VALUES ($1, $2, $3, NULL) ON CONFLICT DO NOTHING",
        o.objection_id,
        o.selection_id,
        o.subject_id,
    )


async def objection_answered(conn: asyncpg.Connection, e: EventEnvelope, d: dict[str, Any]) -> None:
    a = k.ObjectionAnswered.model_validate(d)
    await conn.execute(
        "UPDATE board_objections SET upheld = $2 WHERE objection_id = $1", a.objection_id, a.upheld
    )
