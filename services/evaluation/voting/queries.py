"""Reads and writes of voting's tables beside the log (issue 17): invitations (code hashes),
the urn and the failed attempts, through the `Voting` port the handlers use
(`uow.port(queries.voting)`; tests/support/evaluation.py has it in memory); and the reads the
voting page and the slips need (what a round or check shows, the raters' names)."""

from __future__ import annotations

import json
import uuid
from datetime import datetime
from typing import Any, Protocol

import asyncpg

from shared import zh
from shared.personal import Unreadable, unseal_each


class Voting(Protocol):
    """Invitations, the urn and attempts, on the command's transaction."""

    async def lock(self, scope_id: str) -> None: ...
    async def invitation(self, code_hash: str) -> dict[str, Any] | None: ...
    async def add_invitation(
        self, code_hash: str, scope: str, scope_id: str, rater_id: str
    ) -> None: ...
    async def replace_invitations(self, scope_id: str, rater_id: str) -> None: ...
    async def expire_invitations(self, scope_id: str) -> None: ...
    async def put_in_urn(self, scope: str, scope_id: str, grades: dict[str, str]) -> None: ...
    async def urn_size(self, scope_id: str) -> int: ...
    async def take_from_urn(self, scope_id: str) -> list[dict[str, str]]: ...
    async def blocked_until(self, key: str) -> datetime | None: ...
    async def failures(self, key: str) -> int: ...
    async def record_failure(self, key: str, now: datetime, blocked_until: datetime) -> None: ...
    async def raters(self, scope: str, scope_id: str) -> list[dict[str, Any]]: ...
    async def scope_view(self, scope: str, scope_id: str) -> dict[str, Any]: ...


class PostgresVoting:
    def __init__(self, conn: asyncpg.Connection) -> None:
        self.conn = conn

    async def lock(self, scope_id: str) -> None:
        """Ballots of one round or check one after another, until the transaction ends: they
        all append to its stream, and racing ones would only fail on its version and retry
        (under hundreds of voters a minute, into a refusal)."""
        await self.conn.execute("SELECT pg_advisory_xact_lock(hashtextextended($1, 17))", scope_id)

    async def invitation(self, code_hash: str) -> dict[str, Any] | None:
        row = await self.conn.fetchrow(
            "SELECT scope, scope_id, rater_id, state FROM public.invitations WHERE code_hash = $1",
            code_hash,
        )
        return None if row is None else dict(row)

    async def add_invitation(
        self, code_hash: str, scope: str, scope_id: str, rater_id: str
    ) -> None:
        await self.conn.execute(
            "INSERT INTO public.invitations VALUES ($1, $2, $3, $4, 'live')",
            code_hash,
            scope,
            scope_id,
            rater_id,
        )

    async def replace_invitations(self, scope_id: str, rater_id: str) -> None:
        await self.conn.execute(
            "UPDATE public.invitations SET state = 'replaced'"
            " WHERE scope_id = $1 AND rater_id = $2 AND state = 'live'",
            scope_id,
            rater_id,
        )

    async def expire_invitations(self, scope_id: str) -> None:
        await self.conn.execute(
            "UPDATE public.invitations SET state = 'expired' WHERE scope_id = $1", scope_id
        )

    async def put_in_urn(self, scope: str, scope_id: str, grades: dict[str, str]) -> None:
        await self.conn.execute(
            "INSERT INTO public.urn VALUES ($1, $2, $3, $4)",
            uuid.uuid4(),
            scope,
            scope_id,
            json.dumps(grades, ensure_ascii=False),
        )

    async def urn_size(self, scope_id: str) -> int:
        found: int = await self.conn.fetchval(
            "SELECT count(*) FROM public.urn WHERE scope_id = $1", scope_id
        )
        return found

    async def take_from_urn(self, scope_id: str) -> list[dict[str, str]]:
        rows = await self.conn.fetch(
            "DELETE FROM public.urn WHERE scope_id = $1 RETURNING grades", scope_id
        )
        return [json.loads(r["grades"]) for r in rows]

    async def blocked_until(self, key: str) -> datetime | None:
        found: datetime | None = await self.conn.fetchval(
            "SELECT blocked_until FROM public.vote_attempts WHERE key = $1", key
        )
        return found

    async def failures(self, key: str) -> int:
        found: int | None = await self.conn.fetchval(
            "SELECT failures FROM public.vote_attempts WHERE key = $1", key
        )
        return found or 0

    async def record_failure(self, key: str, now: datetime, blocked_until: datetime) -> None:
        await self.conn.execute(
            "INSERT INTO public.vote_attempts VALUES ($1, 1, $3, $2) ON CONFLICT (key) DO UPDATE"
            " SET failures = vote_attempts.failures + 1, blocked_until = $3, last_at = $2",
            key,
            now,
            blocked_until,
        )

    async def raters(self, scope: str, scope_id: str) -> list[dict[str, Any]]:
        return await raters(self.conn, scope=scope, scope_id=scope_id)

    async def scope_view(self, scope: str, scope_id: str) -> dict[str, Any]:
        return await scope_view(self.conn, scope=scope, scope_id=scope_id)


