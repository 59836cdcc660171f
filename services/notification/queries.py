"""Reads of the read models: what the public board shows (N1, published data only), the
releases feed (X2), the calendars, the inbox, bulletins, channels and deliveries (N3-N5),
and who has not yet done what a deadline asks (N3, P6)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, Protocol

import asyncpg

from services.notification.aggregates import (
    Recipient,
    branch_record,
    default_deadlines,
    follow_owners,
    office,
    owned_dates,
    township_reviewer,
)
from services.notification.events import BranchRecord, CadreGuidance, Deadline, DeadlineKind
from services.notification.projections.board import closing_reasons
from shared import zh
from shared.personal import destroy_key, seal, unseal


def _rows(records: list[asyncpg.Record], *json_fields: str) -> list[dict[str, Any]]:
    rows = []
    for record in records:
        row = dict(record)
        for name in json_fields:
            row[name] = json.loads(row[name])
        rows.append(row)
    return rows


async def counties(conn: asyncpg.Connection) -> list[dict[str, Any]]:
    return _rows(await conn.fetch("SELECT * FROM board_counties ORDER BY county_id"))


async def county(conn: asyncpg.Connection, county_id: str) -> dict[str, Any] | None:
    row = await conn.fetchrow("SELECT * FROM board_counties WHERE county_id = $1", county_id)
    if row is None:
        return None
    townships = await conn.fetch(
        "SELECT t.township_id, t.name,"
        " (SELECT count(*) FROM dir_branches b WHERE b.township_id = t.township_id AND b.active)"
        "   AS branches,"
        " (SELECT count(*) FROM board_pledges p WHERE p.township_id = t.township_id"
        "   AND p.status = 'published') AS pledges,"
        " (SELECT count(*) FROM board_items i JOIN board_pledges p USING (pledge_id)"
        "   WHERE p.township_id = t.township_id AND i.published AND i.closed_at IS NULL)"
        "   AS open_items,"
        " (SELECT count(*) FROM board_items i JOIN board_pledges p USING (pledge_id)"
        "   WHERE p.township_id = t.township_id AND i.published AND i.closed_at IS NOT NULL)"
        "   AS closed_items"
        " FROM dir_townships t WHERE t.county_id = $1 ORDER BY t.name",
        county_id,
    )
    return {**dict(row), "townships": _rows(townships)}


async def township(conn: asyncpg.Connection, township_id: str) -> dict[str, Any] | None:
    row = await conn.fetchrow(
        "SELECT t.*, c.name AS county_name FROM dir_townships t"
        " LEFT JOIN board_counties c USING (county_id) WHERE township_id = $1",
        township_id,
    )
    if row is None:
        return None
    branches = await conn.fetch(
        "SELECT b.branch_id, b.name, b.kind,"
        " (SELECT name FROM dir_members m WHERE m.member_id = b.secretary_id) AS secretary,"
        " (SELECT count(*) FROM board_pledges p WHERE p.branch_id = b.branch_id"
        "   AND p.status = 'published') AS pledges,"
        " (SELECT count(*) FROM board_items i JOIN board_pledges p USING (pledge_id)"
        "   WHERE p.branch_id = b.branch_id AND i.published AND i.closed_at IS NULL) AS open_items,"
        " (SELECT count(*) FROM board_reviews r WHERE r.branch_id = b.branch_id) AS reviews"
        " FROM dir_branches b WHERE b.township_id = $1 AND b.active ORDER BY b.name",
        township_id,
    )
    return {
        **dict(row),
        "branches": _rows(branches),
        "rounds": await rounds(conn, township_id=township_id),
        "ratings": _rows(
            await conn.fetch(
                "SELECT * FROM board_ratings WHERE township_id = $1"
                " AND level = 'township_rates_branches' ORDER BY published_on DESC, rating_id",
                township_id,
            ),
            "results",
        ),
        "notices": await selection_notices(conn, township_id=township_id),
        "commendations": await commendations(conn, township_id=township_id),
        "bulletins": _rows(
            await conn.fetch(
                "SELECT * FROM bulletins WHERE township_id = $1"
                " ORDER BY issued_on DESC, bulletin_id LIMIT 12",
                township_id,
            ),
            "branches",
            "guidance",
            "publicity",
        ),
    }


async def rounds(
    conn: asyncpg.Connection, *, township_id: str, branch_id: str | None = None
) -> list[dict[str, Any]]:
    found = _rows(
        await conn.fetch(
            "SELECT * FROM board_rounds WHERE township_id = $1"
            " ORDER BY published_on DESC, round_id",
            township_id,
        ),
        "results",
    )
    if branch_id is not None:
        for r in found:
            r["results"] = [
                x
                for x in r["results"]
                if x.get("branch_id") == branch_id or x["subject_id"] == branch_id
            ]
        found = [r for r in found if r["results"]]
    return found


async def commendations(
    conn: asyncpg.Connection, *, township_id: str, branch_id: str | None = None
) -> list[dict[str, Any]]:
    found = _rows(
        await conn.fetch(
            "SELECT * FROM board_commendations WHERE township_id = $1"
            " ORDER BY issued_on DESC, selection_id",
            township_id,
        ),
        "awardees",
    )
    if branch_id is not None:
        for c in found:
            c["awardees"] = [
                a for a in c["awardees"] if branch_id in (a.get("branch_id"), a["subject_id"])
            ]
        found = [c for c in found if c["awardees"]]
    return found


async def selection_notices(conn: asyncpg.Connection, *, township_id: str) -> list[dict[str, Any]]:
    """S3: selections posted for public notice and not yet commended, with the finalists
    still standing (an upheld objection takes one off) and how many objections are open."""
    rows = await conn.fetch(
        "SELECT s.selection_id, s.title, s.year, s.subject_kind, n.posted_on, n.notice_until,"
        " (SELECT coalesce(jsonb_agg(c.subject_name ORDER BY c.subject_name), '[]')"
        "   FROM board_candidates c WHERE c.selection_id = s.selection_id"
        "   AND n.finalists ? c.subject_id AND NOT EXISTS (SELECT 1 FROM board_objections o"
        "     WHERE o.selection_id = s.selection_id AND o.subject_id = c.subject_id AND o.upheld))"
        "   AS finalists,"
        " (SELECT count(*) FROM board_objections o WHERE o.selection_id = s.selection_id"
        "   AND o.upheld IS NULL) AS objections_open"
        " FROM board_selections s JOIN board_notices n USING (selection_id)"
        " WHERE s.township_id = $1 AND NOT EXISTS"
        " (SELECT 1 FROM board_commendations m WHERE m.selection_id = s.selection_id)"
        " ORDER BY n.posted_on DESC, s.selection_id",
        township_id,
    )
    return _rows(rows, "finalists")


async def pledge_cards(
    conn: asyncpg.Connection, *, branch_id: str | None = None, pledge_id: str | None = None
) -> list[dict[str, Any]]:
    pledges = await conn.fetch(
        "SELECT p.*, b.name AS branch_name, m.post FROM board_pledges p"
        " LEFT JOIN dir_branches b USING (branch_id)"
        " LEFT JOIN dir_members m ON m.member_id = p.member_id"
        " WHERE p.status = 'published' AND ($1::text IS NULL OR p.branch_id = $1)"
        " AND ($2::text IS NULL OR p.pledge_id = $2)"
        " ORDER BY p.year DESC, p.pledger_kind, p.pledger_name",
        branch_id,
        pledge_id,
    )
    cards = []
    for p in pledges:
        items = _rows(
            await conn.fetch(
                "SELECT * FROM board_items WHERE pledge_id = $1 AND published ORDER BY position",
                p["pledge_id"],
            ),
            "photos",
        )
        for i in items:
            i["closing_reasons"] = closing_reasons(i) if i["closed_at"] else []
        cards.append({**dict(p), "items": items})
    return cards


async def not_public(conn: asyncpg.Connection, branch_id: str) -> dict[str, Any] | None:
    """P7: whose pledge of the branch's latest pledge year is not public yet: the branch
    and each current member, with how far it got (approved, or not approved yet)."""
    year = await conn.fetchval(
        "SELECT max(year) FROM board_pledges WHERE branch_id = $1", branch_id
    )
    if year is None:
        return None
    rows = await conn.fetch(
        "SELECT b.name, p.status FROM dir_branches b LEFT JOIN board_pledges p"
        " ON p.branch_id = b.branch_id AND p.member_id IS NULL AND p.year = $2"
        " WHERE b.branch_id = $1"
        " UNION ALL SELECT m.name, p.status FROM dir_members m LEFT JOIN board_pledges p"
        " ON p.member_id = m.member_id AND p.year = $2"
        " WHERE m.branch_id = $1 AND m.active",
        branch_id,
        year,
    )
    pending = [
        {"name": r["name"], "approved": r["status"] == "approved"}
        for r in rows
        if r["status"] != "published"
    ]
    return {"year": year, "pledgers": pending}


async def branch(conn: asyncpg.Connection, branch_id: str) -> dict[str, Any] | None:
    row = await conn.fetchrow(
        "SELECT b.*, t.name AS township_name,"
        " (SELECT name FROM dir_members m WHERE m.member_id = b.secretary_id) AS secretary"
        " FROM dir_branches b LEFT JOIN dir_townships t USING (township_id)"
        " WHERE b.branch_id = $1",
        branch_id,
    )
    if row is None:
        return None
    township_id = row["township_id"]
    cards = await pledge_cards(conn, branch_id=branch_id)
    items = [dict(i, pledger_name=c["pledger_name"]) for c in cards for i in c["items"]]
    return {
        **dict(row),
        "cards": cards,
        "not_public": await not_public(conn, branch_id),
        "open_items": [i for i in items if not i["closed_at"]],
        "closed_items": [i for i in items if i["closed_at"]],
        "reviews": _rows(
            await conn.fetch(
                "SELECT * FROM board_reviews WHERE branch_id = $1 AND corrected_by IS NULL"
                " ORDER BY held_on DESC, review_id",
                branch_id,
            )
        ),
        "visits": _rows(
            await conn.fetch(
                "SELECT * FROM board_visits WHERE branch_id = $1 ORDER BY visited_on DESC",
                branch_id,
            )
        ),
        "rounds": await rounds(conn, township_id=township_id, branch_id=branch_id),
        "ratings": _rows(
            await conn.fetch(
                "SELECT * FROM board_ratings WHERE branch_id = $1"
                " ORDER BY published_on DESC, rating_id",
                branch_id,
            ),
            "results",
        ),
        "commendations": await commendations(conn, township_id=township_id, branch_id=branch_id),
    }


# --- the API's reads (N3, N4, N5, X2) ----------------------------------------------------


async def inbox(
    conn: asyncpg.Connection, addresses: list[str], *, unread: bool, limit: int, offset: int
) -> dict[str, Any]:
    """A person's notices, newest first, and how many of all of them are unread."""
    rows = await conn.fetch(
        "SELECT notice_id, kind, title, body, due_on, deadline_id, township_id, issued_at,"
        " read_at FROM notices WHERE recipient = ANY($1) AND (NOT $2 OR read_at IS NULL)"
        " ORDER BY issued_at DESC, notice_id LIMIT $3 OFFSET $4",
        addresses,
        unread,
        limit,
        offset,
    )
    count = await conn.fetchval(
        "SELECT count(*) FROM notices WHERE recipient = ANY($1) AND read_at IS NULL",
        addresses,
    )
    return {"unread": count, "notices": [dict(r) for r in rows]}


