"""Rater lists from workbooks (issue 19): a round's raters, a satisfaction check's served
people. The template, an upload checked into a preview, the confirm that registers them all
or none, the import's state, its result workbook, past imports."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request

from services.evaluation.checks import handlers as ch
from services.evaluation.documents.raters_xlsx import (
    ROUND_RATERS,
    SERVED,
    raters_template,
)
from services.evaluation.documents.ratings_xlsx import SHEET as RATINGS
from services.evaluation.ratings import handlers as gh
from services.evaluation.ratings.events import RatingLevel
from services.evaluation.rounds import handlers as rh
from services.evaluation.rounds.events import Channel
from shared import imports
from shared.errors import Forbidden, InvalidInput
from shared.http import PathId, Reader, SignedIn, run
from shared.text import Line
from shared.workbook import XLSX_TYPE, read_upload, result_workbook, xlsx_download

router = APIRouter(prefix="/v1", tags=["imports"])

Target = Literal["rounds", "satisfaction-checks"]
# one line of text: control characters (NUL among them) are refused naming `file_name`
FileName = Annotated[Line, Query(max_length=200, description="the uploaded file's name")]
KINDS = {"rounds": rh.RATERS_IMPORT, "satisfaction-checks": ch.SERVED_IMPORT}
SHEETS = {rh.RATERS_IMPORT: ROUND_RATERS, ch.SERVED_IMPORT: SERVED}
SHEETS |= {kind: RATINGS for kind in gh.RATING_IMPORTS.values()}
UPLOAD = {
    "content": {
        XLSX_TYPE: {"schema": {"type": "string", "format": "binary"}},
        "text/csv": {"schema": {"type": "string", "format": "binary"}},
    },
    "required": True,
}


@router.get(
    "/{target}/{target_id}/raters/template.xlsx",
    operation_id="downloadRatersTemplate",
    responses={200: {"content": {XLSX_TYPE: {}}}},
)
async def template_xlsx(target: Target, target_id: PathId, who: SignedIn) -> Any:
    """The blank rater list (a round's raters, or the people a check's item served)."""
    return xlsx_download(raters_template(served=target == "satisfaction-checks"), "raters.xlsx")


@router.post(
    "/{target}/{target_id}/raters/imports",
    status_code=201,
    operation_id="uploadRaters",
    openapi_extra={"requestBody": UPLOAD},
)
async def upload_raters(
    target: Target, target_id: PathId, request: Request, who: SignedIn, file_name: FileName = ""
) -> Any:
    """Every row checked, the owning command run in a rolled-back savepoint for the
    preview; nothing appended."""
    data = await request.body()
    name = file_name or "raters"
    if target == "rounds":
        return await run(
            request, who, None, lambda uow: rh.upload_raters(uow, target_id, data, name, who)
        )
    return await run(
        request, who, None, lambda uow: ch.upload_served(uow, target_id, data, name, who)
    )


@router.get("/{target}/{target_id}/raters/imports", operation_id="listRaterImports")
async def list_imports(target: Target, target_id: PathId, who: SignedIn, conn: Reader) -> Any:
    """The caller's own imports for the round or check (they hold personal data)."""
    found = await imports.listed(conn, KINDS[target], target_id)
    return [r.view() for r in found if r.importer == who.subject]


async def _own(conn: Any, who: Any, import_id: str) -> imports.ImportRecord:
    record = await imports.get(conn, import_id)
    if record.importer != who.subject:
        raise Forbidden("只有导入人可以查看这次含个人信息的导入。")
    return record


@router.get("/imports", operation_id="listMyImports")
async def list_my_imports(who: SignedIn, conn: Reader) -> Any:
    """The caller's own imports of every kind, newest first (state, preview, errors)."""
    return [r.view() for r in await imports.listed_by(conn, who.subject)]


@router.get("/imports/{import_id}", operation_id="getImport")
async def get_import(import_id: PathId, who: SignedIn, conn: Reader) -> Any:
    return (await _own(conn, who, import_id)).view()


