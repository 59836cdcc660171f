"""Reads the service's areas share: this service's copy of the directory (D2,
shared/directory.py), the hierarchy that decides who organises and who is rated (E2); what is
due to close (E4, E8); whom a person's erasure concerns (A7); and the auditor's findings over
participations and ballots (E3), for rounds and checks alike.

The command handlers read through the `Reads` port (`uow.port(queries.reads)`, built on the
command's transaction by `PostgresReads`, which runs the functions below unchanged) and seal
or erase personal data through the `Keys` port (`uow.port(queries.keys)`): never the unit of
work's connection, so tests/unit/test_evaluation_handlers.py runs them all in memory."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Mapping
from datetime import date
from typing import Any, Protocol

import asyncpg

from shared.auth import Principal, Role
from shared.errors import InvalidInput, NotFound
from shared.personal import (
    ERASED,
    UNREADABLE,
    Unreadable,
    destroy_key,
    mask_id_number,
    mask_phone,
    seal,
    unseal_each,
)
from shared.projections import drop_snapshots


async def township(conn: asyncpg.Connection, township_id: str) -> asyncpg.Record:
    row = await conn.fetchrow("SELECT * FROM dir_townships WHERE township_id = $1", township_id)
    if row is None:
        raise NotFound("没有找到该乡镇（本服务的名册副本中还没有）：如刚刚新建，请稍后再试。")
    return row


async def branch(conn: asyncpg.Connection, branch_id: str) -> asyncpg.Record:
    row = await conn.fetchrow(
        "SELECT * FROM dir_branches WHERE branch_id = $1 AND active", branch_id
    )
    if row is None:
        raise NotFound("没有找到该支部（本服务的名册副本中还没有）：如刚刚新建，请稍后再试。")
    return row


async def branches_of(conn: asyncpg.Connection, township_id: str) -> list[asyncpg.Record]:
    return list(
        await conn.fetch(
            "SELECT * FROM dir_branches WHERE township_id = $1 AND active ORDER BY branch_id",
            township_id,
        )
    )


async def members_of(conn: asyncpg.Connection, branch_id: str) -> list[asyncpg.Record]:
    return list(
        await conn.fetch(
            "SELECT * FROM dir_members WHERE branch_id = $1 AND active ORDER BY member_id",
            branch_id,
        )
    )


async def member_in(
    conn: asyncpg.Connection, member_id: str, township_id: str, where: str
) -> asyncpg.Record:
    row = await conn.fetchrow(
        "SELECT * FROM dir_members WHERE member_id = $1 AND active AND township_id = $2",
        member_id,
        township_id,
    )
    if row is None:
        raise InvalidInput(
            f"{member_id} 不是本乡镇的在册党员：请从本乡镇的党员中选择。", field=where
        )
    return row


async def home_township(conn: asyncpg.Connection, who: Principal) -> str | None:
    """The township a member (by their id) or a branch secretary (by the branch) belongs to
    now, as this copy shows it (D3); None for other roles, or if not (or no longer) there."""
    if who.role is Role.MEMBER:
        query = "SELECT township_id FROM dir_members WHERE member_id = $1 AND active"
        found: str | None = await conn.fetchval(query, who.subject)
        return found
    if who.role is Role.BRANCH_SECRETARY and who.org is not None:
        query = "SELECT township_id FROM dir_branches WHERE branch_id = $1 AND active"
        found = await conn.fetchval(query, who.org)
        return found
    return None


async def township_copy(conn: asyncpg.Connection, *, township_id: str) -> dict[str, Any]:
    """This service's copy of a township's directory (D2), as the evaluation sees it."""
    row = await conn.fetchrow("SELECT * FROM dir_townships WHERE township_id = $1", township_id)
    if row is None:
        raise NotFound("本服务的名册副本中还没有该乡镇：如刚刚新建，请稍后再试。")
    branches = []
    for branch in await conn.fetch(
        "SELECT branch_id, name, kind, secretary_id FROM dir_branches"
        " WHERE township_id = $1 AND active ORDER BY branch_id",
        township_id,
    ):
        members = await conn.fetch(
            "SELECT member_id, name, post FROM dir_members WHERE branch_id = $1 AND active"
            " ORDER BY member_id",
            branch["branch_id"],
        )
        branches.append({**dict(branch), "members": [dict(m) for m in members]})
    return {
        "township_id": township_id,
        "county_id": row["county_id"],
        "name": row["name"],
        "branches": branches,
    }


async def townships(pool: asyncpg.Pool) -> list[str]:
    """Every township in the directory copy, for the service's scheduled passes."""
    return [
        row["township_id"]
        for row in await pool.fetch("SELECT township_id FROM dir_townships ORDER BY 1")
    ]