async def bulletins(conn: asyncpg.Connection, township_id: str) -> list[dict[str, Any]]:
    rows = await conn.fetch(
        "SELECT * FROM bulletins WHERE township_id = $1 ORDER BY issued_on DESC, bulletin_id",
        township_id,
    )
    return _rows(rows, "branches", "guidance", "publicity")


async def channels(
    conn: asyncpg.Connection, county_id: str, township_id: str | None = None
) -> list[dict[str, Any]]:
    rows = await conn.fetch(
        "SELECT channel_id, county_id, township_id, kind, name, shown_as, release_types, active"
        " FROM channels WHERE county_id = $1 AND ($2::text IS NULL OR township_id = $2)"
        " ORDER BY channel_id",
        county_id,
        township_id,
    )  # never the secrets
    return [{**dict(r), "release_types": json.loads(r["release_types"])} for r in rows]


async def deliveries(
    conn: asyncpg.Connection, county_id: str, status: str | None, *, limit: int, offset: int
) -> list[dict[str, Any]]:
    rows = await conn.fetch(
        "SELECT d.delivery_id, d.channel_id, d.township_id, d.release_id, d.release_type,"
        " d.subject, d.status, d.attempts, d.next_attempt_at, d.last_error, d.updated_at"
        " FROM deliveries d JOIN channels c USING (channel_id) WHERE c.county_id = $1"
        " AND ($2::text IS NULL OR d.status = $2)"
        " ORDER BY d.updated_at, d.delivery_id LIMIT $3 OFFSET $4",
        county_id,
        status,
        limit,
        offset,
    )
    return [dict(r) for r in rows]