def voting(conn: asyncpg.Connection) -> Voting:
    """The port on the command's transaction: `uow.port(queries.voting)`."""
    return PostgresVoting(conn)


async def raters(conn: asyncpg.Connection, *, scope: str, scope_id: str) -> list[dict[str, Any]]:
    """The raters of a round or check with their name and phone opened (a member's name from
    the directory copy), for slips and SMS only: {rater_id, member_id, name, phone}."""
    table, key = ("round_raters", "round_id") if scope == "round" else ("check_raters", "check_id")
    rows = await conn.fetch(
        f"SELECT r.rater_id, r.member_id, r.personal, r.erased, m.name AS member_name"
        f" FROM {table} r LEFT JOIN dir_members m ON m.member_id = r.member_id"
        f" WHERE r.{key} = $1 ORDER BY r.rater_id",
        scope_id,
    )
    sealed = [json.loads(r["personal"]) for r in rows if r["personal"] is not None]
    opened = iter(await unseal_each(conn, sealed))
    out = []
    for r in rows:
        found = next(opened) if r["personal"] is not None else None
        fields = {} if r["erased"] or isinstance(found, Unreadable) else found or {}
        out.append(
            {
                "rater_id": r["rater_id"],
                "member_id": r["member_id"],
                "name": r["member_name"] or fields.get("name"),
                "phone": fields.get("phone"),
            }
        )
    return out


async def scope_view(conn: asyncpg.Connection, *, scope: str, scope_id: str) -> dict[str, Any]:
    """What the voting page and the slips show of a round or check: {scope, scope_id, title,
    township, status, closes_on, grades [{grade, label}], subjects [{subject_id, name, post,
    detail}]}."""
    if scope == "round":
        row = await conn.fetchrow(
            "SELECT r.*, t.name AS township FROM rounds r"
            " LEFT JOIN dir_townships t USING (township_id) WHERE round_id = $1",
            scope_id,
        )
        assert row is not None, scope_id
        subjects = await conn.fetch(
            "SELECT s.subject_id, s.subject_name, s.subject_kind, m.post FROM round_subjects s"
            " LEFT JOIN dir_members m ON m.member_id = s.subject_id"
            " WHERE round_id = $1 ORDER BY position",
            scope_id,
        )
        shown = [
            {
                "subject_id": s["subject_id"],
                "name": s["subject_name"],
                "post": s["post"] or ("党支部" if s["subject_kind"] == "branch" else ""),
                "detail": await _pledged(conn, s["subject_id"], row["year"]),
            }
            for s in subjects
        ]
        scale = json.loads(row["scale"])
    else:
        row = await conn.fetchrow(
            "SELECT c.*, t.name AS township FROM checks c"
            " LEFT JOIN dir_townships t USING (township_id) WHERE check_id = $1",
            scope_id,
        )
        assert row is not None, scope_id
        shown = [{"subject_id": "item", "name": row["title"], "post": "", "detail": row["summary"]}]
        scale = None
    grades = scale["grades"] if scale else DEFAULT_CHECK_GRADES
    return {
        "scope": scope,
        "scope_id": scope_id,
        "title": row["title"] if scope == "round" else f"承诺事项满意度测评：{row['title']}",
        "township": row["township"] or row["township_id"],
        "status": row["status"],
        "closes_on": row["closes_on"],
        "grades": [{"grade": g["grade"], "label": zh.simplified(g["label"])} for g in grades],
        "subjects": shown,
    }


