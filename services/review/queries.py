"""Reads from the read models. Keyword-only arguments; plain dicts out.

The last part reads this service's own copies of the directory, of pledge status (D2) and of
the township committees' seats for the command handlers, inside the command's transaction,
so an authority check and the append it guards see one state (R1): the `Copies` port,
`Subject`s and a `PledgeLedgerStatus` out. Never another service's API or database."""

from __future__ import annotations

import json
from typing import Any, Protocol

import asyncpg

from services.review.aggregates import Subject
from services.review.events import DIMENSIONS, Grade, Occasion, PledgeLedgerStatus, SubjectKind
from shared import zh
from shared.errors import InvalidInput, NotFound


def _review(row: Any) -> dict[str, Any]:
    return {
        **dict(row),
        "assessments": json.loads(row["assessments"]),
        "pledge_status": json.loads(row["pledge_status"]),
        "files": json.loads(row["files"]),
    }


LEDGER_WHERE = """
WHERE ($1::text IS NULL OR township_id = $1) AND ($2::text IS NULL OR branch_id = $2)
  AND ($3::text IS NULL OR subject_kind = $3) AND ($4::text IS NULL OR subject_id = $4)
  AND ($5::text IS NULL OR quarter = $5) AND ($6::text IS NULL OR occasion = $6)
  AND ($7::text IS NULL OR cadence = $7) AND ($8 OR superseded_by IS NULL)
"""


async def review_ledger(
    conn: asyncpg.Connection,
    *,
    township_id: str | None,
    branch_id: str | None,
    subject_kind: str | None,
    subject_id: str | None,
    quarter: str | None,
    occasion: str | None,
    cadence: str | None,
    include_superseded: bool,
    limit: int | None,
    offset: int,
    newest_first: bool = False,
) -> dict[str, Any]:
    """R4: the review ledger, current versions unless superseded ones are asked for, by
    quarter (the latest quarter first if asked: a page of a ledger that grows with years)."""
    args = (
        township_id,
        branch_id,
        subject_kind,
        subject_id,
        quarter,
        occasion,
        cadence,
        include_superseded,
    )
    total = await conn.fetchval(f"SELECT count(*) FROM reviews {LEDGER_WHERE}", *args)
    rows = await conn.fetch(
        f"SELECT * FROM reviews {LEDGER_WHERE}"
        f" ORDER BY quarter {'DESC' if newest_first else ''}, township_id, branch_id,"
        " subject_kind, subject_name, held_on, recorded_at, sequence, review_id"
        " LIMIT $9 OFFSET $10",
        *args,
        limit,
        offset,
    )
    return {
        "total": total,
        "limit": limit or total,
        "offset": offset,
        "rows": [_review(r) for r in rows],
    }


def no_review(review_id: str) -> NotFound:
    """The answer for a review that does not exist (or that the caller may not know of)."""
    return NotFound(f"没有找到点评 {review_id}：请核对后再试。")


async def review(conn: asyncpg.Connection, *, review_id: str) -> dict[str, Any]:
    """A review's current version and every version before it (corrections, A1)."""
    original = await conn.fetchval(
        "SELECT original_review_id FROM reviews WHERE review_id = $1", review_id
    )
    if original is None:
        raise no_review(review_id)
    versions = [
        _review(r)
        for r in await conn.fetch(
            "SELECT * FROM reviews WHERE original_review_id = $1 ORDER BY sequence",
            original,
        )
    ]
    current = next(v for v in versions if v["superseded_by"] is None)
    return {**current, "versions": versions}


COVERAGE = """
SELECT 'branch' AS subject_kind, b.branch_id AS subject_id, b.branch_id, b.name,
       false AS leadership_team,
       EXISTS (SELECT 1 FROM reviews r WHERE r.subject_kind = 'branch'
               AND r.subject_id = b.branch_id AND r.quarter = $2
               AND r.superseded_by IS NULL) AS reviewed
FROM dir_branches b WHERE b.township_id = $1 AND b.active
UNION ALL
SELECT 'member', m.member_id, m.branch_id, m.name, m.leadership_team,
       EXISTS (SELECT 1 FROM reviews r WHERE r.subject_kind = 'member'
               AND r.subject_id = m.member_id AND r.quarter = $2
               AND r.superseded_by IS NULL)
FROM dir_members m JOIN dir_branches b ON b.branch_id = m.branch_id AND b.active
WHERE m.township_id = $1 AND m.active
ORDER BY 3, 1, 2
"""