@router.get(
    "/imports/{import_id}/result.xlsx",
    operation_id="downloadImportResult",
    responses={200: {"content": {XLSX_TYPE: {}}}},
)
async def import_result(import_id: PathId, request: Request, who: SignedIn, conn: Reader) -> Any:
    """The rows as uploaded with an error column (a rater list: until committed, then the
    file, which holds personal data, is no longer kept)."""
    record = await _own(conn, who, import_id)
    if record.kind in rh.BALLOTS_IMPORTS.values():  # the round's own layout
        data = await run(request, who, None, lambda uow: rh.ballots_result(uow, import_id, who))
        return xlsx_download(data, f"{import_id}-result.xlsx")
    sheet = SHEETS[record.kind]
    rows = read_upload(await imports.file_of(conn, import_id), [sheet])
    errors = [imports.row_error(e) for e in record.errors]
    return xlsx_download(result_workbook([sheet], rows, errors), f"{import_id}-result.xlsx")


@router.get(
    "/rounds/{round_id}/ballots/template.xlsx",
    operation_id="downloadBallotsTemplate",
    responses={200: {"content": {XLSX_TYPE: {}}}},
)
async def ballots_template(round_id: PathId, request: Request, who: SignedIn) -> Any:
    """The round's stack workbook: sign-in sheet (raters yet to vote) and ballots sheet."""
    data = await run(request, who, None, lambda uow: rh.ballots_template(uow, round_id, who))
    return xlsx_download(data, "ballots.xlsx")


@router.post(
    "/rounds/{round_id}/ballots/imports",
    status_code=201,
    operation_id="uploadBallots",
    openapi_extra={"requestBody": UPLOAD},
)
async def upload_ballots(
    round_id: PathId,
    request: Request,
    who: SignedIn,
    channel: Annotated[Literal[Channel.PAPER, Channel.ON_SITE], Query()] = Channel.PAPER,
    file_name: FileName = "",
) -> Any:
    """A stack of paper (or on-site) ballots with its sign-in sheet: checked, previewed."""
    data = await request.body()
    name = file_name or "ballots"
    return await run(
        request,
        who,
        None,
        lambda uow: rh.upload_ballots(uow, round_id, channel, data, name, who),
    )


Period = Annotated[
    str,
    Query(pattern=r"^\d{4}-(B[1-6]|0[1-9]|1[0-2])$", description="2027-03, or 2027-B2"),
]
Organisation = Literal["branches", "townships"]
LEVEL = {
    "branches": RatingLevel.BRANCH_RATES_MEMBERS,
    "townships": RatingLevel.TOWNSHIP_RATES_BRANCHES,
}


@router.get(
    "/{organisation}/{org_id}/ratings/template.xlsx",
    operation_id="downloadRatingsTemplate",
    responses={200: {"content": {XLSX_TYPE: {}}}},
)
async def ratings_template(
    organisation: Organisation, org_id: PathId, request: Request, who: SignedIn
) -> Any:
    """A branch's members (monthly) or a township's branches (every two months) to rate."""
    level = LEVEL[organisation]
    data = await run(request, who, None, lambda uow: gh.rating_template(uow, level, org_id, who))
    return xlsx_download(data, "ratings.xlsx")


@router.post(
    "/{organisation}/{org_id}/ratings/imports",
    status_code=201,
    operation_id="uploadRatings",
    openapi_extra={"requestBody": UPLOAD},
)
async def upload_ratings(
    organisation: Organisation,
    org_id: PathId,
    period: Period,
    request: Request,
    who: SignedIn,
    file_name: FileName = "",
) -> Any:
    """A period's ratings: every row checked, previewed; published on confirm."""
    data = await request.body()
    level, name = LEVEL[organisation], file_name or "ratings"
    return await run(
        request,
        who,
        None,
        lambda uow: gh.upload_rating(uow, level, org_id, period, data, name, who),
    )


@router.post("/imports/{import_id}/confirm", operation_id="confirmImport")
async def confirm_import(import_id: PathId, request: Request, who: SignedIn) -> Any:
    """Register the previewed raters, all or none; again: nothing more."""
    record = await imports.get(request.app.state.runtime.pool, import_id)
    if record.kind == rh.RATERS_IMPORT:
        return await run(request, who, None, lambda uow: rh.confirm_raters(uow, import_id, who))
    if record.kind in rh.BALLOTS_IMPORTS.values():
        return await run(request, who, None, lambda uow: rh.confirm_ballots(uow, import_id, who))
    if record.kind in gh.RATING_IMPORTS.values():
        return await run(request, who, None, lambda uow: gh.confirm_rating(uow, import_id, who))
    if record.kind == ch.SERVED_IMPORT:
        return await run(request, who, None, lambda uow: ch.confirm_served(uow, import_id, who))
    raise InvalidInput("这不是本服务可确认的导入：请回到上传文件的页面确认。", field="import_id")