async def _pledged(conn: asyncpg.Connection, subject_id: str, year: int) -> str:
    """What the subject pledged for the round's year and how far it got, as this service's
    copy of the pledge service's published events knows it (items published, items closed)."""
    row = await conn.fetchrow(
        "SELECT p.item_ids, (SELECT count(*) FROM pledge_items_closed c"
        " WHERE c.pledge_id = p.pledge_id) AS closed FROM pledge_copy p"
        " WHERE p.subject_id = $1 AND p.year = $2 ORDER BY p.pledge_id LIMIT 1",
        subject_id,
        year,
    )
    if row is None or row["item_ids"] is None:
        return ""
    items = len(json.loads(row["item_ids"]))
    return f"{year}年承诺{items}项，已完成{row['closed']}项"


DEFAULT_CHECK_GRADES = [
    {"grade": "satisfied", "label": "满意"},
    {"grade": "mostly_satisfied", "label": "基本满意"},
    {"grade": "dissatisfied", "label": "不满意"},
]


async def turnout(conn: asyncpg.Connection, *, scope: str, scope_id: str) -> dict[str, Any]:
    """Invitations and ballots of a round or check, counts only (never who chose what)."""
    table, key = ("round_raters", "round_id") if scope == "round" else ("check_raters", "check_id")
    raters = await conn.fetchrow(
        f"SELECT count(*) AS registered, count(*) FILTER (WHERE voted) AS voted FROM {table}"
        f" WHERE {key} = $1",
        scope_id,
    )
    invited = await conn.fetchrow(
        "SELECT count(*) AS invited, coalesce(sum(issued - 1), 0)::int AS reissued,"
        # by the rater's latest invitation (a reissue voids the code before): its text
        # accepted by the provider, or refused (counted apart)
        " count(*) FILTER (WHERE last_sms = 'sent') AS by_sms,"
        " count(*) FILTER (WHERE last_sms = 'refused') AS sms_refused"
        " FROM invitations_issued WHERE scope_id = $1",
        scope_id,
    )
    in_urn = await conn.fetchval("SELECT count(*) FROM public.urn WHERE scope_id = $1", scope_id)
    return {"scope_id": scope_id, **dict(raters), **dict(invited), "in_urn": in_urn}


async def waiting(conn: asyncpg.Connection, *, scope_id: str) -> dict[str, int]:
    """Ballots waiting in the urn, per subject (counts only: the auditor's check, issue 17)."""
    rows = await conn.fetch(
        "SELECT s AS subject_id, count(*)::int AS n FROM public.urn, jsonb_object_keys(grades) s"
        " WHERE scope_id = $1 GROUP BY 1",
        scope_id,
    )
    return {r["subject_id"]: r["n"] for r in rows}


def urn_problems(in_urn: dict[str, int], closed: bool) -> list[dict[str, Any]]:
    """At close the urn must be empty: every ballot appended to the ballot box."""
    if not closed:
        return []
    return [
        {
            "problem": "urn_not_empty",
            "rater_id": None,
            "subject_id": subject_id,
            "detail": f"{n} ballots still in the urn after close",
        }
        for subject_id, n in sorted(in_urn.items())
        if n
    ]