async def coverage(conn: asyncpg.Connection, *, township_id: str, quarter: str) -> dict[str, Any]:
    """R5: every active branch and member of the township, and who has not been reviewed
    in the quarter (by the current version of a review)."""
    name = await conn.fetchval("SELECT name FROM dir_townships WHERE township_id = $1", township_id)
    if name is None:
        raise NotFound(f"没有找到乡镇 {township_id}：请核对后再试。")
    rows = [dict(r) for r in await conn.fetch(COVERAGE, township_id, quarter)]

    def count(kind: str) -> dict[str, int]:
        of_kind = [r for r in rows if r["subject_kind"] == kind]
        return {"total": len(of_kind), "reviewed": sum(r["reviewed"] for r in of_kind)}

    return {
        "township_id": township_id,
        "township_name": name,
        "quarter": quarter,
        "branches": count("branch"),
        "members": count("member"),
        "complete": all(r["reviewed"] for r in rows),
        "not_reviewed": [
            {k: r[k] for k in ("subject_kind", "subject_id", "branch_id", "name")}
            for r in rows
            if not r["reviewed"]
        ],
    }


async def journal(conn: asyncpg.Connection, *, member_id: str, month: str | None) -> dict[str, Any]:
    entries = await conn.fetch(
        "SELECT * FROM journal_entries WHERE member_id = $1 AND ($2::text IS NULL OR month = $2)"
        " ORDER BY month, recorded_on, recorded_at, sequence",
        member_id,
        month,
    )
    presentations = await conn.fetch(
        "SELECT * FROM presentations WHERE member_id = $1 AND ($2::text IS NULL OR month = $2)"
        " ORDER BY month",
        member_id,
        month,
    )
    return _journal(member_id, month, entries, presentations)


def _journal(
    member_id: str, month: str | None, entries: list[Any], presentations: list[Any]
) -> dict[str, Any]:
    return {
        "member_id": member_id,
        "month": month,
        "entries": [{**dict(e), "files": json.loads(e["files"])} for e in entries],
        "presentations": [
            {**dict(p), "entry_ids": json.loads(p["entry_ids"])} for p in presentations
        ],
    }


async def branch_journals(
    conn: asyncpg.Connection, *, branch_id: str, month: str
) -> dict[str, Any]:
    """R6: the month's journal of every member of the branch (as the copy has them), in
    three reads whatever the branch's size (the secretary's page asked once per member)."""
    members = await conn.fetch(
        "SELECT member_id FROM dir_members WHERE branch_id = $1 ORDER BY member_id", branch_id
    )
    ids = [m["member_id"] for m in members]
    entries = await conn.fetch(
        "SELECT * FROM journal_entries WHERE member_id = ANY($1::text[]) AND month = $2"
        " ORDER BY recorded_on, recorded_at, sequence",
        ids,
        month,
    )
    presentations = await conn.fetch(
        "SELECT * FROM presentations WHERE member_id = ANY($1::text[]) AND month = $2",
        ids,
        month,
    )
    journals = [
        _journal(
            member_id,
            month,
            [e for e in entries if e["member_id"] == member_id],
            [p for p in presentations if p["member_id"] == member_id],
        )
        for member_id in ids
    ]
    return {"branch_id": branch_id, "month": month, "journals": journals}


async def _paged(
    conn: asyncpg.Connection,
    table: str,
    filters: dict[str, str | None],
    order: str,
    limit: int,
    offset: int,
) -> tuple[int, list[asyncpg.Record]]:
    """A page of the table's rows matching every filter given (a None one matches all), and
    how many match in all."""
    where = " AND ".join(
        f"(${n}::text IS NULL OR {column} = ${n})" for n, column in enumerate(filters, 1)
    )
    args = list(filters.values())
    total = await conn.fetchval(f"SELECT count(*) FROM {table} WHERE {where}", *args)
    n = len(args)
    rows = await conn.fetch(
        f"SELECT * FROM {table} WHERE {where} ORDER BY {order} LIMIT ${n + 1} OFFSET ${n + 2}",
        *args,
        limit,
        offset,
    )
    return total, rows


