"""The county's calendar for a year as the scheduler and the API read it (N3): the one set
here, or the default one, with the other services' deadlines on their owners' dates (P6:
the pledge service's drafting deadline; E4: the evaluation service's round closing dates),
read from this service's copies of their calendar events."""

from __future__ import annotations

import json
from datetime import date

import asyncpg

from services.notification.calendar import default_deadlines, follow_owners, owned_dates
from services.notification.events import Deadline


async def owners_calendars(
    conn: asyncpg.Connection, county_id: str, year: int
) -> tuple[date | None, tuple[date, date] | None]:
    """The drafting deadline and the rounds' closing dates as their owners set them, if
    they did."""
    drafting = await conn.fetchval(
        "SELECT drafting_deadline FROM pledge_calendars WHERE county_id = $1 AND year = $2",
        county_id,
        year,
    )
    rounds = await conn.fetchrow(
        "SELECT first_round_closes, second_round_closes FROM evaluation_calendars"
        " WHERE county_id = $1 AND year = $2",
        county_id,
        year,
    )
    closing = (rounds["first_round_closes"], rounds["second_round_closes"]) if rounds else None
    return drafting, closing


async def deadlines(conn: asyncpg.Connection, county_id: str, year: int) -> tuple[Deadline, ...]:
    """The county's calendar for the year as set (N3), or the default one."""
    drafting, rounds = await owners_calendars(conn, county_id, year)
    found = await conn.fetchval(
        "SELECT deadlines FROM calendars WHERE county_id = $1 AND year = $2", county_id, year
    )
    if found is None:
        return default_deadlines(year, drafting, rounds)
    kept = tuple(Deadline.model_validate(d) for d in json.loads(found))
    return follow_owners(kept, owned_dates(year, drafting, rounds))
