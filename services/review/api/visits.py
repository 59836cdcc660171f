"""Contact-point guidance visit routes (R7), for the supervision bulletin (N4)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request

from services.review import commands as c
from services.review import handlers as h
from services.review import queries as q
from services.review.schemas import Accepted, VisitPage
from shared.http import IdempotencyDep, QueryId, QueryOffset, Reader, SignedIn, run

router = APIRouter(prefix="/v1/visits", tags=["visits"])


@router.post("", status_code=201, response_model=Accepted, operation_id="recordGuidanceVisit")
async def record_visit(
    cmd: c.RecordGuidanceVisit, request: Request, who: SignedIn, idem: IdempotencyDep
) -> Any:
    return await run(request, who, idem, lambda uow: h.record_visit(uow, cmd, who))


@router.get("", response_model=VisitPage, operation_id="listGuidanceVisits")
async def list_visits(
    conn: Reader,
    township_id: QueryId | None = None,
    branch_id: QueryId | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: QueryOffset = 0,
) -> Any:
    return await q.visits(
        conn, township_id=township_id, branch_id=branch_id, limit=limit, offset=offset
    )
