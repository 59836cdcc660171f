"""Reading this service's own copies of the directory and of pledge status (D2), inside the
command's transaction, so an authority check and the append it guards see one state (R1).
Never the pledge service's API or database."""

from __future__ import annotations

import asyncpg

from services.review.aggregate import Subject
from services.review.events import PledgeLedgerStatus, SubjectKind
from shared.errors import InvalidInput, NotFound

MEMBER = """
SELECT m.member_id AS subject_id, m.name, m.branch_id, m.township_id, b.county_id, m.active,
       m.leadership_team, b.secretary_id, t.head_id
FROM dir_members m JOIN dir_branches b USING (branch_id)
LEFT JOIN dir_townships t ON t.township_id = m.township_id
WHERE m.member_id = $1"""

BRANCH = """
SELECT b.branch_id AS subject_id, b.name, b.branch_id, b.township_id, b.county_id, b.active,
       false AS leadership_team, b.secretary_id, t.head_id
FROM dir_branches b LEFT JOIN dir_townships t USING (township_id)
WHERE b.branch_id = $1"""


async def find(conn: asyncpg.Connection, kind: SubjectKind, subject_id: str) -> Subject | None:
    row = await conn.fetchrow(MEMBER if kind is SubjectKind.MEMBER else BRANCH, subject_id)
    return None if row is None else Subject(kind=kind, **dict(row))


async def subject(
    conn: asyncpg.Connection, kind: SubjectKind, subject_id: str, field: str = "subject_id"
) -> Subject:
    """A subject named in a request body: unknown is invalid input (422)."""
    found = await find(conn, kind, subject_id)
    if found is None:
        raise InvalidInput(f"no {kind.value} {subject_id} in the directory", field=field)
    return found


async def member(conn: asyncpg.Connection, member_id: str) -> Subject:
    """A member named in the path: unknown is not found (404)."""
    found = await find(conn, SubjectKind.MEMBER, member_id)
    if found is None:
        raise NotFound(f"member {member_id} not found")
    return found


async def pledge_status(
    conn: asyncpg.Connection, subject: Subject, year: int
) -> PledgeLedgerStatus:
    """The subject's pledge of `year` and its ledger (open / closed items) as copied."""
    member_id = subject.subject_id if subject.kind is SubjectKind.MEMBER else None
    row = await conn.fetchrow(
        "SELECT p.pledge_id, p.status,"
        " count(i.item_id) AS total,"
        " count(i.item_id) FILTER (WHERE i.ledger_status = 'open') AS open,"
        " count(i.item_id) FILTER (WHERE i.ledger_status = 'closed') AS closed"
        " FROM pledge_copy p LEFT JOIN pledge_copy_items i USING (pledge_id)"
        " WHERE p.year = $1 AND p.member_id IS NOT DISTINCT FROM $2"
        " AND ($2::text IS NOT NULL OR p.branch_id = $3)"
        " GROUP BY p.pledge_id, p.status",
        year,
        member_id,
        subject.branch_id,
    )
    if row is None:
        return PledgeLedgerStatus(
            year=year, pledge_id=None, status="none", items_total=0, items_open=0, items_closed=0
        )
    return PledgeLedgerStatus(
        year=year,
        pledge_id=row["pledge_id"],
        status=row["status"],
        items_total=row["total"],
        items_open=row["open"],
        items_closed=row["closed"],
    )
