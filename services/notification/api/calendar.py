"""Deadlines as data (N3), the inbox per person (N5) and supervision bulletins (N4)."""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel

from services.notification import commands as c
from services.notification import handlers as h
from services.notification.access import inbox_addresses, township_staff
from services.notification.bulletins import issue_bulletin
from services.notification.deadlines import deadlines
from shared.auth import require
from shared.http import IdempotencyDep, PathId, PathYear, QueryOffset, Reader, SignedIn, run

router = APIRouter(prefix="/v1", tags=["reminders"])
Year = PathYear


class Accepted(BaseModel):
    id: str
    events: list[str]


@router.post(
    "/counties/{county_id}/calendars/{year}", response_model=Accepted, operation_id="setCalendar"
)
async def set_calendar(
    county_id: PathId,
    year: Year,
    cmd: c.SetCalendar,
    request: Request,
    who: SignedIn,
    idem: IdempotencyDep,
) -> Any:
    return await run(request, who, idem, lambda uow: h.set_calendar(uow, county_id, year, cmd, who))


@router.get("/counties/{county_id}/calendars/{year}", operation_id="getCalendar")
async def get_calendar(county_id: PathId, year: Year, conn: Reader) -> Any:
    return {
        "county_id": county_id,
        "year": year,
        "deadlines": [d.model_dump(mode="json") for d in await deadlines(conn, county_id, year)],
    }


@router.get("/inbox", operation_id="getInbox")
async def inbox(
    conn: Reader,
    who: SignedIn,
    unread: bool = False,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: QueryOffset = 0,
) -> Any:
    rows = await conn.fetch(
        "SELECT notice_id, kind, title, body, due_on, deadline_id, township_id, issued_at,"
        " read_at FROM notices WHERE recipient = ANY($1) AND (NOT $2 OR read_at IS NULL)"
        " ORDER BY issued_at DESC, notice_id LIMIT $3 OFFSET $4",
        inbox_addresses(who),
        unread,
        limit,
        offset,
    )
    count = await conn.fetchval(
        "SELECT count(*) FROM notices WHERE recipient = ANY($1) AND read_at IS NULL",
        inbox_addresses(who),
    )
    return {"unread": count, "notices": [dict(r) for r in rows]}


@router.post("/inbox/{notice_id}/read", response_model=Accepted, operation_id="markNoticeRead")
async def mark_read(
    notice_id: PathId, request: Request, who: SignedIn, idem: IdempotencyDep
) -> Any:
    return await run(request, who, idem, lambda uow: h.mark_read(uow, notice_id, who))


@router.post(
    "/townships/{township_id}/bulletins",
    status_code=201,
    response_model=Accepted,
    operation_id="issueBulletin",
)
async def issue_adhoc_bulletin(
    township_id: PathId,
    cmd: c.IssueBulletin,
    request: Request,
    who: SignedIn,
    idem: IdempotencyDep,
) -> Any:
    async def work(uow: Any) -> Any:
        county = await h.county_of_township(uow, township_id)
        require(township_staff(who, township_id, county), "only the township's staff")
        return await issue_bulletin(
            uow, township_id, period=None, regular=False, title=cmd.title, note=cmd.note
        )

    return await run(request, who, idem, work)


@router.get("/townships/{township_id}/bulletins", operation_id="listBulletins")
async def list_bulletins(township_id: PathId, conn: Reader) -> Any:
    rows = await conn.fetch(
        "SELECT * FROM bulletins WHERE township_id = $1 ORDER BY issued_on DESC, bulletin_id",
        township_id,
    )
    return {"bulletins": [{**dict(r), "branches": json.loads(r["branches"])} for r in rows]}
