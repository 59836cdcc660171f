"""Outbound channels and their deliveries (N5): register, retire, the dead-letter list and
an operator's redelivery."""

from __future__ import annotations

import json
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request

from services.notification import commands as c
from services.notification import handlers as h
from services.notification.api.calendar import Accepted
from shared.auth import Role, county_admin, require
from shared.http import IdempotencyDep, PathId, QueryId, QueryOffset, Reader, SignedIn, run

router = APIRouter(prefix="/v1", tags=["delivery"])


@router.post("/channels", status_code=201, operation_id="registerChannel")
async def register_channel(
    cmd: c.RegisterChannel, request: Request, who: SignedIn, idem: IdempotencyDep
) -> Any:
    return await run(request, who, idem, lambda uow: h.register_channel(uow, cmd, who))


@router.post(
    "/channels/{channel_id}/retirement", response_model=Accepted, operation_id="retireChannel"
)
async def retire_channel(
    channel_id: PathId, request: Request, who: SignedIn, idem: IdempotencyDep
) -> Any:
    return await run(request, who, idem, lambda uow: h.retire_channel(uow, channel_id, who))


@router.get("/channels", operation_id="listChannels")
async def list_channels(county_id: QueryId, conn: Reader, who: SignedIn) -> Any:
    require(county_admin(who, county_id) or who.role is Role.AUDITOR, "county administrator")
    rows = await conn.fetch(
        "SELECT channel_id, county_id, township_id, kind, name, shown_as, release_types, active"
        " FROM channels WHERE county_id = $1 ORDER BY channel_id",
        county_id,
    )  # never the secrets
    return {
        "channels": [{**dict(r), "release_types": json.loads(r["release_types"])} for r in rows]
    }


@router.get("/deliveries", operation_id="listDeliveries")
async def list_deliveries(
    county_id: QueryId,
    conn: Reader,
    who: SignedIn,
    status: Literal["pending", "delivered", "dead"] | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: QueryOffset = 0,
) -> Any:
    """`status=dead` is the dead-letter list: deliveries given up, kept until redelivered."""
    require(county_admin(who, county_id) or who.role is Role.AUDITOR, "county administrator")
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
    return {"deliveries": [dict(r) for r in rows]}


@router.post(
    "/deliveries/{delivery_id}/redelivery", response_model=Accepted, operation_id="redeliver"
)
async def redeliver(
    delivery_id: PathId, request: Request, who: SignedIn, idem: IdempotencyDep
) -> Any:
    return await run(request, who, idem, lambda uow: h.redeliver(uow, delivery_id, who))
