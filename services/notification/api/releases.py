"""X2: every published item as an immutable release, paged with `since=`, for systems that
cannot reach NATS."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel

from services.notification.commands import ReleaseType
from shared.http import BIGINT_MAX, QueryId, Reader

router = APIRouter(prefix="/v1", tags=["releases"])


class Release(BaseModel):
    id: str
    position: int
    time: datetime
    type: str
    township_id: str
    subject: str
    content: dict[str, Any]


class ReleasePage(BaseModel):
    releases: list[Release]
    next_since: int  # pass as `since` to read on
    more: bool


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