async def releases(
    conn: asyncpg.Connection,
    *,
    since: int,
    limit: int,
    type: str | None,
    township_id: str | None,
    county_id: str | None,
) -> dict[str, Any]:
    """X2: a page of releases after position `since`."""
    async with conn.transaction():
        # Positions are taken before their transactions commit, so a release can commit after
        # one with a higher position. Holding back every writer for the length of this read
        # (each takes one of these locks before its position) means every position below the
        # ones we return has committed: a reader paging with `since` never steps past one.
        await conn.execute("LOCK TABLE partition_heads, consumer_positions IN SHARE MODE")
        rows = await conn.fetch(
            "SELECT * FROM releases WHERE position > $1 AND ($3::text IS NULL OR type = $3)"
            " AND ($4::text IS NULL OR township_id = $4) AND ($5::text IS NULL OR county_id = $5)"
            " ORDER BY position LIMIT $2 + 1",
            since,
            limit,
            type,
            township_id,
            county_id,
        )
    page = [
        {**dict(r), "id": str(r["id"]), "content": json.loads(r["content"])} for r in rows[:limit]
    ]
    return {
        "releases": page,
        "next_since": page[-1]["position"] if page else since,
        "more": len(rows) > limit,
    }


async def release(conn: asyncpg.Connection, release_id: str) -> asyncpg.Record | None:
    """A release as the outbound channels are handed it (N5)."""
    row: asyncpg.Record | None = await conn.fetchrow(
        "SELECT type, township_id, subject, content FROM releases WHERE id = $1", release_id
    )
    return row


