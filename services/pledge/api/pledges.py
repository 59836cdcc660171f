"""Pledge routes (P1–P11): draft, opinions, proposal, review, publication, fulfilment."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from services.pledge import commands as c
from services.pledge import handlers as h
from services.pledge import queries as q
from services.pledge.access import sees_pledge
from services.pledge.documents.letter import pledge_letter_html
from services.pledge.events import PledgeStatus
from services.pledge.schemas import Accepted, PledgePage, PledgeView
from shared.auth import Principal, Role
from shared.errors import NotFound
from shared.http import (
    CurrentPrincipal,
    IdempotencyDep,
    PathId,
    QueryId,
    QueryOffset,
    QueryYear,
    Reader,
    SignedIn,
    run,
)

router = APIRouter(prefix="/v1/pledges", tags=["pledges"])


async def visible_pledge(conn: Any, pledge_id: str, who: Principal) -> Any:
    row = await q.pledge_row(conn, pledge_id=pledge_id)
    if not sees_pledge(who, row):
        raise NotFound(
            f"没有找到承诺 {pledge_id}：请核对后再试。"
        )  # unpublished: not even its existence
    return row


@router.post("", status_code=201, response_model=Accepted, operation_id="draftPledge")
async def draft(cmd: c.DraftPledge, request: Request, who: SignedIn, idem: IdempotencyDep) -> Any:
    return await run(request, who, idem, lambda uow: h.draft_pledge(uow, cmd, who))


@router.get("", response_model=PledgePage, operation_id="listPledges")
async def list_pledges(
    conn: Reader,
    who: CurrentPrincipal,
    township_id: QueryId | None = None,
    branch_id: QueryId | None = None,
    year: QueryYear | None = None,
    status: PledgeStatus | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: QueryOffset = 0,
    member_id: QueryId | None = None,
) -> Any:
    # Unpublished pledges are listed only to people who oversee the whole township or county
    # (the county's administrator and auditors: of their own county's townships, X1), the
    # branch's secretary, and a member asking for their own.
    overseer = (
        (who.role in (Role.TOWNSHIP_COMMITTEE, Role.TOWNSHIP_OFFICE) and who.org == township_id)
        or (who.role is Role.BRANCH_SECRETARY and who.org == branch_id)
        or (who.role is Role.MEMBER and member_id is not None and who.subject == member_id)
    )
    county = who.org if who.role in (Role.AUDITOR, Role.COUNTY_ADMIN) and who.org else None
    return await q.pledges(
        conn,
        township_id=township_id,
        branch_id=branch_id,
        year=year,
        status=status,
        member_id=member_id,
        published_only=not overseer,
        unpublished_of=None if overseer else county,
        limit=limit,
        offset=offset,
    )


@router.get("/{pledge_id}", response_model=PledgeView, operation_id="getPledge")
async def get_pledge(pledge_id: PathId, conn: Reader, who: CurrentPrincipal) -> Any:
    return await q.pledge(conn, row=await visible_pledge(conn, pledge_id, who))


@router.get("/{pledge_id}/letter", response_class=HTMLResponse, operation_id="getPledgeLetter")
async def get_letter(
    pledge_id: PathId, request: Request, conn: Reader, who: CurrentPrincipal
) -> HTMLResponse:
    """P7: the pledge letter and pledge card, printable (A4 letter, A5 card)."""
    row = await visible_pledge(conn, pledge_id, who)
    pledge = await q.pledge(conn, row=row)
    branch = await q.branch(conn, branch_id=row["branch_id"])
    zone = request.app.state.runtime.settings.local_timezone
    return HTMLResponse(pledge_letter_html(pledge, branch, zone))


@router.post(
    "/{pledge_id}/opinions", status_code=201, response_model=Accepted, operation_id="recordOpinion"
)
async def record_opinion(
    pledge_id: PathId, cmd: c.RecordOpinion, request: Request, who: SignedIn, idem: IdempotencyDep
) -> Any:
    return await run(request, who, idem, lambda uow: h.record_opinion(uow, pledge_id, cmd, who))


@router.post("/{pledge_id}/proposal", response_model=Accepted, operation_id="proposePledge")
async def propose(
    pledge_id: PathId, cmd: c.ProposePledge, request: Request, who: SignedIn, idem: IdempotencyDep
) -> Any:
    return await run(request, who, idem, lambda uow: h.propose(uow, pledge_id, cmd, who))


@router.post(
    "/{pledge_id}/items/{item_id}/review", response_model=Accepted, operation_id="reviewItem"
)
async def review_item(
    pledge_id: PathId,
    item_id: PathId,
    cmd: c.ReviewItem,
    request: Request,
    who: SignedIn,
    idem: IdempotencyDep,
) -> Any:
    return await run(
        request, who, idem, lambda uow: h.review_item(uow, pledge_id, item_id, cmd, who)
    )


@router.post("/{pledge_id}/resubmission", response_model=Accepted, operation_id="resubmitPledge")
async def resubmit(
    pledge_id: PathId, cmd: c.ResubmitPledge, request: Request, who: SignedIn, idem: IdempotencyDep
) -> Any:
    return await run(request, who, idem, lambda uow: h.resubmit(uow, pledge_id, cmd, who))


@router.post("/{pledge_id}/publication", response_model=Accepted, operation_id="publishPledge")
async def publish(pledge_id: PathId, request: Request, who: SignedIn, idem: IdempotencyDep) -> Any:
    return await run(request, who, idem, lambda uow: h.publish(uow, pledge_id, who))


@router.post(
    "/{pledge_id}/items/{item_id}/progress",
    status_code=201,
    response_model=Accepted,
    operation_id="reportProgress",
)
async def report_progress(
    pledge_id: PathId,
    item_id: PathId,
    cmd: c.ReportProgress,
    request: Request,
    who: SignedIn,
    idem: IdempotencyDep,
) -> Any:
    return await run(
        request, who, idem, lambda uow: h.report_progress(uow, pledge_id, item_id, cmd, who)
    )


@router.post(
    "/{pledge_id}/items/{item_id}/follow-ups",
    status_code=201,
    response_model=Accepted,
    operation_id="recordFollowUp",
)
async def follow_up(
    pledge_id: PathId,
    item_id: PathId,
    cmd: c.RecordFollowUp,
    request: Request,
    who: SignedIn,
    idem: IdempotencyDep,
) -> Any:
    return await run(request, who, idem, lambda uow: h.follow_up(uow, pledge_id, item_id, cmd, who))


@router.post(
    "/{pledge_id}/items/{item_id}/done", response_model=Accepted, operation_id="reportItemDone"
)
async def report_done(
    pledge_id: PathId,
    item_id: PathId,
    cmd: c.ReportDone,
    request: Request,
    who: SignedIn,
    idem: IdempotencyDep,
) -> Any:
    return await run(
        request, who, idem, lambda uow: h.report_done(uow, pledge_id, item_id, cmd, who)
    )


@router.post(
    "/{pledge_id}/items/{item_id}/problem-solved",
    response_model=Accepted,
    operation_id="confirmProblemSolved",
)
async def confirm_solved(
    pledge_id: PathId,
    item_id: PathId,
    cmd: c.RecordNote,
    request: Request,
    who: SignedIn,
    idem: IdempotencyDep,
) -> Any:
    return await run(
        request, who, idem, lambda uow: h.confirm_solved(uow, pledge_id, item_id, cmd, who)
    )


@router.post(
    "/{pledge_id}/items/{item_id}/implementation-verified",
    response_model=Accepted,
    operation_id="verifyImplementation",
)
async def verify_implementation(
    pledge_id: PathId,
    item_id: PathId,
    cmd: c.RecordNote,
    request: Request,
    who: SignedIn,
    idem: IdempotencyDep,
) -> Any:
    return await run(
        request, who, idem, lambda uow: h.verify_implementation(uow, pledge_id, item_id, cmd, who)
    )


@router.post(
    "/{pledge_id}/quarterly-pushes",
    status_code=201,
    response_model=Accepted,
    operation_id="pushQuarter",
)
async def push_quarter(
    pledge_id: PathId, cmd: c.PushQuarter, request: Request, who: SignedIn, idem: IdempotencyDep
) -> Any:
    return await run(request, who, idem, lambda uow: h.push_quarter(uow, pledge_id, cmd, who))