async def visits(
    conn: asyncpg.Connection,
    *,
    township_id: str | None,
    branch_id: str | None,
    limit: int,
    offset: int,
) -> dict[str, Any]:
    total, rows = await _paged(
        conn,
        "visits",
        {"township_id": township_id, "branch_id": branch_id},
        "visited_on, visit_id",
        limit,
        offset,
    )
    return {
        "total": total,
        "limit": limit,
        "offset": offset,
        "rows": [{**dict(r), "files": json.loads(r["files"])} for r in rows],
    }


async def branch_leaders(conn: asyncpg.Connection, *, branch_id: str) -> list[dict[str, Any]]:
    rows = await conn.fetch(
        "SELECT branch_id, leader_id, leader_name, assigned_on, township_id FROM branch_leaders"
        " WHERE branch_id = $1 ORDER BY assigned_on, leader_id",
        branch_id,
    )
    return [dict(r) for r in rows]


async def leader_assignments(
    conn: asyncpg.Connection,
    *,
    township_id: str | None,
    leader_id: str | None,
    limit: int,
    offset: int,
) -> dict[str, Any]:
    """R1: the assignments now, of a township's branches or of one leader, by branch."""
    total, rows = await _paged(
        conn,
        "branch_leaders",
        {"township_id": township_id, "leader_id": leader_id},
        "branch_id, assigned_on, leader_id",
        limit,
        offset,
    )
    return {"total": total, "limit": limit, "offset": offset, "rows": [dict(r) for r in rows]}


async def branch_copy(conn: asyncpg.Connection, *, branch_id: str) -> dict[str, Any]:
    row = await conn.fetchrow(
        "SELECT b.*, t.head_id FROM dir_branches b LEFT JOIN dir_townships t USING (township_id)"
        " WHERE b.branch_id = $1",
        branch_id,
    )
    if row is None:
        raise NotFound(f"本服务的名册副本中还没有支部 {branch_id}：如刚刚新建，请稍后再试。")
    members = await conn.fetch(
        "SELECT * FROM dir_members WHERE branch_id = $1 ORDER BY leadership_team DESC, name",
        branch_id,
    )
    return {**dict(row), "members": [dict(m) for m in members]}


# --- the copies the commands are checked against (D2, R1, R3) ---------------------------

MEMBER = """
SELECT m.member_id AS subject_id, m.name, m.branch_id, m.township_id, b.county_id, m.active,
       m.leadership_team, b.secretary_id, t.head_id,
       ARRAY(SELECT l.leader_id FROM branch_leaders l WHERE l.branch_id = b.branch_id) AS leaders
FROM dir_members m JOIN dir_branches b USING (branch_id)
LEFT JOIN dir_townships t ON t.township_id = m.township_id
WHERE m.member_id = $1"""

BRANCH = """
SELECT b.branch_id AS subject_id, b.name, b.branch_id, b.township_id, b.county_id, b.active,
       false AS leadership_team, b.secretary_id, t.head_id,
       ARRAY(SELECT l.leader_id FROM branch_leaders l WHERE l.branch_id = b.branch_id) AS leaders
FROM dir_branches b LEFT JOIN dir_townships t USING (township_id)
WHERE b.branch_id = $1"""


class Copies(Protocol):
    """The port the command handlers read the copies through (R1, R3): in PostgreSQL on the
    command's transaction (`copies`), in memory in the handler tests."""

    async def find_subject(self, kind: SubjectKind, subject_id: str) -> Subject | None: ...

    async def pledge_status(self, subject: Subject, year: int) -> PledgeLedgerStatus:
        """The subject's pledge of `year` and its ledger (open / closed items) as copied."""
        ...

    async def on_committee(self, person_id: str, township_id: str) -> bool:
        """Whether the person sits on the township's committee, as the identity service's
        posts were copied (R1)."""
        ...


