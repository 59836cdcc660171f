"""Work journal routes (R6): entries, corrections, the monthly presentation's evaluation."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request

from services.review import access
from services.review import commands as c
from services.review import handlers as h
from services.review import queries as q
from services.review.api.deps import PathMonth
from services.review.commands import MONTH_PATTERN
from services.review.schemas import Accepted, BranchJournals, JournalView
from shared.auth import require_seen
from shared.http import IdempotencyDep, PathId, Reader, SignedIn, run

router = APIRouter(prefix="/v1/members/{member_id}/journal", tags=["journal"])
branch_router = APIRouter(prefix="/v1/branches/{branch_id}/journals", tags=["journal"])


@router.post(
    "/{month}/entries",
    status_code=201,
    response_model=Accepted,
    operation_id="recordJournalEntry",
)
async def record_entry(
    member_id: PathId,
    month: PathMonth,
    cmd: c.RecordJournalEntry,
    request: Request,
    who: SignedIn,
    idem: IdempotencyDep,
) -> Any:
    return await run(
        request, who, idem, lambda uow: h.record_entry(uow, member_id, month, cmd, who)
    )


@router.post(
    "/{month}/entries/{entry_id}/correction",
    status_code=201,
    response_model=Accepted,
    operation_id="correctJournalEntry",
)
async def correct_entry(
    member_id: PathId,
    month: PathMonth,
    entry_id: PathId,
    cmd: c.CorrectJournalEntry,
    request: Request,
    who: SignedIn,
    idem: IdempotencyDep,
) -> Any:
    return await run(
        request, who, idem, lambda uow: h.correct_entry(uow, member_id, month, entry_id, cmd, who)
    )


@router.post(
    "/{month}/presentation", response_model=Accepted, operation_id="evaluateMonthlyPresentation"
)
async def evaluate_presentation(
    member_id: PathId,
    month: PathMonth,
    cmd: c.EvaluatePresentation,
    request: Request,
    who: SignedIn,
    idem: IdempotencyDep,
) -> Any:
    return await run(
        request, who, idem, lambda uow: h.evaluate_presentation(uow, member_id, month, cmd, who)
    )


@router.get("", response_model=JournalView, operation_id="getJournal")
async def get_journal(
    member_id: PathId,
    conn: Reader,
    who: SignedIn,
    month: Annotated[str | None, Query(pattern=MONTH_PATTERN)] = None,
) -> Any:
    """The member, their branch secretary, the township and auditors read a journal."""
    member = await q.member(q.copies(conn), member_id)
    require_seen(  # another county's member: as if there were none (X1)
        who,
        access.sees_journal(who, member),
        member.county_id,
        "这不是您的纪实：只能查看自己的纪实。",
        q.no_member(member_id),
    )
    return await q.journal(conn, member_id=member_id, month=month)


@branch_router.get("", response_model=BranchJournals, operation_id="getBranchJournals")
async def get_branch_journals(
    branch_id: PathId,
    conn: Reader,
    who: SignedIn,
    month: Annotated[str, Query(pattern=MONTH_PATTERN)],
) -> Any:
    """The month's journal of every member of the branch, for whom may read each of them
    (the branch's secretary, the township, the county administrator, auditors)."""
    branch = await q.branch(q.copies(conn), branch_id)
    require_seen(
        who,
        access.sees_journal(who, branch),
        branch.county_id,
        "这不是您所在或所管支部的纪实，无权查看。",
        q.no_branch(branch_id),
    )
    return await q.branch_journals(conn, branch_id=branch_id, month=month)
