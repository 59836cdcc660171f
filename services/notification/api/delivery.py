"""Outbound channels and their deliveries (N5): register, retire, the dead-letter list and
an operator's redelivery; the phone a person's notices go to by SMS."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request

from services.notification import commands as c
from services.notification import handlers as h
from services.notification import queries as q
from services.notification.schemas import Accepted, ChannelAccepted, Channels, Deliveries
from shared.auth import Role, auditor_of, county_admin, require
from shared.http import IdempotencyDep, PathId, QueryId, QueryOffset, Reader, SignedIn, run
from shared.sms import SmsSettings

router = APIRouter(prefix="/v1", tags=["delivery"])


@router.post(
    "/channels", status_code=201, response_model=ChannelAccepted, operation_id="registerChannel"
)
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


@router.get("/channels", response_model=Channels, operation_id="listChannels")
async def list_channels(
    county_id: QueryId, conn: Reader, who: SignedIn, township_id: QueryId | None = None
) -> Any:
    """The county's channels (its administrator, auditors); with `township_id` only that
    township's, which its office, who registers and retires them, lists too."""
    office = township_id is not None and who.is_(Role.TOWNSHIP_OFFICE, township_id)
    require(
        office or county_admin(who, county_id) or auditor_of(who, county_id),
        "推送渠道由县管理员和审计员查看，乡镇创先办可查看本乡镇的推送渠道。",
    )
    listed = await q.channels(conn, county_id, township_id)  # never the secrets
    return {"channels": listed, "sms_account": SmsSettings().sms_provider is not None}


@router.get("/deliveries", response_model=Deliveries, operation_id="listDeliveries")
async def list_deliveries(
    county_id: QueryId,
    conn: Reader,
    who: SignedIn,
    status: Literal["pending", "delivered", "dead"] | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: QueryOffset = 0,
) -> Any:
    """`status=dead` is the dead-letter list: deliveries given up, kept until redelivered."""
    require(
        county_admin(who, county_id) or auditor_of(who, county_id),
        "推送记录只供本县县管理员和审计员查看：请切换到县管理员或审计员身份。",
    )
    return {"deliveries": await q.deliveries(conn, county_id, status, limit=limit, offset=offset)}


@router.post(
    "/deliveries/{delivery_id}/redelivery", response_model=Accepted, operation_id="redeliver"
)
async def redeliver(
    delivery_id: PathId, request: Request, who: SignedIn, idem: IdempotencyDep
) -> Any:
    return await run(request, who, idem, lambda uow: h.redeliver(uow, delivery_id, who))


@router.post("/people/{person_id}/phone", response_model=Accepted, operation_id="registerPhone")
async def register_phone(
    person_id: PathId, cmd: c.RegisterPhone, request: Request, who: SignedIn, idem: IdempotencyDep
) -> Any:
    """The person's reminders and overdue notices also go by SMS where the county has an SMS
    channel; the number is kept only sealed (A7) and never shown again."""
    return await run(request, who, idem, lambda uow: h.register_phone(uow, person_id, cmd, who))


@router.post(
    "/people/{person_id}/phone/removal", response_model=Accepted, operation_id="removePhone"
)
async def remove_phone(
    person_id: PathId, request: Request, who: SignedIn, idem: IdempotencyDep
) -> Any:
    return await run(request, who, idem, lambda uow: h.remove_phone(uow, person_id, who))