# --- the county's calendar for a year (N3): the one set here, or the default one, with the
# other services' deadlines on their owners' dates (P6: the pledge service's drafting
# deadline; E4: the evaluation service's round closing dates), read from this service's
# copies of their calendar events


async def owners_calendars(
    conn: asyncpg.Connection, county_id: str, year: int
) -> tuple[date | None, tuple[date, date] | None, date | None]:
    """The drafting deadline, the rounds' closing dates and the publication deadline as
    their owners set them, if they did."""
    pledge = await conn.fetchrow(
        "SELECT drafting_deadline, publication_deadline FROM pledge_calendars"
        " WHERE county_id = $1 AND year = $2",
        county_id,
        year,
    )
    drafting = pledge["drafting_deadline"] if pledge else None
    publication = pledge["publication_deadline"] if pledge else None
    rounds = await conn.fetchrow(
        "SELECT first_round_closes, second_round_closes FROM evaluation_calendars"
        " WHERE county_id = $1 AND year = $2",
        county_id,
        year,
    )
    closing = (rounds["first_round_closes"], rounds["second_round_closes"]) if rounds else None
    return drafting, closing, publication


async def deadlines(conn: asyncpg.Connection, county_id: str, year: int) -> tuple[Deadline, ...]:
    """The county's calendar for the year as set (N3), or the default one."""
    drafting, rounds, publication = await owners_calendars(conn, county_id, year)
    found = await conn.fetchval(
        "SELECT deadlines FROM calendars WHERE county_id = $1 AND year = $2", county_id, year
    )
    if found is None:
        return default_deadlines(year, drafting, rounds, publication)
    kept = tuple(Deadline.model_validate(d) for d in json.loads(found))
    return follow_owners(kept, owned_dates(year, drafting, rounds, publication))


# --- the clock-driven work's reads (N3, N4, N5) ------------------------------------------


async def notices_sent(
    conn: asyncpg.Connection, township_id: str, deadline: Deadline, kind: str
) -> set[str]:
    """The recipients of a deadline's notices of one kind already issued in a township."""
    rows = await conn.fetch(
        "SELECT recipient FROM notices WHERE township_id = $1 AND deadline_id = $2 AND kind = $3",
        township_id,
        deadline.deadline_id,
        kind,
    )
    return {r["recipient"] for r in rows}


async def townships(conn: asyncpg.Connection) -> list[asyncpg.Record]:
    """Each township with the moment it was established (its directory copy's first event)."""
    rows: list[asyncpg.Record] = await conn.fetch(
        "SELECT t.township_id, t.county_id, (SELECT min(h.at) FROM dir_history h"
        " WHERE h.subject_id = t.township_id AND h.change = 'TownshipEstablished')"
        " AS established FROM dir_townships t ORDER BY t.township_id"
    )
    return rows


async def regular_bulletins(conn: asyncpg.Connection, period: str) -> set[str]:
    """The townships whose regular bulletin of the period was issued."""
    rows = await conn.fetch(
        "SELECT township_id FROM bulletins WHERE regular AND period = $1", period
    )
    return {r["township_id"] for r in rows}


async def phone_of(conn: asyncpg.Connection, person_id: str) -> str | None:
    """The phone a person's notices go to by SMS, opened; None if none or erased (A7)."""
    sealed = await conn.fetchval("SELECT phone FROM contacts WHERE person_id = $1", person_id)
    if sealed is None:
        return None
    fields = await unseal(conn, json.loads(sealed))
    return None if fields is None else fields.get("phone")


async def due_deliveries(conn: asyncpg.Connection, now: datetime) -> list[asyncpg.Record]:
    """The deliveries due for an attempt, with their channel's kind, address and secret."""
    rows: list[asyncpg.Record] = await conn.fetch(
        "SELECT d.*, c.kind, s.target, s.secret, c.active FROM deliveries d"
        " JOIN channels c USING (channel_id)"
        " LEFT JOIN public.channel_secrets s USING (channel_id)"
        " WHERE d.status = 'pending'"
        " AND d.next_attempt_at <= $1 ORDER BY d.next_attempt_at, d.delivery_id"
        " LIMIT 100",
        now,
    )
    return rows


# --- supervision bulletins (N4): each branch's activity, counted from the events received


