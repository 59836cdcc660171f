"""Deadlines as data (N3), the inbox per person (N5) and supervision bulletins (N4)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request

from services.notification import commands as c
from services.notification import handlers as h
from services.notification import queries as q
from services.notification.access import inbox_addresses
from services.notification.schemas import Accepted, Bulletins, CalendarView, Inbox
from shared.http import IdempotencyDep, PathId, PathYear, QueryOffset, Reader, SignedIn, run

router = APIRouter(prefix="/v1", tags=["reminders"])
Year = PathYear


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


@router.get(
    "/counties/{county_id}/calendars/{year}",
    response_model=CalendarView,
    operation_id="getCalendar",
)
async def get_calendar(county_id: PathId, year: Year, conn: Reader) -> Any:
    return {
        "county_id": county_id,
        "year": year,
        "deadlines": await q.deadlines(conn, county_id, year),
    }


@router.get("/inbox", response_model=Inbox, operation_id="getInbox")
async def inbox(
    conn: Reader,
    who: SignedIn,
    unread: bool = False,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: QueryOffset = 0,
) -> Any:
    return await q.inbox(conn, inbox_addresses(who), unread=unread, limit=limit, offset=offset)


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
    return await run(
        request, who, idem, lambda uow: h.issue_adhoc_bulletin(uow, township_id, cmd, who)
    )


@router.get(
    "/townships/{township_id}/bulletins", response_model=Bulletins, operation_id="listBulletins"
)
async def list_bulletins(township_id: PathId, conn: Reader) -> Any:
    return {"bulletins": await q.bulletins(conn, township_id)}
