"""Roster imports (issue 19): the template, an upload checked into a preview, the confirm
that commits it (all or nothing), its progress, its result workbook, past imports."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse

from services.pledge import access
from services.pledge import handlers as h
from services.pledge import queries as q
from services.pledge.documents.roster_xlsx import SHEETS, roster_template
from shared import imports
from shared.auth import Principal
from shared.errors import Forbidden
from shared.http import PathId, Reader, SignedIn, run
from shared.text import Line
from shared.workbook import XLSX_TYPE, read_upload, result_workbook, xlsx_download

router = APIRouter(prefix="/v1", tags=["imports"])

Scope = Literal["townships", "counties"]
KIND = {"townships": "township", "counties": "county"}
# one line of text: control characters (NUL among them) are refused naming `file_name`
FileName = Annotated[Line, Query(max_length=200, description="the uploaded file's name")]
# above this many rows a confirm commits in the background; poll GET /v1/imports/{id}
BACKGROUND_ROWS = 2000
UPLOAD = {
    "content": {
        XLSX_TYPE: {"schema": {"type": "string", "format": "binary"}},
        "text/csv": {"schema": {"type": "string", "format": "binary"}},
    },
    "required": True,
}


async def _authorised(conn: Any, who: Principal, kind: str, scope_id: str) -> None:
    county_id = await q.county_of(conn, kind=kind, scope_id=scope_id)
    if not access.keeps_roster(who, kind, scope_id, county_id):
        raise Forbidden("只有管理该名册的人可以导入。")


@router.get(
    "/{scope}/{scope_id}/roster/template.xlsx",
    operation_id="downloadRosterTemplate",
    responses={200: {"content": {XLSX_TYPE: {}}}},
)
async def roster_template_xlsx(scope: Scope, scope_id: PathId, who: SignedIn, conn: Reader) -> Any:
    """The roster template, filled with the current roster (ids kept) to edit and import."""
    kind = KIND[scope]
    await _authorised(conn, who, kind, scope_id)
    state = await q.roster(conn, kind=kind, scope_id=scope_id)
    title = "党组织名册（" + "、".join(state["townships"].values()) + "）"
    return xlsx_download(roster_template(title, state["branches"], state["members"]), "roster.xlsx")


@router.post(
    "/{scope}/{scope_id}/roster/imports",
    status_code=201,
    operation_id="uploadRoster",
    openapi_extra={"requestBody": UPLOAD},
)
async def upload_roster(
    scope: Scope, scope_id: PathId, request: Request, who: SignedIn, file_name: FileName = ""
) -> Any:
    """Upload a filled roster (.xlsx, or one sheet as CSV in UTF-8 or GB18030): every row
    checked, the preview of what it will do; nothing appended."""
    data = await request.body()
    kind = KIND[scope]
    return await run(
        request,
        who,
        None,
        lambda uow: h.upload_roster(uow, kind, scope_id, data, file_name or "roster", who),
    )


@router.get("/{scope}/{scope_id}/roster/imports", operation_id="listRosterImports")
async def list_roster_imports(scope: Scope, scope_id: PathId, who: SignedIn, conn: Reader) -> Any:
    kind = KIND[scope]
    await _authorised(conn, who, kind, scope_id)
    found = await imports.listed(conn, h.ROSTER_KINDS[kind], scope_id)
    return [r.view() for r in found]


async def _seen(conn: Any, who: Principal, import_id: str) -> imports.ImportRecord:
    record = await imports.get(conn, import_id)
    kind = {v: k for k, v in h.ROSTER_KINDS.items()}.get(record.kind)
    if record.importer != who.subject:
        if kind is None:
            raise Forbidden("只有导入人可以查看这次导入。")
        await _authorised(conn, who, kind, record.scope_id)
    return record


@router.get("/imports", operation_id="listMyImports")
async def list_my_imports(who: SignedIn, conn: Reader) -> Any:
    """The caller's own imports of every kind, newest first (state, preview, errors)."""
    return [r.view() for r in await imports.listed_by(conn, who.subject)]


@router.get("/imports/{import_id}", operation_id="getImport")
async def get_import(import_id: PathId, who: SignedIn, conn: Reader) -> Any:
    """The import's state, preview and errors; while it commits, its progress (rows_done)."""
    return (await _seen(conn, who, import_id)).view()


@router.get(
    "/imports/{import_id}/result.xlsx",
    operation_id="downloadImportResult",
    responses={200: {"content": {XLSX_TYPE: {}}}},
)
async def import_result(import_id: PathId, who: SignedIn, conn: Reader) -> Any:
    """The rows as uploaded, each with an error column."""
    record = await _seen(conn, who, import_id)
    rows = read_upload(await imports.file_of(conn, import_id), SHEETS)
    errors = [imports.row_error(e) for e in record.errors]
    return xlsx_download(result_workbook(SHEETS, rows, errors), f"{import_id}-result.xlsx")


@router.post("/imports/{import_id}/confirm", operation_id="confirmImport")
async def confirm_import(import_id: PathId, request: Request, who: SignedIn) -> Any:
    """Commit a previewed import, all or nothing: 200 when done (again: nothing appended),
    202 when a large file commits in the background (poll GET /v1/imports/{id}), 409 when
    the directory changed since the preview (the new preview is in the answer)."""
    pool = request.app.state.runtime.pool
    record = await imports.get(pool, import_id)
    ours = record.importer == who.subject and record.state in ("ready", "failed")
    if ours:
        await imports.begin_commit(pool, import_id)

    async def progress(done: int) -> None:
        await imports.progress(pool, import_id, done)

    async def commit() -> Any:
        try:
            return await run(
                request, who, None, lambda uow: h.confirm_roster(uow, import_id, who, progress)
            )
        except BaseException:
            await imports.failed(pool, import_id)
            raise

    if ours and record.rows_total > BACKGROUND_ROWS:
        imports.in_background(commit())
        return JSONResponse({**record.view(), "state": "committing"}, status_code=202)
    result = await commit()
    if result.get("stale"):
        return JSONResponse(result, status_code=409)
    return result
