"""This service's copy of the directory (D2), read-only: what R1 authority is decided from.
Operators (and the demo loader) use it to see that the copy has caught up."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from services.review import queries as q
from services.review.schemas import BranchCopy
from shared.http import PathId, Reader

router = APIRouter(prefix="/v1/directory", tags=["directory copy"])


@router.get("/branches/{branch_id}", response_model=BranchCopy, operation_id="getBranchCopy")
async def get_branch(branch_id: PathId, conn: Reader) -> Any:
    return await q.branch_copy(conn, branch_id=branch_id)
