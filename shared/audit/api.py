"""Audit routes every service serves (A6, A4): its public key, signed checkpoints and proofs.
Checkpoints and proofs carry hashes only, so they are public, as in Certificate Transparency;
signing one on demand is for auditors and the county administrator. The log's export (the
bundle `gongkai audit export` writes, as a zip) is for auditors. Both only of their own county
(X1): a township's log, if the township is in it; the whole log, if every partition is."""

from __future__ import annotations

import asyncio
import shutil
import tempfile
import zipfile
from datetime import UTC, datetime
from pathlib import Path as FilePath
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import FileResponse, PlainTextResponse
from starlette.background import BackgroundTask

from shared.audit import checkpoints as cp
from shared.audit.bundle import export_bundle, positions
from shared.auth import Principal, Role, auditor_of, county_admin
from shared.directory import county_of
from shared.errors import Forbidden, InvalidInput, NotFound
from shared.files_api import file_store
from shared.http import BIGINT_MAX, QueryId, SignedIn

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


async def _counties(runtime: Any, partition: str | None, who: Principal) -> set[str | None]:
    """The counties of the log's partitions (one township's: of it), as this service's copy
    of the directory places them; None for a partition it cannot place. The whole log's are
    the caller's own county's too (a county this service does not know: None), so that even
    an empty log is only its county's to export or sign."""
    tables = runtime.definition.townships_table, runtime.definition.counties_table
    async with runtime.pool.acquire() as conn:
        if partition is not None:
            return {await county_of(conn, partition, *tables)}
        places = [
            row["partition"] for row in await conn.fetch("SELECT partition FROM partition_heads")
        ]
        return {await county_of(conn, place, *tables) for place in [*places, who.org or ""]}


def _of_county(who: Principal, counties: set[str | None]) -> bool:
    """Every county involved is the caller's own (auditor or administrator)."""
    return all(
        county is not None and (auditor_of(who, county) or county_admin(who, county))
        for county in counties
    )


@router.post("/checkpoints", status_code=201, operation_id="signCheckpoint")
async def sign_now(request: Request, who: SignedIn) -> dict[str, Any]:
    if who.role not in (Role.AUDITOR, Role.COUNTY_ADMIN):
        raise Forbidden("签署检查点由审计员和县管理员操作。")
    runtime = request.app.state.runtime
    if not _of_county(who, await _counties(runtime, None, who)):
        raise Forbidden("这份日志含有其他县的记录：只能为本县的日志签署检查点。")
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


def _zip(folder: FilePath, archive: FilePath) -> None:
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as out:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                out.write(path, path.relative_to(folder).as_posix())


@router.get(
    "/export",
    operation_id="exportLog",
    responses={200: {"content": {"application/zip": {}}}},
)
async def export(
    request: Request,
    who: SignedIn,
    partition: Annotated[QueryId | None, Query(description="Only this township's log")] = None,
    with_files: Annotated[bool, Query(description="With the evidence files it records")] = False,
    since: Annotated[
        datetime | None, Query(alias="from", description="Only events at or after this time")
    ] = None,
    until: Annotated[
        datetime | None, Query(alias="to", description="Only events at or before this time")
    ] = None,
) -> FileResponse:
    """A4: the log (or one township's) as a verifiable bundle, zipped: events.jsonl,
    checkpoints.jsonl, public_key.pem, manifest.json (files/ with `with_files`); check it
    offline with `gongkai audit verify` (docs/auditing.md). With `from`/`to` (as the CLI's
    `--from`/`--to` times), a range bundle with the proofs that tie it to signed checkpoints."""
    if who.role is not Role.AUDITOR:
        raise Forbidden("日志由审计员导出：请切换到审计员身份。")
    runtime = request.app.state.runtime
    if not all(auditor_of(who, county) for county in await _counties(runtime, partition, who)):
        raise Forbidden(
            "只能导出本县的日志：这个乡镇不在本县，或整份日志含有其他县的记录（请按乡镇导出）。"
        )
    # a time without an offset is the server's local time, as the database reads it
    if since is not None and until is not None and until.astimezone(UTC) < since.astimezone(UTC):
        raise InvalidInput("导出的截止时间不能早于起始时间：请核对后再试。", field="to")
    pem = cp.public_pem(_key(request))
    first, last = await positions(runtime.pool, since, until)
    work = FilePath(tempfile.mkdtemp(prefix="gongkai-export-"))
    try:
        blobs = file_store(request).blobs if with_files else None
        await export_bundle(
            runtime.pool,
            work / "bundle",
            service=runtime.definition.name,
            public_key_pem=pem,
            partition=partition,
            first=first,
            last=last,
            files=(lambda conn, sha: blobs.get(sha, conn)) if blobs is not None else None,
        )
        archive = work / "bundle.zip"
        # compressing is CPU work: in a thread, so the replica keeps serving meanwhile
        await asyncio.to_thread(_zip, work / "bundle", archive)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    name = f"{runtime.definition.name}-{partition or 'all'}-bundle.zip"
    return FileResponse(
        archive,
        media_type="application/zip",
        filename=name,
        background=BackgroundTask(shutil.rmtree, work, ignore_errors=True),
    )
