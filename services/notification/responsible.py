"""Who is responsible for a deadline in a township and has not done it yet (N3, P6).

Read from the read models, which hold only what the other services published: this decides
whom to remind, never whether a pledge, review or score is right.
"""

from __future__ import annotations

from datetime import date, timedelta

import asyncpg

from services.notification.events import Deadline, DeadlineKind

Recipient = tuple[str, str]  # (address, what is missing)


def office(township_id: str) -> str:
    return f"township_office:{township_id}"


async def _branches(
    conn: asyncpg.Connection, township_id: str, missing_sql: str, *args: object
) -> list[Recipient]:
    rows = await conn.fetch(
        "SELECT b.branch_id, b.name, b.secretary_id FROM dir_branches b"
        f" WHERE b.township_id = $1 AND b.active AND NOT EXISTS ({missing_sql})"
        " ORDER BY b.branch_id",
        township_id,
        *args,
    )
    return [(r["secretary_id"] or office(township_id), r["name"]) for r in rows]


async def unfinished(
    conn: asyncpg.Connection, deadline: Deadline, township_id: str, today: date
) -> list[Recipient]:
    k, period = deadline.kind, deadline.period
    if k is DeadlineKind.DRAFTING:
        done = "p.status IN ('proposed', 'published')"
        branches = await _branches(
            conn,
            township_id,
            "SELECT 1 FROM board_pledges p WHERE p.branch_id = b.branch_id"
            f" AND p.pledger_kind = 'branch' AND p.year = $2 AND {done}",
            int(period),
        )
        members = await conn.fetch(
            "SELECT m.member_id, m.name FROM dir_members m WHERE m.township_id = $1 AND m.active"
            " AND NOT EXISTS (SELECT 1 FROM board_pledges p WHERE p.member_id = m.member_id"
            f" AND p.year = $2 AND {done}) ORDER BY m.member_id",
            township_id,
            int(period),
        )
        return branches + [(m["member_id"], m["name"]) for m in members]
    if k is DeadlineKind.QUARTERLY_REVIEW:
        return await _branches(
            conn,
            township_id,
            "SELECT 1 FROM board_reviews r WHERE r.branch_id = b.branch_id AND r.quarter = $2",
            period,
        )
    if k is DeadlineKind.MEMBER_RATING:
        return await _branches(
            conn,
            township_id,
            "SELECT 1 FROM board_ratings r WHERE r.branch_id = b.branch_id AND r.period = $2"
            " AND r.level = 'branch_rates_members'",
            period,
        )
    if k is DeadlineKind.BRANCH_RATING:
        done = await conn.fetchval(
            "SELECT 1 FROM board_ratings WHERE township_id = $1 AND period = $2"
            " AND level = 'township_rates_branches'",
            township_id,
            period,
        )
    elif k is DeadlineKind.EVALUATION_ROUND:
        done = await conn.fetchval(
            "SELECT 1 FROM board_rounds WHERE township_id = $1 AND published_on > $2",
            township_id,
            deadline.due_on - timedelta(days=90),
        )
    else:  # selection
        done = await conn.fetchval(
            "SELECT 1 FROM board_commendations WHERE township_id = $1 AND year = $2",
            township_id,
            deadline.due_on.year,
        )
    return [] if done else [(office(township_id), deadline.title)]
