"""Excel in (issue 19): a workbook from the owning service's template, uploaded, checked into
a preview (every bad row with its sheet, row, column and reason, a workbook of them), and
committed only when confirmed, all or nothing, with a large file's progress. The township's
roster goes to the pledge service; a round's or check's raters, a stack of paper ballots and a
period's ratings to the evaluation service. The services check, preview and commit; the
console carries the file and shows the answers. Every import's page is the same page."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import Response

from services.console.calls import Refused
from services.console.web import Desk, Signed
from shared.workbook import XLSX_TYPE, xlsx_download

router = APIRouter()
SUMMARY = {
    "branches_new": "新建支部",
    "branches_retired": "撤销支部",
    "members_new": "新增党员",
    "members_moved": "调动",
    "members_left": "离开",
    "posts_changed": "岗位变动",
    "secretaries_changed": "书记变动",
}
# what an evaluation import's preview counts (its events by type, and a stack's ballots)
EVALUATION_SUMMARY = {
    "RaterRegistered": "登记评议人",
    "CheckRaterRegistered": "登记服务对象",
    "RaterParticipated": "签到参评",
    "ballots": "选票（张）",
    "RatingResultsPublished": "发布评定",
}
# where each service's imports are shown in the console
PAGES = {"pledge": "/imports", "evaluation": "/evaluation/imports"}


def township_of(desk: Desk) -> str:
    return desk.org_of(("township_office",), "名册导入由乡镇创先办使用。")


async def send_upload(
    desk: Desk, service: str, path: str, field: str, **params: str | None
) -> Response:
    """The (CSRF-checked) form's file to the owning service's import route; the browser goes
    on to the import's preview. A missing file or the service's refusal of the file raises
    `Refused` with its hint beside `field`, for the calling page to show."""
    files = [f for f in await desk.files() if f[1]]
    if not files:
        raise Refused(422, "请选择要导入的文件。", fields={field: "请选择文件。"})
    name, content, _ = files[0]
    kind = "text/csv" if name.lower().endswith(".csv") else XLSX_TYPE
    try:
        answer = await desk.console.services.call(
            service,
            "POST",
            path,
            token=desk.token,
            params={"file_name": name[:200], **params},
            content=content,
            content_type=kind,
        )
    except Refused as refused:
        # a file the service cannot read says why in Chinese (wrong type, a formula, too
        # large …); any other refusal is the page's sentence
        hint = refused.detail if "file" in refused.fields else refused.message
        refused.fields.pop("file", None)
        refused.fields.setdefault(field, hint)
        raise
    return desk.redirect(f"{PAGES[service]}/{answer['import_id']}")


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
    path = f"/v1/townships/{township_id}/roster/imports"
    try:
        return await send_upload(desk, "pledge", path, "roster")
    except Refused as refused:
        past = await desk.get("pledge", f"/v1/townships/{township_id}/roster/imports")
        return desk.page("roster.html", refused.status, imports=past, refused=refused)


def back_of(found: dict[str, Any]) -> tuple[str, str]:
    """The page an import belongs to: (its address, the link's words)."""
    kind, scope = found.get("kind", ""), found.get("scope_id", "")
    if kind in ("round_raters", "paper_ballots", "on_site_ballots"):
        return f"/rounds/{scope}", "返回评议"
    if kind == "check_raters":
        return f"/checks/{scope}", "返回满意度测评"
    if kind in ("member_ratings", "branch_ratings"):
        return "/ratings", "返回评星定级"
    return "/roster", "返回名册导入"


async def _show(desk: Desk, service: str, import_id: str) -> Response:
    found = await desk.get(service, f"/v1/imports/{import_id}")
    summary = (found.get("preview") or {}).get("summary") or {}
    labels = SUMMARY
    if service == "evaluation":
        labels = {code: EVALUATION_SUMMARY.get(code, code) for code in summary}
    back, back_label = back_of(found)
    return desk.page(
        "import.html",
        imp=found,
        labels=labels,
        base=PAGES[service],
        back=back,
        back_label=back_label,
    )


def _pages_of(service: str) -> None:
    """An import's page, its result workbook and its confirmation, for one service's imports
    (import ids are each service's own, so the address says whose)."""
    base = PAGES[service]

    async def show(import_id: str, desk: Signed) -> Response:
        return await _show(desk, service, import_id)

    async def result(import_id: str, desk: Signed) -> Response:
        body = await desk.get(service, f"/v1/imports/{import_id}/result.xlsx")
        return xlsx_download(body, f"{import_id}-result.xlsx")

    async def confirm(import_id: str, desk: Signed) -> Response:
        form = await desk.form()
        await desk.post(service, f"/v1/imports/{import_id}/confirm", {}, form.get("key", ""))
        return desk.redirect(f"{base}/{import_id}")

    router.add_api_route(f"{base}/{{import_id}}", show, methods=["GET"])
    router.add_api_route(f"{base}/{{import_id}}/result.xlsx", result, methods=["GET"])
    router.add_api_route(f"{base}/{{import_id}}/confirm", confirm, methods=["POST"])


for _service in PAGES:
    _pages_of(_service)