async def due(conn: asyncpg.Connection, township_id: str, table: str, today: date) -> list[str]:
    """The township's open rounds or checks whose window ended before `today` (E4, E8)."""
    key = {"rounds": "round_id", "checks": "check_id"}[table]
    rows = await conn.fetch(
        f"SELECT {key} FROM {table} WHERE township_id = $1 AND status = 'open'"
        " AND closes_on < $2 ORDER BY 1",
        township_id,
        today,
    )
    return [row[key] for row in rows]


async def public_person_township(conn: asyncpg.Connection, person_id: str) -> str | None:
    """The township of a round or check a member of the public is registered for (A7)."""
    found: str | None = await conn.fetchval(
        "SELECT r.township_id FROM round_raters p JOIN rounds r USING (round_id)"
        " WHERE p.rater_id = $1 AND p.member_id IS NULL UNION ALL"
        " SELECT c.township_id FROM check_raters p JOIN checks c USING (check_id)"
        " WHERE p.rater_id = $1 AND p.member_id IS NULL LIMIT 1",
        person_id,
    )
    return found


# --- the ports the command handlers read (and seal) through --------------------------------


class Reads(Protocol):
    """What the command handlers read: the directory copy (a record as a mapping of its
    columns; NotFound or InvalidInput as the functions above raise them), what is due to
    close and whom an erasure concerns."""

    async def township(self, township_id: str) -> Mapping[str, Any]: ...
    async def branch(self, branch_id: str) -> Mapping[str, Any]: ...
    async def branches_of(self, township_id: str) -> list[Mapping[str, Any]]: ...
    async def members_of(self, branch_id: str) -> list[Mapping[str, Any]]: ...
    async def member_in(
        self, member_id: str, township_id: str, where: str
    ) -> Mapping[str, Any]: ...
    async def home_township(self, who: Principal) -> str | None: ...
    async def due(self, township_id: str, table: str, today: date) -> list[str]: ...
    async def public_person_township(self, person_id: str) -> str | None: ...


class PostgresReads:
    """`Reads` on the command's transaction: the functions above, as they were."""

    def __init__(self, conn: asyncpg.Connection) -> None:
        self.conn = conn

    async def township(self, township_id: str) -> Mapping[str, Any]:
        row: Mapping[str, Any] = await township(self.conn, township_id)
        return row

    async def branch(self, branch_id: str) -> Mapping[str, Any]:
        row: Mapping[str, Any] = await branch(self.conn, branch_id)
        return row

    async def branches_of(self, township_id: str) -> list[Mapping[str, Any]]:
        return list(await branches_of(self.conn, township_id))

    async def members_of(self, branch_id: str) -> list[Mapping[str, Any]]:
        return list(await members_of(self.conn, branch_id))

    async def member_in(self, member_id: str, township_id: str, where: str) -> Mapping[str, Any]:
        row: Mapping[str, Any] = await member_in(self.conn, member_id, township_id, where)
        return row

    async def home_township(self, who: Principal) -> str | None:
        return await home_township(self.conn, who)

    async def due(self, township_id: str, table: str, today: date) -> list[str]:
        return await due(self.conn, township_id, table, today)

    async def public_person_township(self, person_id: str) -> str | None:
        return await public_person_township(self.conn, person_id)


def reads(conn: asyncpg.Connection) -> Reads:
    """The reads on the command's transaction: `uow.port(queries.reads)`."""
    return PostgresReads(conn)


class Keys(Protocol):
    """A member of the public's key (A7): made on first use to seal their personal data,
    destroyed to erase it."""

    async def seal(self, person_id: str, fields: dict[str, str]) -> dict[str, str]: ...
    async def erase(self, person_id: str) -> None: ...


class PostgresKeys:
    """`Keys` on the command's transaction (shared/personal.py), as before."""

    def __init__(self, conn: asyncpg.Connection) -> None:
        self.conn = conn

    async def seal(self, person_id: str, fields: dict[str, str]) -> dict[str, str]:
        return await seal(self.conn, person_id, fields)

    async def erase(self, person_id: str) -> None:
        await destroy_key(self.conn, person_id)
        await drop_snapshots(self.conn)  # past states built for `as_of` reads may show them


def keys(conn: asyncpg.Connection) -> Keys:
    """The keys on the command's transaction: `uow.port(queries.keys)`."""
    return PostgresKeys(conn)