async def compile_branches(
    conn: asyncpg.Connection, township_id: str, period: str, on: date
) -> tuple[BranchRecord, ...]:
    """`period` is a month ("2027-03") for the regular bulletin; activity counts are for that
    month, or for the year to date when the period is not a month."""
    month = period if len(period) == 7 and period[4] == "-" else None
    rows = await conn.fetch(
        "SELECT b.branch_id, b.name,"
        " (SELECT name FROM dir_members m WHERE m.member_id = b.secretary_id) AS secretary,"
        " (SELECT count(*) FROM board_pledges p WHERE p.branch_id = b.branch_id"
        "   AND p.status = 'published' AND p.year = $3) AS pledges,"
        " (SELECT count(*) FROM board_reviews r WHERE r.branch_id = b.branch_id"
        "   AND r.corrected_by IS NULL AND ($2::text IS NULL OR to_char(r.held_on, 'YYYY-MM') = $2)"
        "   AND extract(year FROM r.held_on) = $3) AS reviews,"
        # the branch's members whose monthly journal was presented and evaluated (R6), not
        # entries made, nor members who have left since (the count is set against them)
        " (SELECT count(DISTINCT p.member_id) FROM board_presentations p"
        "   JOIN dir_members m ON m.member_id = p.member_id AND m.active"
        "   AND m.branch_id = b.branch_id WHERE p.branch_id = b.branch_id"
        "   AND ($2::text IS NULL OR p.month = $2) AND p.month LIKE $3::text || '-%') AS journals,"
        " (SELECT count(*) FROM board_visits v WHERE v.branch_id = b.branch_id"
        "   AND ($2::text IS NULL OR to_char(v.visited_on, 'YYYY-MM') = $2)"
        "   AND extract(year FROM v.visited_on) = $3) AS visits,"
        " (SELECT count(*) FROM board_items i JOIN board_pledges p USING (pledge_id)"
        "   WHERE p.branch_id = b.branch_id AND i.published AND i.closed_at IS NULL) AS open_items,"
        " (SELECT count(*) FROM board_items i JOIN board_pledges p USING (pledge_id)"
        "   WHERE p.branch_id = b.branch_id AND i.published AND i.closed_at IS NULL"
        "   AND i.due_date < $4) AS overdue_items,"
        " (SELECT count(*) FROM dir_members m WHERE m.branch_id = b.branch_id AND m.active)"
        "   AS members,"
        # P7: approved and not yet published; P6: approved after the drafting deadline
        " (SELECT count(*) FROM board_pledges p WHERE p.branch_id = b.branch_id"
        "   AND p.status = 'approved' AND p.year = $3) AS unpublished,"
        " (SELECT count(*) FROM board_pledges p WHERE p.branch_id = b.branch_id"
        "   AND p.drafted_late AND p.year = $3) AS drafted_late,"
        # the secretary's own pledge and journal (N4: each secretary's work)
        " (SELECT p.status FROM board_pledges p WHERE p.member_id = b.secretary_id"
        "   AND p.year = $3) AS secretary_pledge,"
        " (SELECT count(*) FROM board_presentations p WHERE p.member_id = b.secretary_id"
        "   AND ($2::text IS NULL OR p.month = $2) AND p.month LIKE $3::text || '-%')"
        "   AS secretary_journal,"
        # the branch's activities: journal entries made, ratings published
        " (SELECT count(*) FROM board_journals j WHERE j.branch_id = b.branch_id"
        "   AND ($2::text IS NULL OR j.month = $2) AND j.month LIKE $3::text || '-%')"
        "   AS journal_entries,"
        " (SELECT count(*) FROM board_ratings r WHERE r.branch_id = b.branch_id"
        "   AND ($2::text IS NULL OR to_char(r.published_on, 'YYYY-MM') = $2)"
        "   AND extract(year FROM r.published_on) = $3) AS ratings"
        " FROM dir_branches b WHERE b.township_id = $1 AND b.active ORDER BY b.branch_id",
        township_id,
        month,
        int(month[:4]) if month else on.year,
        on,
    )
    published = await _publicity(conn, township_id, month, int(month[:4]) if month else on.year)
    return tuple(
        branch_record(
            {**dict(r), **branch_work(dict(r)), "publicity": published.get(r["branch_id"], [])}
        )
        for r in rows
    )


def branch_work(r: dict[str, Any]) -> dict[str, list[str]]:
    """N4: a branch's line as the seed lists it, in words: its secretary's own work and the
    branch's activities (counts from compile_branches)."""
    work = []
    if r["secretary"]:
        work.append("本人承诺已公开" if r["secretary_pledge"] == "published" else "本人承诺未公开")
        work.append("本人纪实已讲评" if r["secretary_journal"] else "本人纪实未讲评")
        work.append(f"组织党员纪实讲评 {r['journals']}/{r['members']} 人")
        work.append(f"公开本支部承诺 {r['pledges']} 份")
    activities = [
        f"领导点评 {r['reviews']} 次",
        f"党员纪实 {r['journal_entries']} 篇",
        f"评星定级 {r['ratings']} 次",
        f"联系点指导 {r['visits']} 次",
    ]
    return {"secretary_work": work, "activities": activities}


