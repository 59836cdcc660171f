"""The directory as other services see it (D2): their own copy, built only from the pledge
service's published directory events, never from its database or API.

This is the consuming side of a published contract, the same for every consumer: add
`DIRECTORY_DDL` to the service's read models and call `project_directory` from its
projector. Moves and retirements apply from the moment their events arrive (D3); history is
kept in `dir_history`, so "who belonged where, when" can be answered.
"""

from __future__ import annotations

import json

import asyncpg

from shared.envelope import EventEnvelope

DIRECTORY_DDL = """
CREATE TABLE dir_townships (
    township_id text PRIMARY KEY,
    county_id   text NOT NULL,
    name        text NOT NULL,
    head_id     text,
    head_name   text
);
CREATE TABLE dir_branches (
    branch_id    text PRIMARY KEY,
    township_id  text    NOT NULL,
    county_id    text    NOT NULL,
    name         text    NOT NULL,
    kind         text    NOT NULL,
    secretary_id text,
    active       boolean NOT NULL
);
CREATE INDEX dir_branches_township ON dir_branches (township_id);
CREATE TABLE dir_members (
    member_id       text PRIMARY KEY,
    branch_id       text    NOT NULL,
    township_id     text    NOT NULL,
    name            text    NOT NULL,
    post            text    NOT NULL,
    leadership_team boolean NOT NULL,
    active          boolean NOT NULL
);
CREATE INDEX dir_members_branch ON dir_members (branch_id);
CREATE TABLE dir_history (
    event_id   uuid PRIMARY KEY,
    subject_id text        NOT NULL,
    change     text        NOT NULL,
    detail     jsonb       NOT NULL,
    at         timestamptz NOT NULL
);
CREATE INDEX dir_history_subject ON dir_history (subject_id, at);
"""

_STATEMENTS: dict[str, list[tuple[str, tuple[str, ...]]]] = {
    "TownshipEstablished": [
        (
            "INSERT INTO dir_townships (township_id, county_id, name) VALUES ($1, $2, $3)"
            " ON CONFLICT DO NOTHING",
            ("township_id", "county_id", "name"),
        )
    ],
    "TownshipHeadAppointed": [
        (
            "UPDATE dir_townships SET head_id = $2, head_name = $3 WHERE township_id = $1",
            ("township_id", "person_id", "name"),
        )
    ],
    "BranchEstablished": [
        (
            "INSERT INTO dir_branches (branch_id, township_id, county_id, name, kind, active)"
            " VALUES ($1, $2, $3, $4, $5, true) ON CONFLICT DO NOTHING",
            ("branch_id", "township_id", "county_id", "name", "kind"),
        )
    ],
    "BranchSecretaryAppointed": [
        (
            "UPDATE dir_branches SET secretary_id = $2 WHERE branch_id = $1",
            ("branch_id", "member_id"),
        )
    ],
    "BranchMoved": [
        (
            "UPDATE dir_branches SET township_id = $2 WHERE branch_id = $1",
            ("branch_id", "to_township_id"),
        ),
        (
            "UPDATE dir_members SET township_id = $2 WHERE branch_id = $1",
            ("branch_id", "to_township_id"),
        ),
    ],
    "BranchRetired": [
        ("UPDATE dir_branches SET active = false WHERE branch_id = $1", ("branch_id",))
    ],
    "MemberEnrolled": [
        (
            "INSERT INTO dir_members (member_id, branch_id, township_id, name, post,"
            " leadership_team, active) VALUES ($1, $2, $3, $4, $5, $6, true)"
            " ON CONFLICT DO NOTHING",
            ("member_id", "branch_id", "township_id", "name", "post", "leadership_team"),
        )
    ],
    "MemberPostAssigned": [
        (
            "UPDATE dir_members SET post = $2, leadership_team = $3 WHERE member_id = $1",
            ("member_id", "post", "leadership_team"),
        )
    ],
    "MemberTransferred": [
        (
            "UPDATE dir_members SET branch_id = $2, township_id = $3 WHERE member_id = $1",
            ("member_id", "to_branch_id", "to_township_id"),
        ),
        (
            "UPDATE dir_branches SET secretary_id = NULL WHERE branch_id = $1"
            " AND secretary_id = $2",
            ("from_branch_id", "member_id"),
        ),
    ],
    "MemberRetired": [
        ("UPDATE dir_members SET active = false WHERE member_id = $1", ("member_id",)),
        ("UPDATE dir_branches SET secretary_id = NULL WHERE secretary_id = $1", ("member_id",)),
    ],
}

DIRECTORY_EVENTS = frozenset(_STATEMENTS)

_SUBJECT_FIELD = ("member_id", "branch_id", "township_id")


async def project_directory(conn: asyncpg.Connection, envelope: EventEnvelope) -> bool:
    """Apply a pledge-service directory event to the copy; False if it is not one."""
    if not envelope.source.endswith("/pledge") or envelope.type not in _STATEMENTS:
        return False
    data = envelope.data
    for sql, fields in _STATEMENTS[envelope.type]:
        await conn.execute(sql, *(data[f] for f in fields))
    subject = next(data[f] for f in _SUBJECT_FIELD if f in data)
    await conn.execute(
        "INSERT INTO dir_history (event_id, subject_id, change, detail, at)"
        " VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
        envelope.id,
        subject,
        envelope.type,
        json.dumps(data, ensure_ascii=False),
        envelope.time,
    )
    return True


async def county_of(
    conn: asyncpg.Connection | asyncpg.Pool,
    place_id: str,
    townships: str = "dir_townships",
    counties: str | None = None,
) -> str | None:
    """The county a township (or a county itself) belongs to, as this service's own copy of
    the directory shows it (`townships`, `counties`: the tables; the pledge service's own);
    None when it knows no such place. What an auditor's county is checked against."""
    county_ids = f" UNION ALL SELECT county_id FROM {counties}" if counties else ""
    found: str | None = await conn.fetchval(
        f"SELECT county_id FROM {townships} WHERE township_id = $1"
        f" UNION ALL (SELECT county_id FROM (SELECT county_id FROM {townships}{county_ids}) c"
        " WHERE county_id = $1 LIMIT 1) LIMIT 1",
        place_id,
    )
    return found


async def counties_of(
    conn: asyncpg.Connection | asyncpg.Pool,
    place_id: str | None,
    townships: str = "dir_townships",
) -> set[str | None]:
    """The counties records of a place span: the one its township is in (None if the copy
    does not know it), or, for no place (every township's), every county the copy holds."""
    if place_id is not None:
        return {await county_of(conn, place_id, townships)}
    rows = await conn.fetch(f"SELECT DISTINCT county_id FROM {townships}")  # a constant
    return {row["county_id"] for row in rows}
