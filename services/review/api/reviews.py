"""Review routes (R1–R5): record, correct, the ledger (JSON and Excel), coverage."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from services.review import commands as c
from services.review import handlers as h
from services.review import queries as q
from services.review.access import sees_history
from services.review.api.deps import QUARTER_PATTERN
from services.review.documents.ledger_xlsx import review_workbook
from services.review.events import Cadence, Occasion, SubjectKind
from services.review.schemas import (
    Accepted,
    CoverageReport,
    ReviewPage,
    ReviewScales,
    ReviewWithHistory,
)
from shared import zh
from shared.auth import require, require_seen
from shared.directory import counties_of
from shared.http import (
    AsOf,
    CurrentPrincipal,
    IdempotencyDep,
    PathId,
    QueryId,
    QueryOffset,
    Reader,
    SignedIn,
    run,
)
from shared.workbook import xlsx_download

router = APIRouter(prefix="/v1", tags=["reviews"])

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
Quarter = Annotated[str, Query(pattern=QUARTER_PATTERN)]


@router.get("/review-scales", response_model=ReviewScales, operation_id="getReviewScales")
async def get_review_scales() -> Any:
    """R3: the dimensions each kind of review assesses (all required) and the grades, with
    their Chinese labels, so a form asks exactly what the service requires."""
    return q.review_scales()


@router.post("/reviews", status_code=201, response_model=Accepted, operation_id="recordReview")
async def record_review(
    cmd: c.RecordReview, request: Request, who: SignedIn, idem: IdempotencyDep
) -> Any:
    return await run(request, who, idem, lambda uow: h.record_review(uow, cmd, who))


@router.post(
    "/reviews/{review_id}/correction",
    status_code=201,
    response_model=Accepted,
    operation_id="correctReview",
)
async def correct_review(
    review_id: PathId, cmd: c.CorrectReview, request: Request, who: SignedIn, idem: IdempotencyDep
) -> Any:
    return await run(request, who, idem, lambda uow: h.correct_review(uow, review_id, cmd, who))


HISTORY_IS_FOR_STAFF = "点评的历史版本只供审计员和该乡镇的工作人员查看。"


@router.get("/reviews", response_model=ReviewPage, operation_id="getReviewLedger")
async def get_ledger(
    conn: Reader,
    who: CurrentPrincipal,
    township_id: QueryId | None = None,
    branch_id: QueryId | None = None,
    subject_kind: SubjectKind | None = None,
    subject_id: QueryId | None = None,
    quarter: Quarter | None = None,
    occasion: Occasion | None = None,
    cadence: Cadence | None = None,
    include_superseded: bool = False,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: QueryOffset = 0,
    newest_first: bool = False,
) -> Any:
    """R4: the review ledger per township, branch or member, by quarter (`newest_first`: the
    latest quarter first); review activity is public (R5, N1), like the pledge ledger;
    superseded versions are not."""
    require(
        not include_superseded
        or sees_history(who, township_id, await counties_of(conn, township_id)),
        HISTORY_IS_FOR_STAFF,
    )
    return await q.review_ledger(
        conn,
        township_id=township_id,
        branch_id=branch_id,
        subject_kind=subject_kind,
        subject_id=subject_id,
        quarter=quarter,
        occasion=occasion,
        cadence=cadence,
        include_superseded=include_superseded,
        limit=limit,
        offset=offset,
        newest_first=newest_first,
    )


@router.get(
    "/reviews.xlsx", operation_id="downloadReviewLedger", responses={200: {"content": {XLSX: {}}}}
)
async def download_ledger(
    conn: Reader,
    who: CurrentPrincipal,
    township_id: QueryId | None = None,
    branch_id: QueryId | None = None,
    subject_kind: SubjectKind | None = None,
    subject_id: QueryId | None = None,
    quarter: Quarter | None = None,
    occasion: Occasion | None = None,
    cadence: Cadence | None = None,
    include_superseded: bool = False,
) -> Response:
    """R4: the ledger as a workbook, with the same filters as the JSON ledger."""
    require(
        not include_superseded
        or sees_history(who, township_id, await counties_of(conn, township_id)),
        HISTORY_IS_FOR_STAFF,
    )
    page = await q.review_ledger(
        conn,
        township_id=township_id,
        branch_id=branch_id,
        subject_kind=subject_kind,
        subject_id=subject_id,
        quarter=quarter,
        occasion=occasion,
        cadence=cadence,
        include_superseded=include_superseded,
        limit=None,
        offset=0,
    )
    title = (f"{zh.period(quarter)} " if quarter else "") + "领导点评台账"
    return xlsx_download(review_workbook(page["rows"], title), "reviews.xlsx")


@router.get("/reviews/{review_id}", response_model=ReviewWithHistory, operation_id="getReview")
async def get_review(review_id: PathId, conn: Reader, who: SignedIn) -> Any:
    """The current version and every superseded one, for auditors and staff."""
    # first whoever sees some history (the token's own place), then this review's
    require(sees_history(who, who.org, {who.org}), "点评的修改记录只供审计员和工作人员查看。")
    found = await q.review(conn, review_id=review_id)
    counties = await counties_of(conn, found["township_id"])
    require_seen(  # another county's review: as if there were none (X1)
        who,
        sees_history(who, found["township_id"], counties),
        next(iter(counties)),
        "这是其他乡镇（或其他县）的点评修改记录：只能查看本乡镇、本县的。",
        q.no_review(review_id),
    )
    return found


@router.get(
    "/townships/{township_id}/coverage",
    response_model=CoverageReport,
    operation_id="getReviewCoverage",
)
async def get_coverage(
    township_id: PathId,
    quarter: Quarter,
    conn: Reader,
    as_of: AsOf | None = None,
) -> Any:
    """R5: every active branch and member not yet reviewed in the quarter; with `as_of`
    (a moment; a bare date means its start, local time), as it stood then (A3: `Reader`
    serves the read models as of that moment)."""
    return {**await q.coverage(conn, township_id=township_id, quarter=quarter), "as_of": as_of}
