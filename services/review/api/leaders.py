"""Responsible leader routes (R1: 创先办安排负责人): the township office assigns leaders of
the township to branches and ends assignments; anyone reads who is assigned now, per branch,
or of a township or a leader (`/v1/branch-leaders`)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request

from services.review import commands as c
from services.review import handlers as h
from services.review import queries as q
from services.review.schemas import Accepted, BranchLeader, LeaderPage
from shared.http import IdempotencyDep, PathId, QueryId, QueryOffset, Reader, SignedIn, run

router = APIRouter(prefix="/v1/branches", tags=["responsible leaders"])
assignments_router = APIRouter(prefix="/v1/branch-leaders", tags=["responsible leaders"])


@router.post(
    "/{branch_id}/leaders", status_code=201, response_model=Accepted, operation_id="assignLeader"
)
async def assign_leader(
    branch_id: PathId, cmd: c.AssignLeader, request: Request, who: SignedIn, idem: IdempotencyDep
) -> Any:
    return await run(request, who, idem, lambda uow: h.assign_leader(uow, branch_id, cmd, who))


@router.post(
    "/{branch_id}/leaders/{leader_id}/unassignment",
    response_model=Accepted,
    operation_id="unassignLeader",
)
async def unassign_leader(
    branch_id: PathId, leader_id: PathId, request: Request, who: SignedIn, idem: IdempotencyDep
) -> Any:
    return await run(
        request, who, idem, lambda uow: h.unassign_leader(uow, branch_id, leader_id, who)
    )


@router.get(
    "/{branch_id}/leaders", response_model=list[BranchLeader], operation_id="listBranchLeaders"
)
async def list_leaders(branch_id: PathId, conn: Reader) -> Any:
    """The leaders assigned to the branch now (the head reviews every branch besides)."""
    return await q.branch_leaders(conn, branch_id=branch_id)


@assignments_router.get("", response_model=LeaderPage, operation_id="listLeaderAssignments")
async def list_assignments(
    conn: Reader,
    township_id: QueryId | None = None,
    leader_id: QueryId | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: QueryOffset = 0,
) -> Any:
    """The assignments now of the township's branches, or the branches a leader is assigned
    to (the head reviews every branch besides), by branch."""
    return await q.leader_assignments(
        conn, township_id=township_id, leader_id=leader_id, limit=limit, offset=offset
    )