async def _publicity(
    conn: asyncpg.Connection, township_id: str, month: str | None, year: int
) -> dict[str | None, list[str]]:
    """N4: what was published in the period, by branch (None: the township's own), as the
    releases feed holds it: "公开承诺 2 份"-like phrases."""
    rows = await conn.fetch(
        "SELECT content->>'branch_id' AS branch_id, type, count(*) AS n FROM releases"
        " WHERE township_id = $1 AND type <> 'bulletin'"
        " AND ($2::text IS NULL OR to_char(time, 'YYYY-MM') = $2)"
        " AND extract(year FROM time) = $3 GROUP BY 1, 2 ORDER BY 1, 2",
        township_id,
        month,
        year,
    )
    found: dict[str | None, list[str]] = {}
    for r in rows:
        found.setdefault(r["branch_id"], []).append(f"{zh.label(r['type'])} {r['n']} 条")
    return found


async def compile_township(
    conn: asyncpg.Connection, township_id: str, period: str, on: date
) -> tuple[tuple[CadreGuidance, ...], tuple[str, ...]]:
    """N4: each leading cadre's contact-point guidance in the period (which branch, how
    often), and what the township itself published (results, ratings, commendations)."""
    month = period if len(period) == 7 and period[4] == "-" else None
    year = int(month[:4]) if month else on.year
    rows = await conn.fetch(
        "SELECT min(v.cadre_name) AS cadre, v.branch_id, min(b.name) AS branch_name,"
        " count(*) AS visits FROM board_visits v LEFT JOIN dir_branches b USING (branch_id)"
        " WHERE v.township_id = $1"
        " AND ($2::text IS NULL OR to_char(v.visited_on, 'YYYY-MM') = $2)"
        " AND extract(year FROM v.visited_on) = $3"
        " GROUP BY coalesce(v.cadre_id, v.cadre_name), v.branch_id ORDER BY 1, 2",
        township_id,
        month,
        year,
    )
    guidance = tuple(
        CadreGuidance(
            cadre=r["cadre"],
            branch_id=r["branch_id"],
            branch_name=r["branch_name"] or r["branch_id"],
            visits=r["visits"],
        )
        for r in rows
    )
    published = await _publicity(conn, township_id, month, year)
    return guidance, tuple(published.get(None, []))


# --- who is responsible for a deadline in a township and has not done it yet (N3, P6)

# P6: finished drafting means what the pledge service's drafting report says: the pledge was
# approved (published comes after); drafted, proposed or returned for revision is not finished
FINISHED_DRAFTING = "('approved', 'published')"


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
    leadership team, is reviewed by the committee (nobody reviews themself). R1 (创先办安排负责人):
    each leader the office assigned to the branch now is chased for them too, in their own
    inbox (any entitled leader's review counts, so one review ends it for all)."""
    head = await conn.fetchval(
        "SELECT head_id FROM dir_townships WHERE township_id = $1", township_id
    )
    leaders: dict[str, list[str]] = {}
    for a in await conn.fetch(
        "SELECT branch_id, leader_id FROM branch_leaders WHERE township_id = $1"
        " ORDER BY branch_id, leader_id",
        township_id,
    ):
        leaders.setdefault(a["branch_id"], []).append(a["leader_id"])

    def reviewers(r: asyncpg.Record) -> list[str]:
        if not r["by_township"]:
            return [str(r["secretary_id"] or office(township_id))]
        first = township_reviewer(township_id, None if r["subject_id"] == head else head)
        also = leaders.get(r["branch_id"], [])
        return [first, *(a for a in also if a not in (first, r["subject_id"]))]

    return [
        (reviewer, r["name"])
        for r in await conn.fetch(UNREVIEWED, township_id, quarter)
        for reviewer in reviewers(r)
    ]


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
    if k is DeadlineKind.PUBLICATION:
        # P7: every approved pledge is published; the branch secretary publishes the
        # branch's and its members' (the office while the branch has no secretary)
        rows = await conn.fetch(
            "SELECT b.secretary_id, p.pledger_name FROM board_pledges p"
            " JOIN dir_branches b ON b.branch_id = p.branch_id AND b.active"
            " WHERE p.township_id = $1 AND p.year = $2 AND p.status = 'approved'"
            " ORDER BY p.branch_id, p.member_id NULLS FIRST",
            township_id,
            int(period),
        )
        return [(r["secretary_id"] or office(township_id), r["pledger_name"]) for r in rows]
    if k is DeadlineKind.QUARTERLY_PUSH:
        # P11: the township office pushes every published pledge of the year each quarter
        rows = await conn.fetch(
            "SELECT p.pledger_name FROM board_pledges p"
            " WHERE p.township_id = $1 AND p.year = $2 AND p.status = 'published'"
            " AND NOT EXISTS (SELECT 1 FROM board_pushes q WHERE q.pledge_id = p.pledge_id"
            " AND q.quarter = $3) ORDER BY p.branch_id, p.member_id NULLS FIRST",
            township_id,
            int(period[:4]),
            period,
        )
        return [(office(township_id), r["pledger_name"]) for r in rows]
    if k is DeadlineKind.JOURNAL_MEETING:
        # R6: each month the branch secretary holds the meeting where every current member's
        # work journal is presented and evaluated
        rows = await conn.fetch(
            "SELECT b.secretary_id, m.name FROM dir_members m"
            " JOIN dir_branches b ON b.branch_id = m.branch_id AND b.active"
            " WHERE m.township_id = $1 AND m.active AND NOT EXISTS (SELECT 1"
            " FROM board_presentations p WHERE p.member_id = m.member_id AND p.month = $2)"
            " ORDER BY m.branch_id, m.member_id",
            township_id,
            period,
        )
        return [(r["secretary_id"] or office(township_id), r["name"]) for r in rows]
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
            "SELECT 1 FROM board_commendations WHERE township_id = $1 AND year = $2"
            " AND level = 'township'",  # a branch's own selection is not the township's
            township_id,
            deadline.due_on.year,
        )
    return [] if done else [(office(township_id), deadline.title)]


