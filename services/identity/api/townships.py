"""A township's committee: who holds its post now, for the office that assigns its leaders
to branches (R1)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends

from services.identity import access
from services.identity import queries as q
from services.identity.access import Place
from services.identity.api.deps import keys_loaded
from services.identity.schemas import TownshipCommittee
from shared.auth import require_seen
from shared.errors import NotFound
from shared.http import PathId, Reader, SignedIn

router = APIRouter(dependencies=[Depends(keys_loaded)], prefix="/v1/townships", tags=["townships"])


@router.get(
    "/{township_id}/committee",
    response_model=TownshipCommittee,
    operation_id="getTownshipCommittee",
)
async def committee(township_id: PathId, conn: Reader, who: SignedIn) -> Any:
    found = await q.township_committee(conn, township_id=township_id)
    missing = NotFound(f"没有找到乡镇 {township_id}：请核对后再试。", township_id=township_id)
    if not found:
        raise missing
    require_seen(  # another county's township: as if there were none (X1)
        who,
        access.may_see_committee(who, Place(found["county_id"], township_id)),
        found["county_id"],
        "乡镇党委成员名单只供本乡镇创先办、党委和县管理员、审计员查看。",
        missing,
    )
    return found