# --- a member of the public's personal data, opened as it is read (A7) -----------------------
# The read models keep it only as the event carries it, sealed with the person's key
# (`personal`); the query a permitted reader's request makes opens it there and then, so an
# erased person (no key) reads as erased in every read model, past states included.


async def with_personal(
    conn: asyncpg.Connection, rows: Iterable[asyncpg.Record]
) -> list[dict[str, Any]]:
    """The rows, their `personal` and `erased` columns read as the registering office sees: the
    name, the phone and ID numbers masked; 已删除 (and nothing else) once erased; nothing for
    a member, whose personal data is the directory's; 无法读取 where the sealed bytes were
    altered (logged). Only for a reader the route allowed."""
    found = [dict(row) for row in rows]
    sealed = [json.loads(row["personal"]) for row in found if row["personal"] is not None]
    opened = iter(await unseal_each(conn, sealed))
    out = []
    for row in found:
        envelope, erased = row.pop("personal"), row.pop("erased")
        fields = next(opened) if envelope is not None else {}
        out.append({**row, **_shown(fields, erased)})
    return out


def _shown(fields: dict[str, str] | Unreadable | None, erased: bool) -> dict[str, Any]:
    """None for fields: the key is gone (erased, though perhaps not yet as of a past read)."""
    if isinstance(fields, Unreadable) and not erased:
        shown = {"name": UNREADABLE, "phone": None, "id_number": None, "erased": False}
        return {**shown, "unreadable": True}
    if erased or fields is None or isinstance(fields, Unreadable):
        return {"name": ERASED, "phone": None, "id_number": None, "erased": True}
    phone, number = fields.get("phone"), fields.get("id_number")
    return {
        "name": fields.get("name"),
        "phone": mask_phone(phone) if phone else None,
        "id_number": mask_id_number(number) if number else None,
        "erased": False,
    }


# --- E3, the auditor's check -------------------------------------------------------------
# Every counted ballot came from a distinct registered rater. Read from the participation and
# ballot records the projection derives from the events in log order (so a rebuild from the
# log, forged records included, gives the same answer), without linking any ballot to anyone:
# per subject, the participations of distinct raters registered before they took part are
# compared with the ballots that grade it. Every problem is named.


async def erasures(conn: asyncpg.Connection, table: str, key: str, scope_id: str) -> list[Any]:
    """The raters of a round (`round_raters`, `round_id`) or check (`check_raters`,
    `check_id`) whose personal data was erased (A7), oldest first: whose, when, by whom."""
    rows = await conn.fetch(
        f"SELECT r.rater_id, e.erased_at, e.actor, e.actor_role FROM {table} r"
        f" JOIN erasures e ON e.person_id = r.rater_id WHERE r.{key} = $1"
        " ORDER BY e.erased_at, r.rater_id",
        scope_id,
    )
    return [dict(r) for r in rows]


def problem(kind: str, detail: str, rater_id: str | None, subject_id: str) -> dict[str, Any]:
    return {"problem": kind, "rater_id": rater_id, "subject_id": subject_id, "detail": detail}


def findings(
    participations: Iterable[Mapping[str, Any]], ballots: Mapping[str, int], subjects: list[str]
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(per subject, participations by distinct registered raters and ballots; the problems),
    from participation rows (rater_id, subject_id, registered) and ballots per subject."""
    found: list[dict[str, Any]] = []
    times: Counter[tuple[str, str]] = Counter()
    valid: set[tuple[str, str]] = set()
    for p in participations:
        key = (p["rater_id"], p["subject_id"])
        times[key] += 1
        if p["registered"]:
            valid.add(key)
        else:
            found.append(problem("unregistered_rater", "took part unregistered", *key))
    for (rater_id, subject_id), n in sorted(times.items()):
        if n > 1:
            found.append(
                problem("repeated_participation", f"took part {n} times", rater_id, subject_id)
            )
    distinct = Counter(subject_id for _, subject_id in valid)
    others = sorted(({s for _, s in times} | set(ballots)) - set(subjects))
    counts = []
    for subject_id in [*subjects, *others]:
        row = {
            "subject_id": subject_id,
            "participations": distinct[subject_id],
            "ballots": ballots.get(subject_id, 0),
        }
        counts.append(row)
        if subject_id in others:
            found.append(problem("not_a_subject", "is not a subject here", None, subject_id))
        if row["participations"] != row["ballots"]:
            detail = f"{row['ballots']} ballots, {row['participations']} distinct registered raters"
            found.append(problem("ballots_differ", detail, None, subject_id))
    return counts, found
