"""Erasure of a member of the public's personal data (A7)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from services.evaluation import handlers as h
from services.evaluation.schemas import Accepted
from shared.http import IdempotencyDep, PathId, SignedIn, run

router = APIRouter(prefix="/v1", tags=["personal data"])


@router.post(
    "/people/{rater_id}/erasure",
    status_code=201,
    response_model=Accepted,
    operation_id="erasePerson",
)
async def erase_person(
    rater_id: PathId, request: Request, who: SignedIn, idem: IdempotencyDep
) -> Any:
    """Destroy the person's key (the county's administrator, an auditor, or the office of the
    township that registered the person): their name, phone and ID number can no longer be
    read from the log, and every read model shows them as erased, now and after any rebuild
    or replay. The log itself is unchanged and verifies."""
    return await run(request, who, idem, lambda uow: h.erase_person(uow, rater_id, who))
