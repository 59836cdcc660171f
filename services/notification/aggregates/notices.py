"""Who is responsible for a deadline in a township and has not done it yet (N3, P6).

Read from the read models, which hold only what the other services published: this decides
whom to remind, never whether a pledge, review or score is right.
"""

from __future__ import annotations

from datetime import date, timedelta

import asyncpg

from services.notification.events import Deadline, DeadlineKind

Recipient = tuple[str, str]  # (address, what is missing)

# P6: finished drafting means what the pledge service's drafting report says: the pledge was
# approved (published comes after); drafted, proposed or returned for revision is not finished
FINISHED_DRAFTING = "('approved', 'published')"
NAMED = 10  # a notice names this many of what its recipient is missing, then counts the rest


def office(township_id: str) -> str:
    return f"township_office:{township_id}"


def township_reviewer(township_id: str, head_id: str | None) -> str:
    """R1: the head of the upper-level organisation reviews a branch and its leadership team:
    the township head the directory names (their own inbox), else the township committee's."""
    return head_id or f"township_committee:{township_id}"


def grouped(found: list[Recipient]) -> list[Recipient]:
    """One notice per recipient, naming everything it is missing, in the order found."""
    missing: dict[str, list[str]] = {}
    for recipient, what in found:
        missing.setdefault(recipient, []).append(what)
    return [
        (r, "、".join(m[:NAMED]) + (f"等{len(m)}个对象" if len(m) > NAMED else ""))
        for r, m in missing.items()
    ]


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


# R5: who was not reviewed in the quarter by the current version of a review of that very
# subject (a member's review names the member's branch, but it is not a review of the branch)
UNREVIEWED = """
SELECT b.branch_id, 0 AS subject_order, b.name, true AS by_township, b.secretary_id,
       b.branch_id AS subject_id
FROM dir_branches b WHERE b.township_id = $1 AND b.active
  AND NOT EXISTS (SELECT 1 FROM board_reviews r WHERE r.subject_kind = 'branch'
                  AND r.subject_id = b.branch_id AND r.quarter = $2 AND r.corrected_by IS NULL)
UNION ALL
SELECT m.branch_id, 1, m.name,
       m.leadership_team OR m.member_id IS NOT DISTINCT FROM b.secretary_id, b.secretary_id,
       m.member_id
FROM dir_members m JOIN dir_branches b ON b.branch_id = m.branch_id AND b.active
WHERE m.township_id = $1 AND m.active
  AND NOT EXISTS (SELECT 1 FROM board_reviews r WHERE r.subject_kind = 'member'
                  AND r.subject_id = m.member_id AND r.quarter = $2 AND r.corrected_by IS NULL)
ORDER BY 1, 2, 3
"""


async def unreviewed(conn: asyncpg.Connection, township_id: str, quarter: str) -> list[Recipient]:
    """R1, R4: the branch and its leadership team (the secretary among them) are reviewed by
    the township's head, the other members by their branch's secretary (the township office,
    which appoints secretaries, when the branch has none). The head, when a member of a
    leadership team, is reviewed by the committee (nobody reviews themself)."""
    head = await conn.fetchval(
        "SELECT head_id FROM dir_townships WHERE township_id = $1", township_id
    )

    def reviewer(r: asyncpg.Record) -> str:
        if not r["by_township"]:
            return str(r["secretary_id"] or office(township_id))
        return township_reviewer(township_id, None if r["subject_id"] == head else head)

    return [(reviewer(r), r["name"]) for r in await conn.fetch(UNREVIEWED, township_id, quarter)]


async def unfinished(
    conn: asyncpg.Connection, deadline: Deadline, township_id: str, today: date
) -> list[Recipient]:
    k, period = deadline.kind, deadline.period
    if k is DeadlineKind.DRAFTING:
        # the pledge service's drafting report: every active branch, and every active member
        # of an active branch, whose pledge of the year is not approved yet
        done = f"p.status IN {FINISHED_DRAFTING}"
        branches = await _branches(
            conn,
            township_id,
            "SELECT 1 FROM board_pledges p WHERE p.branch_id = b.branch_id"
            f" AND p.member_id IS NULL AND p.year = $2 AND {done}",
            int(period),
        )
        members = await conn.fetch(
            "SELECT m.member_id, m.name FROM dir_members m"
            " JOIN dir_branches b ON b.branch_id = m.branch_id AND b.active"
            " WHERE m.township_id = $1 AND m.active"
            " AND NOT EXISTS (SELECT 1 FROM board_pledges p WHERE p.member_id = m.member_id"
            f" AND p.year = $2 AND {done}) ORDER BY m.member_id",
            township_id,
            int(period),
        )
        return branches + [(m["member_id"], m["name"]) for m in members]
    if k is DeadlineKind.QUARTERLY_REVIEW:
        return await unreviewed(conn, township_id, period)
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
        # E2: the township office organises the branches' round, each branch its members'
        since = deadline.due_on - timedelta(days=90)
        done = await conn.fetchval(
            "SELECT 1 FROM board_rounds r WHERE r.township_id = $1 AND r.published_on > $2"
            " AND EXISTS (SELECT 1 FROM jsonb_array_elements(r.results) x"
            "   WHERE x ->> 'subject_kind' = 'branch')",
            township_id,
            since,
        )
        branches = await _branches(
            conn,
            township_id,
            "SELECT 1 WHERE NOT EXISTS (SELECT 1 FROM dir_members m"  # no members to rate
            "   WHERE m.branch_id = b.branch_id AND m.active)"
            " OR EXISTS (SELECT 1 FROM board_rounds r, jsonb_array_elements(r.results) x"
            "   WHERE r.township_id = b.township_id AND r.published_on > $2"
            "   AND x ->> 'subject_kind' = 'member' AND x ->> 'branch_id' = b.branch_id)",
            since,
        )
        return branches if done else [(office(township_id), deadline.title), *branches]
    else:  # selection
        done = await conn.fetchval(
            "SELECT 1 FROM board_commendations WHERE township_id = $1 AND year = $2",
            township_id,
            deadline.due_on.year,
        )
    return [] if done else [(office(township_id), deadline.title)]
