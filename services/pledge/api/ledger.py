"""The ledger (P8) as JSON and as an Excel workbook, and the township reports (P6, P11)."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from services.pledge import queries as q
from services.pledge.access import oversees_township
from services.pledge.documents.ledger_xlsx import ledger_workbook
from services.pledge.schemas import DraftingReport, LedgerPage, QuarterlyPushReport
from shared.auth import Principal, require_seen
from shared.http import PathId, QueryId, QueryOffset, QueryYear, Reader, SignedIn
from shared.workbook import xlsx_download

router = APIRouter(prefix="/v1", tags=["ledger"])

Status = Literal["open", "closed"]
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@router.get("/ledger", response_model=LedgerPage, operation_id="getLedger")
async def get_ledger(
    conn: Reader,
    township_id: QueryId | None = None,
    branch_id: QueryId | None = None,
    status: Status | None = None,
    year: QueryYear | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: QueryOffset = 0,
) -> Any:
    """Published items only, so the ledger is public (N1)."""
    return await q.ledger(
        conn,
        township_id=township_id,
        branch_id=branch_id,
        status=status,
        year=year,
        limit=limit,
        offset=offset,
    )


@router.get("/ledger.xlsx", operation_id="downloadLedger", responses={200: {"content": {XLSX: {}}}})
async def download_ledger(
    conn: Reader,
    request: Request,
    township_id: QueryId | None = None,
    branch_id: QueryId | None = None,
    status: Status | None = None,
    year: QueryYear | None = None,
) -> Response:
    page = await q.ledger(
        conn,
        township_id=township_id,
        branch_id=branch_id,
        status=status,
        year=year,
        limit=None,
        offset=0,
    )
    title = (f"{year}年" if year else "") + "公开承诺台账"
    zone = request.app.state.runtime.settings.local_timezone
    return xlsx_download(ledger_workbook(page["rows"], title, zone), "ledger.xlsx")


async def _overseer(conn: Any, who: Principal, township_id: str) -> None:
    town = await q.township(conn, township_id=township_id)
    require_seen(  # another county's township: as if there were none (X1)
        who,
        oversees_township(who, township_id, town["county_id"]),
        town["county_id"],
        "乡镇报表只供该乡镇党委、创先办，本县管理员和审计员查看。",
        q.no_township(township_id),
    )


@router.get(
    "/townships/{township_id}/drafting-report",
    response_model=DraftingReport,
    operation_id="getDraftingReport",
)
async def drafting_report(
    township_id: PathId, year: QueryYear, request: Request, conn: Reader, who: SignedIn
) -> Any:
    """P6: who has not finished drafting, against the county's deadline for the year."""
    await _overseer(conn, who, township_id)
    runtime = request.app.state.runtime
    today: date = runtime.clock.now().astimezone(runtime.settings.local_timezone).date()
    return await q.drafting_report(conn, township_id=township_id, year=year, today=today)


@router.get(
    "/townships/{township_id}/quarterly-pushes",
    response_model=QuarterlyPushReport,
    operation_id="getQuarterlyPushReport",
)
async def quarterly_pushes(
    township_id: PathId,
    quarter: Annotated[str, Query(pattern=r"^\d{4}Q[1-4]$")],
    conn: Reader,
    who: SignedIn,
) -> Any:
    await _overseer(conn, who, township_id)
    return await q.quarterly_push_report(conn, township_id=township_id, quarter=quarter)
