"""Audit routes every service serves (A6): its public key, signed checkpoints and proofs.
Checkpoints and proofs carry hashes only, so they are public, as in Certificate Transparency;
signing one on demand is for auditors and the county administrator."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import PlainTextResponse

from shared.audit import checkpoints as cp
from shared.auth import Role
from shared.errors import Forbidden, NotFound
from shared.http import BIGINT_MAX, SignedIn

router = APIRouter(prefix="/v1/audit", tags=["audit"])
# checkpoint ids are bigints: a larger number is not found, never an overflow
CheckpointId = Annotated[int, Path(ge=1, le=BIGINT_MAX)]
CheckpointQuery = Annotated[int, Query(ge=1, le=BIGINT_MAX)]


def _key(request: Request) -> Any:
    key = request.app.state.runtime.checkpoint_key
    if key is None:
        raise NotFound("本服务没有配置检查点密钥：请联系运维人员。")
    return key


@router.get("/public-key", response_class=PlainTextResponse, operation_id="getPublicKey")
async def public_key(request: Request) -> PlainTextResponse:
    return PlainTextResponse(cp.public_pem(_key(request)).decode())


@router.get("/checkpoints", operation_id="listCheckpoints")
async def list_checkpoints(request: Request) -> list[dict[str, Any]]:
    return await cp.checkpoints(request.app.state.runtime.pool)


@router.post("/checkpoints", status_code=201, operation_id="signCheckpoint")
async def sign_now(request: Request, who: SignedIn) -> dict[str, Any]:
    if who.role not in (Role.AUDITOR, Role.COUNTY_ADMIN):
        raise Forbidden("检查点只供审计员和县管理员查询。")
    runtime = request.app.state.runtime
    return await cp.sign_checkpoint(
        runtime.pool, _key(request), service=runtime.definition.name, now=runtime.clock.now()
    )


@router.get("/checkpoints/{checkpoint_id}", operation_id="getCheckpoint")
async def get_checkpoint(checkpoint_id: CheckpointId, request: Request) -> dict[str, Any]:
    return await cp.checkpoint(request.app.state.runtime.pool, checkpoint_id)


@router.get("/proofs/inclusion", operation_id="getInclusionProof")
async def inclusion_proof(
    request: Request,
    event_id: UUID,  # a string of 36 hex digits and dashes need not be a UUID
    checkpoint_id: CheckpointQuery,
) -> dict[str, Any]:
    return await cp.inclusion(
        request.app.state.runtime.pool, event_id=str(event_id), checkpoint_id=checkpoint_id
    )


@router.get("/proofs/consistency", operation_id="getConsistencyProof")
async def consistency_proof(
    request: Request, old: CheckpointQuery, new: CheckpointQuery
) -> dict[str, Any]:
    return await cp.consistency(request.app.state.runtime.pool, old_id=old, new_id=new)
