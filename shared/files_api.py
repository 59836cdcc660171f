"""The HTTP side of evidence files (shared/files.py), the same in every service that keeps
them: `POST /v1/files` (multipart, field `file`) stores an upload and answers its hash, to
attach in a command; `GET /v1/files/{sha256}` (and `/thumbnail`) serves it to whoever may
see a record it is attached to (the service's `may_see`), with safe headers."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, Any

import asyncpg
from fastapi import APIRouter, File, Path, Request, UploadFile
from fastapi.responses import Response
from pydantic import BaseModel

from shared.auth import Principal, Role, require
from shared.errors import InvalidInput, NotFound
from shared.files import IMAGES, JPEG, SHA256_PATTERN, FileRefused, FileStore, stored_file
from shared.http import CurrentPrincipal, Reader, SignedIn

# who write the records files are attached to (raters, auditors and subscribing systems don't)
WRITERS = frozenset(
    {
        Role.COUNTY_ADMIN,
        Role.TOWNSHIP_COMMITTEE,
        Role.TOWNSHIP_OFFICE,
        Role.BRANCH_SECRETARY,
        Role.MEMBER,
    }
)

# may `who` see the file with this hash (on the read connection)?
MaySee = Callable[[asyncpg.Connection, Principal, str], Awaitable[bool]]
PathSha256 = Annotated[str, Path(pattern=SHA256_PATTERN)]


class StoredFileView(BaseModel):
    sha256: str
    size: int
    media_type: str
    thumbnail: bool
    url: str
    thumbnail_url: str | None


def file_store(request: Request) -> FileStore:
    """The service's file store, made from the environment on first use."""
    from shared.files import store_from_environment

    components: dict[str, Any] = request.app.state.runtime.components
    store = components.get("files")
    if store is None:
        store = components["files"] = store_from_environment()
    assert isinstance(store, FileStore)
    return store


def safe_headers(media_type: str, name: str) -> dict[str, str]:
    """No sniffing; nothing in the file runs (CSP sandbox); a non-image only downloads."""
    headers = {
        "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": "default-src 'none'; sandbox",
        "Cross-Origin-Resource-Policy": "cross-origin",  # the public board shows the photos
        "Cache-Control": "private, max-age=86400, immutable",  # content-addressed
    }
    if media_type not in IMAGES:
        headers["Content-Disposition"] = f'attachment; filename="{name}"'
    return headers


def file_router(may_see: MaySee) -> APIRouter:
    """The routes of a service's files; `may_see` decides who is served a file."""
    router = APIRouter(prefix="/v1/files", tags=["files"])

    @router.post("", status_code=201, response_model=StoredFileView, operation_id="uploadFile")
    async def upload(request: Request, who: SignedIn, file: Annotated[UploadFile, File()]) -> Any:
        require(who.role in WRITERS, "证明材料由填写记录的人上传。")
        store = file_store(request)
        data = await file.read(store.limits.max_bytes + 1)
        try:
            async with request.app.state.runtime.pool.acquire() as conn:
                stored = await store.store(conn, data, who.subject)
        except FileRefused as refused:
            raise InvalidInput(str(refused), field="file") from None
        return StoredFileView(
            sha256=stored.sha256,
            size=stored.size,
            media_type=stored.media_type,
            thumbnail=stored.has_thumbnail,
            url=f"/v1/files/{stored.sha256}",
            thumbnail_url=f"/v1/files/{stored.sha256}/thumbnail" if stored.has_thumbnail else None,
        )

    async def serve(
        request: Request, conn: Any, who: Principal, sha256: str, thumbnail: bool
    ) -> Response:
        found = await stored_file(conn, sha256)
        if found is None or not await may_see(conn, who, sha256):
            raise NotFound("没有找到该文件：请重新上传。")
        if thumbnail and not found.has_thumbnail:
            raise NotFound("该文件没有缩略图。")
        data = await file_store(request).content(conn, sha256, thumbnail=thumbnail)
        if data is None:
            raise NotFound("该文件已不在存储中：请重新上传。")
        media_type = JPEG if thumbnail else found.media_type
        extension = media_type.split("/")[1]
        headers = safe_headers(media_type, f"{sha256[:16]}.{extension}")
        if who.role == "public":
            headers["Cache-Control"] = "public, max-age=86400, immutable"
        return Response(data, media_type=media_type, headers=headers)

    @router.get("/{sha256}", operation_id="getFile", response_class=Response)
    async def get_file(
        sha256: PathSha256, request: Request, conn: Reader, who: CurrentPrincipal
    ) -> Response:
        return await serve(request, conn, who, sha256, thumbnail=False)

    @router.get("/{sha256}/thumbnail", operation_id="getFileThumbnail", response_class=Response)
    async def get_thumbnail(
        sha256: PathSha256, request: Request, conn: Reader, who: CurrentPrincipal
    ) -> Response:
        return await serve(request, conn, who, sha256, thumbnail=True)

    return router