class PostgresCopies:
    def __init__(self, conn: asyncpg.Connection) -> None:
        self.conn = conn

    async def find_subject(self, kind: SubjectKind, subject_id: str) -> Subject | None:
        row = await self.conn.fetchrow(MEMBER if kind is SubjectKind.MEMBER else BRANCH, subject_id)
        if row is None:
            return None
        return Subject(kind=kind, **{**dict(row), "leaders": frozenset(row["leaders"])})

    async def on_committee(self, person_id: str, township_id: str) -> bool:
        return bool(
            await self.conn.fetchval(
                "SELECT EXISTS (SELECT 1 FROM committee_seats"
                " WHERE township_id = $1 AND person_id = $2)",
                township_id,
                person_id,
            )
        )

    async def pledge_status(self, subject: Subject, year: int) -> PledgeLedgerStatus:
        member_id = subject.subject_id if subject.kind is SubjectKind.MEMBER else None
        row = await self.conn.fetchrow(
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
            return no_pledge(year)
        return PledgeLedgerStatus(
            year=year,
            pledge_id=row["pledge_id"],
            status=row["status"],
            items_total=row["total"],
            items_open=row["open"],
            items_closed=row["closed"],
        )


def copies(conn: asyncpg.Connection) -> Copies:
    """The copies on the command's transaction: `uow.port(queries.copies)`."""
    return PostgresCopies(conn)


def no_pledge(year: int) -> PledgeLedgerStatus:
    return PledgeLedgerStatus(
        year=year, pledge_id=None, status="none", items_total=0, items_open=0, items_closed=0
    )


async def subject(
    reads: Copies, kind: SubjectKind, subject_id: str, field: str = "subject_id"
) -> Subject:
    """A subject named in a request body: unknown is invalid input (422)."""
    found = await reads.find_subject(kind, subject_id)
    if found is None:
        raise InvalidInput(
            f"名册中没有{zh.label(kind.value)} {subject_id}：请核对后再试。", field=field
        )
    return found


def no_member(member_id: str) -> NotFound:
    return NotFound(f"没有找到党员 {member_id}：请核对后再试。")


def no_branch(branch_id: str) -> NotFound:
    return NotFound(f"本服务的名册副本中还没有支部 {branch_id}：如刚刚新建，请稍后再试。")


async def member(reads: Copies, member_id: str) -> Subject:
    """A member named in the path: unknown is not found (404)."""
    found = await reads.find_subject(SubjectKind.MEMBER, member_id)
    if found is None:
        raise no_member(member_id)
    return found


async def branch(reads: Copies, branch_id: str) -> Subject:
    """A branch named in the path: unknown is not found (404)."""
    found = await reads.find_subject(SubjectKind.BRANCH, branch_id)
    if found is None:
        raise no_branch(branch_id)
    return found


async def file_uses(conn: asyncpg.Connection, sha256: str) -> list[dict[str, Any]]:
    """The records a file is attached to (a review version: whether it is still current)."""
    rows = await conn.fetch(
        "SELECT f.kind, f.record_id, f.township_id, f.member_id,"
        " (f.kind <> 'review' OR r.superseded_by IS NULL) AS current"
        " FROM attached_files f LEFT JOIN reviews r"
        " ON f.kind = 'review' AND r.review_id = f.record_id WHERE f.sha256 = $1",
        sha256,
    )
    return [dict(r) for r in rows]


async def uploaded_by(conn: asyncpg.Connection, sha256: str, subject: str) -> bool:
    return bool(
        await conn.fetchval(
            "SELECT EXISTS (SELECT 1 FROM file_uploads WHERE sha256 = $1 AND uploaded_by = $2)",
            sha256,
            subject,
        )
    )


def _coded(codes: Any) -> list[dict[str, str]]:
    return [{"code": str(c), "label": zh.label(c)} for c in codes]


def review_scales() -> dict[str, Any]:
    """R3: what a review of each kind of subject assesses (every dimension, each required),
    the grades each dimension takes and the occasions (R2), with the labels a person reads:
    what a form asks, from the rules themselves."""
    return {
        "dimensions": {kind.value: _coded(dims) for kind, dims in DIMENSIONS.items()},
        "grades": _coded(Grade),
        "occasions": _coded(Occasion),
    }