# --- what the policies read of what happened elsewhere (policies.py) ----------------------


async def returned_to(
    conn: asyncpg.Connection, pledge_id: str, item_ids: tuple[str, ...]
) -> dict[str, Any] | None:
    """Whom a pledge returned for revision goes back to (P4): a member's pledge to the
    member, a branch's to its secretary; where, its year, the returned items' titles, the
    pledger's name, and the secretary who entered it on the member's behalf (`entered_by`,
    or None). None when nobody is there to tell (a branch without a secretary: the office
    reviews)."""
    row = await conn.fetchrow(
        "SELECT p.county_id, p.township_id, p.year, COALESCE(p.member_id, b.secretary_id)"
        " AS recipient, p.pledger_name, p.entered_by"
        " FROM board_pledges p LEFT JOIN dir_branches b USING (branch_id)"
        " WHERE p.pledge_id = $1",
        pledge_id,
    )
    if row is None or row["recipient"] is None:
        return None
    titles = await conn.fetch(
        "SELECT title FROM board_items WHERE pledge_id = $1 AND item_id = ANY($2::text[])"
        " ORDER BY position",
        pledge_id,
        list(item_ids),
    )
    return {**dict(row), "titles": [t["title"] for t in titles]}


async def pledge_township(conn: asyncpg.Connection, pledge_id: str) -> str | None:
    """The township of a pledge on the board (None: not known here)."""
    township: str | None = await conn.fetchval(
        "SELECT township_id FROM board_pledges WHERE pledge_id = $1", pledge_id
    )
    return township


async def unread_notices(
    conn: asyncpg.Connection, township_id: str, deadline_prefix: str
) -> list[dict[str, Any]]:
    """The township's notices not yet read whose deadline's id starts with `deadline_prefix`
    ("evaluation_round-", "returned-<pledge>-")."""
    rows = await conn.fetch(
        "SELECT notice_id, stream_id, county_id, deadline_id, kind, recipient FROM notices"
        " WHERE township_id = $1 AND read_at IS NULL AND starts_with(deadline_id, $2)"
        " ORDER BY notice_id",
        township_id,
        deadline_prefix,
    )
    return [dict(r) for r in rows]


# --- the port the command handlers and the policy read through (and keep a channel's secret
# through), on the command's transaction: `uow.port(queries.records)`; in memory in the
# handler tests (tests/support/notification.py)


@dataclass(frozen=True)
class NoticeRef:
    stream_id: str
    recipient: str
    township_id: str


@dataclass(frozen=True)
class Release:
    type: str
    township_id: str
    subject: str
    content: dict[str, Any]


