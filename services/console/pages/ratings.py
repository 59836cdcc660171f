"""Periodic ratings (E6): the township committee publishes the bimonthly ratings of its
branches (issue 20.4; the office prepares and reads them), a branch secretary the monthly
ratings of the branch's members. Each is entered in a grid (one row a branch or member, its
grade and score; a row begun but not finished said beside it; the rows confirmed before they
are published for good) or from the ratings workbook, previewed and confirmed (issue 19)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import Response

from services.console.calls import KINDS, Refused
from services.console.pages.imports import send_upload
from services.console.pages.pledges import CHINA
from services.console.web import Desk, Signed
from shared import zh
from shared.workbook import xlsx_download

router = APIRouter()
RATING_GRADES = {
    code: zh.label(code)
    for code in ("excellent", "qualified", "basically_qualified", "unqualified")
}
PAGE = 12  # published ratings per page, the latest period first
SHOWN = 12  # one's past imports shown


async def rating_desk(desk: Desk) -> dict[str, Any]:
    """What the person rates and reads: the township's branches every two months (the
    committee publishes, the office reads), or a secretary's members every month."""
    role, org = desk.session.role, desk.session.org
    if role in ("township_committee", "township_office") and org:
        copy = await desk.get("evaluation", f"/v1/directory/townships/{org}")
        subjects = [(b["branch_id"], b["name"]) for b in copy["branches"]]
        periods = recent(6, lambda year, n: f"{year}-B{n}", (today().month + 1) // 2)
        return {
            "level": "township_rates_branches",
            "org_key": "township_id",
            "org_path": f"/townships/{org}",
            "subjects": subjects,
            "periods": periods,
            "publisher": role == "township_committee",
            "what": "支部",
        }
    if role == "branch_secretary" and org:
        branch = await desk.get("pledge", f"/v1/branches/{org}")
        copy = await desk.get("evaluation", f"/v1/directory/townships/{branch['township_id']}")
        members: list[dict[str, Any]] = next(
            (b["members"] for b in copy["branches"] if b["branch_id"] == org), []
        )
        return {
            "level": "branch_rates_members",
            "org_key": "branch_id",
            "org_path": f"/branches/{org}",
            "subjects": [(m["member_id"], m["name"]) for m in members],
            "periods": recent(12, lambda year, n: f"{year}-{n:02d}", today().month),
            "publisher": True,
            "what": "党员",
        }
    raise Refused(403, "评星定级由乡镇党委（评支部）和支部书记（评党员）使用。")


def today() -> date:
    return datetime.now(CHINA).date()


def recent(per_year: int, code: Callable[[int, int], str], current: int) -> list[str]:
    """The periods to choose from, newest first: this year's so far, then last year's."""
    year = today().year
    this = [code(year, n) for n in range(current, 0, -1)]
    return this + [code(year - 1, n) for n in range(per_year, 0, -1)]


@router.get("/ratings")
async def ratings(desk: Signed, page: Annotated[int, Query(ge=1, le=10_000)] = 1) -> Response:
    return await _ratings_page(desk, page=page)


async def _ratings_page(
    desk: Desk,
    refused: Refused | None = None,
    filled: dict[str, str] | None = None,
    page: int = 1,
) -> Response:
    mine = await rating_desk(desk)
    published = await desk.get(
        "evaluation",
        "/v1/ratings",
        **{mine["org_key"]: desk.session.org},
        level=mine["level"],
        limit=PAGE,
        offset=(page - 1) * PAGE,
    )
    mine_imports = await desk.get("evaluation", "/v1/imports")  # scoped "<org>/<period>"
    past = [i for i in mine_imports if i["scope_id"].startswith(f"{desk.session.org}/")]
    return desk.page(
        "ratings.html",
        refused.status if refused else 200,
        mine=mine,
        published=published,
        page=page,
        pages=max(1, -(-published["total"] // PAGE)),
        imports=past[:SHOWN],
        grades=RATING_GRADES,
        period_label=zh.period,
        refused=refused,
        filled=filled or {},
    )


SCORES = (0.0, 100.0)  # a rating's score, as the service takes it (said beside the row first)
SCORE_HINTS = {
    "blank": "请填写得分（必填，0–100 的数字）。",
    "number": "得分须为 0–100 的数字，例如 85 或 92.5。",
    "grade": "请选择等次（必填）。",
}


def grid_rows(
    form: dict[str, str], mine: dict[str, Any]
) -> tuple[list[int], list[Any], dict[str, str]]:
    """The grid's rows filled in part or whole: their places among the subjects, each one's
    result ({subject_id, grade, score}), and what is missing in a row begun (a grade without
    a score, a score that is no number, a score without a grade) beside its cell."""
    rows: list[int] = []
    results: list[Any] = []
    hints: dict[str, str] = {}
    for index, (subject_id, _) in enumerate(mine["subjects"]):
        grade = form.get(f"grade.{subject_id}", "")
        score = form.get(f"score.{subject_id}", "").strip()
        if not grade and not score:
            continue
        rows.append(index)
        number = _number(score)
        results.append({"subject_id": subject_id, "grade": grade, "score": number})
        if not score:
            hints[f"score.{subject_id}"] = SCORE_HINTS["blank"]
        elif isinstance(number, str) or not SCORES[0] <= number <= SCORES[1]:
            hints[f"score.{subject_id}"] = SCORE_HINTS["number"]
        if not grade:
            hints[f"grade.{subject_id}"] = SCORE_HINTS["grade"]
    return rows, results, hints


@router.post("/ratings")
async def publish(desk: Signed) -> Response:
    """A period's ratings from the grid, in two steps: the grid's rows (a row begun but not
    finished refused beside its cells at once), then their confirmation (发布 is for good:
    public, once a period), which sends them; the service names a wrong one
    (`results.<n>.score`), shown beside its row, with everything typed kept."""
    form = await desk.form()
    mine = await rating_desk(desk)
    rows, results, hints = grid_rows(form, mine)
    if hints:
        return await _ratings_page(desk, Refused(422, KINDS["invalid-input"], fields=hints), form)
    if not results:
        refused = Refused(
            422, KINDS["invalid-input"], fields={"results": "请至少为一个填写等次和得分。"}
        )
        return await _ratings_page(desk, refused, form)
    if form.get("confirmed") != "yes":
        if form.get("confirmed") == "edit":  # back from the confirmation to the grid
            return await _ratings_page(desk, None, form)
        names = dict(mine["subjects"])
        shown = [{**r, "name": names[r["subject_id"]]} for r in results]
        return desk.page(
            "ratings_confirm.html",
            mine=mine,
            rows=shown,
            form=form,
            grades=RATING_GRADES,
            period_label=zh.period,
        )
    body = {
        "level": mine["level"],
        mine["org_key"]: desk.session.org,
        "period": form.get("period", ""),
        "results": results,
    }
    try:
        await desk.post("evaluation", "/v1/ratings", body, form.get("key", ""))
    except Refused as refused:
        renamed = {}
        for name, hint in refused.fields.items():
            parts = name.split(".")
            if parts[0] == "results" and len(parts) == 3 and parts[1].isdigit():
                subject_id = mine["subjects"][rows[int(parts[1])]][0]
                said = SCORE_HINTS["number"] if parts[2] == "score" else hint
                renamed[f"{parts[2]}.{subject_id}"] = said
            elif parts[0] == "results":
                renamed["results"] = "请至少为一个填写等次和得分。"
            else:
                renamed[name] = hint
        refused.fields = renamed
        return await _ratings_page(desk, refused, form)
    return desk.redirect("/ratings")


def _number(text: str) -> float | str:
    try:
        return float(text)
    except ValueError:
        return text.strip()  # the service says what is wrong with it


@router.get("/ratings/template.xlsx")
async def template(desk: Signed) -> Response:
    mine = await rating_desk(desk)
    body = await desk.get("evaluation", f"/v1{mine['org_path']}/ratings/template.xlsx")
    return xlsx_download(body, "ratings.xlsx")


@router.post("/ratings/imports")
async def upload(desk: Signed) -> Response:
    form = await desk.form()
    mine = await rating_desk(desk)
    path = f"/v1{mine['org_path']}/ratings/imports"
    try:
        return await send_upload(
            desk, "evaluation", path, "ratings_file", period=form.get("period", "")
        )
    except Refused as refused:
        if refused.fields.pop("period", None):  # the period goes with the file
            refused.fields["period_file"] = "请选择评定的期间。"
        return await _ratings_page(desk, refused, form)


@router.get("/ratings/{rating_id}")
async def a_rating(rating_id: str, desk: Signed) -> Response:
    mine = await rating_desk(desk)
    found = await desk.get("evaluation", f"/v1/ratings/{rating_id}")
    if found[mine["org_key"]] != desk.session.org or found["level"] != mine["level"]:
        raise Refused(404, "没有找到该评定，或您无权查看。")
    return desk.page("rating.html", rating=found, grades=RATING_GRADES, period_label=zh.period)
