"""Excel in (issue 19): the township's roster from the template, as the office keeps it in
Excel: download the template (filled with today's roster), upload it, read the preview (who
is new, who moved, who left, which secretary changes, every bad row with its reason), confirm,
and follow a large file's progress. The pledge service checks, previews and commits; the
console carries the file and shows the answers."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from fastapi.responses import Response

from services.console.calls import Refused
from services.console.web import Desk, signed_in
from shared.workbook import XLSX_TYPE, xlsx_download

router = APIRouter()
Signed = Annotated[Desk, Depends(signed_in)]
SUMMARY = {
    "branches_new": "新建支部",
    "branches_retired": "撤销支部",
    "members_new": "新增党员",
    "members_moved": "调动",
    "members_left": "离开",
    "posts_changed": "岗位变动",
    "secretaries_changed": "书记变动",
}


def township_of(desk: Desk) -> str:
    if desk.session.role != "township_office" or not desk.session.org:
        raise Refused(403, "名册导入由乡镇创先办使用。")
    return desk.session.org


@router.get("/roster")
async def roster(desk: Signed) -> Response:
    township_id = township_of(desk)
    past = await desk.get("pledge", f"/v1/townships/{township_id}/roster/imports")
    return desk.page("roster.html", imports=past, refused=None)


@router.get("/roster/template.xlsx")
async def template(desk: Signed) -> Response:
    township_id = township_of(desk)
    body = await desk.get("pledge", f"/v1/townships/{township_id}/roster/template.xlsx")
    return xlsx_download(body, "roster.xlsx")


@router.post("/roster")
async def upload(desk: Signed) -> Response:
    township_id = township_of(desk)
    await desk.form()
    files = [f for f in await desk.files() if f[1]]
    if not files:
        refused = Refused(422, "请选择要导入的名册文件。", fields={"roster": "请选择文件。"})
        past = await desk.get("pledge", f"/v1/townships/{township_id}/roster/imports")
        return desk.page("roster.html", 422, imports=past, refused=refused)
    name, content, _ = files[0]
    kind = "text/csv" if name.lower().endswith(".csv") else XLSX_TYPE
    try:
        answer = await desk.console.services.call(
            "pledge",
            "POST",
            f"/v1/townships/{township_id}/roster/imports",
            token=desk.token,
            params={"file_name": name[:200]},
            content=content,
            content_type=kind,
        )
    except Refused as refused:
        refused.fields.setdefault("roster", refused.detail or refused.message)
        past = await desk.get("pledge", f"/v1/townships/{township_id}/roster/imports")
        return desk.page("roster.html", refused.status, imports=past, refused=refused)
    return desk.redirect(f"/imports/{answer['import_id']}")


@router.get("/imports/{import_id}")
async def an_import(import_id: str, desk: Signed) -> Response:
    found = await desk.get("pledge", f"/v1/imports/{import_id}")
    return desk.page("import.html", imp=found, labels=SUMMARY)


@router.get("/imports/{import_id}/result.xlsx")
async def result(import_id: str, desk: Signed) -> Response:
    body = await desk.get("pledge", f"/v1/imports/{import_id}/result.xlsx")
    return xlsx_download(body, f"{import_id}-result.xlsx")


@router.post("/imports/{import_id}/confirm")
async def confirm(import_id: str, desk: Signed) -> Response:
    form = await desk.form()
    await desk.post("pledge", f"/v1/imports/{import_id}/confirm", {}, form.get("key", ""))
    return desk.redirect(f"/imports/{import_id}")
