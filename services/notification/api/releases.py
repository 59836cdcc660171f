"""X2: every published item as an immutable release, paged with `since=`, for systems that
cannot reach NATS."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from services.notification import queries as q
from services.notification.commands import ReleaseType
from services.notification.schemas import ReleasePage
from shared.http import BIGINT_MAX, QueryId, Reader

router = APIRouter(prefix="/v1", tags=["releases"])


@router.get("/releases", response_model=ReleasePage, operation_id="listReleases")
async def list_releases(
    conn: Reader,
    since: Annotated[
        int, Query(ge=0, le=BIGINT_MAX, description="the last position already read")
    ] = 0,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    type: ReleaseType | None = None,
    township_id: QueryId | None = None,
    county_id: QueryId | None = None,
) -> Any:
    return await q.releases(
        conn, since=since, limit=limit, type=type, township_id=township_id, county_id=county_id
    )