class Records(Protocol):
    async def county_of_township(self, township_id: str) -> str | None: ...

    async def county_exists(self, county_id: str) -> bool: ...

    async def owners_calendars(
        self, county_id: str, year: int
    ) -> tuple[date | None, tuple[date, date] | None, date | None]: ...

    async def notice(self, notice_id: str) -> NoticeRef | None: ...

    async def channel_county(self, channel_id: str) -> str | None: ...

    async def subscribed_channels(
        self, release_type: str, township_id: str, recipient: str | None = None
    ) -> list[str]:
        """The active channels taking `release_type` of the township (its own and its
        county's), by id; an SMS channel only for a notice whose recipient has a phone."""
        ...

    async def person_place(self, person_id: str) -> tuple[str, str] | None:
        """A person of the directory copy: their county and township."""
        ...

    async def seal(self, person_id: str, fields: dict[str, str]) -> dict[str, str]:
        """Personal data sealed with the person's key, made on first use (A7)."""
        ...

    async def erase(self, person_id: str) -> None:
        """Destroy the person's key: what was sealed with it reads as erased (A7)."""
        ...

    async def compile_branches(
        self, township_id: str, period: str, on: date
    ) -> tuple[BranchRecord, ...]: ...

    async def compile_township(
        self, township_id: str, period: str, on: date
    ) -> tuple[tuple[CadreGuidance, ...], tuple[str, ...]]: ...

    async def release(self, release_id: str) -> Release | None: ...

    async def keep_secret(self, channel_id: str, target: str, secret: str | None) -> None:
        """A channel's address and signing secret, kept beside the log, never in an event."""
        ...


class PostgresRecords:
    def __init__(self, conn: asyncpg.Connection) -> None:
        self.conn = conn

    async def county_of_township(self, township_id: str) -> str | None:
        county: str | None = await self.conn.fetchval(
            "SELECT county_id FROM dir_townships WHERE township_id = $1", township_id
        )
        return county

    async def county_exists(self, county_id: str) -> bool:
        return bool(
            await self.conn.fetchval("SELECT 1 FROM board_counties WHERE county_id = $1", county_id)
        )

    async def owners_calendars(
        self, county_id: str, year: int
    ) -> tuple[date | None, tuple[date, date] | None, date | None]:
        return await owners_calendars(self.conn, county_id, year)

    async def notice(self, notice_id: str) -> NoticeRef | None:
        row = await self.conn.fetchrow(
            "SELECT stream_id, recipient, township_id FROM notices WHERE notice_id = $1",
            notice_id,
        )
        return None if row is None else NoticeRef(**dict(row))

    async def channel_county(self, channel_id: str) -> str | None:
        county: str | None = await self.conn.fetchval(
            "SELECT county_id FROM channels WHERE channel_id = $1", channel_id
        )
        return county

    async def subscribed_channels(
        self, release_type: str, township_id: str, recipient: str | None = None
    ) -> list[str]:
        rows = await self.conn.fetch(
            "SELECT channel_id FROM channels c WHERE active AND release_types ? $1"
            " AND (township_id = $2 OR (township_id IS NULL AND county_id ="
            "   (SELECT county_id FROM dir_townships WHERE township_id = $2)))"
            " AND (kind <> 'sms' OR EXISTS (SELECT 1 FROM contacts WHERE person_id = $3))"
            " ORDER BY channel_id",
            release_type,
            township_id,
            recipient,
        )
        return [r["channel_id"] for r in rows]

    async def person_place(self, person_id: str) -> tuple[str, str] | None:
        row = await self.conn.fetchrow(
            "SELECT t.county_id, t.township_id FROM dir_members m"
            " JOIN dir_townships t USING (township_id) WHERE m.member_id = $1 AND m.active"
            " UNION SELECT county_id, township_id FROM dir_townships WHERE head_id = $1"
            " LIMIT 1",
            person_id,
        )
        return None if row is None else (row["county_id"], row["township_id"])

    async def seal(self, person_id: str, fields: dict[str, str]) -> dict[str, str]:
        return await seal(self.conn, person_id, fields)

    async def erase(self, person_id: str) -> None:
        await destroy_key(self.conn, person_id)

    async def compile_branches(
        self, township_id: str, period: str, on: date
    ) -> tuple[BranchRecord, ...]:
        return await compile_branches(self.conn, township_id, period, on)

    async def compile_township(
        self, township_id: str, period: str, on: date
    ) -> tuple[tuple[CadreGuidance, ...], tuple[str, ...]]:
        return await compile_township(self.conn, township_id, period, on)

    async def release(self, release_id: str) -> Release | None:
        row = await release(self.conn, release_id)
        if row is None:
            return None
        return Release(
            type=row["type"],
            township_id=row["township_id"],
            subject=row["subject"],
            content=json.loads(row["content"]),
        )

    async def keep_secret(self, channel_id: str, target: str, secret: str | None) -> None:
        await self.conn.execute(
            "INSERT INTO public.channel_secrets (channel_id, target, secret) VALUES ($1, $2, $3)",
            channel_id,
            target,
            secret,
        )


def records(conn: asyncpg.Connection) -> Records:
    """The read models (and the channel secrets) on the command's transaction."""
    return PostgresRecords(conn)
