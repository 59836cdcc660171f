"""Leadership reviews (R1–R5) and contact-point guidance visits (R7) as the township and the
branch work on them: the township's head (or a leader assigned to the branch) reviews each
branch and its leadership team, the branch secretary the other members, each review with
every dimension the review service requires of its kind; the review ledger, paged and
printable; the leaders' visits to their contact points, with photos."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import Response

from services.console.calls import Refused
from services.console.web import TOWNSHIP_POSTS, Desk, Signed
from shared.workbook import xlsx_download

router = APIRouter()
CHINA = timezone(timedelta(hours=8))
PAGE = 50
REVIEW_POSTS = (*TOWNSHIP_POSTS, "branch_secretary")
REVIEW_REFUSAL = "“领导点评”由乡镇党委、创先办和支部书记使用。"
NOT_YOURS = "您当前的身份不点评该对象：支部和班子成员由乡镇点评，其他党员由支部书记点评。"
WRITTEN = ("achievements", "shortcomings", "direction")


def today() -> str:
    return datetime.now(CHINA).date().isoformat()


def pages_of(total: int) -> int:
    return max(1, -(-total // PAGE))


async def township_of(desk: Desk, posts: tuple[str, ...], refusal: str) -> str:
    """The township the person works in: their own (township posts) or their branch's."""
    org = desk.org_of(posts, refusal)
    if desk.session.role == "branch_secretary":
        branch = await desk.get("pledge", f"/v1/branches/{org}")
        return str(branch["township_id"])
    return org


def reviewed_by_township(member: dict[str, Any], branch: dict[str, Any]) -> bool:
    """R1: the township reviews the leadership team (the secretary always belongs to it); the
    secretary reviews the other members."""
    return bool(member["leadership_team"]) or member["member_id"] == branch["secretary_id"]


def subjects(desk: Desk, branch: dict[str, Any]) -> list[dict[str, Any]]:
    """Whom this person reviews in the branch: the branch and its leadership team for the
    township's committee, the other members for the branch's secretary (the review service
    decides; this only offers the forms it would accept)."""
    if desk.session.role == "township_committee":
        team = [m for m in branch["members"] if m["active"] and reviewed_by_township(m, branch)]
        return [{"id": branch["branch_id"], "name": branch["name"], "kind": "branch"}] + [
            {"id": m["member_id"], "name": m["name"], "kind": "member", "post": m["post"]}
            for m in team
        ]
    if desk.session.role == "branch_secretary" and desk.session.org == branch["branch_id"]:
        return [
            {"id": m["member_id"], "name": m["name"], "kind": "member", "post": m["post"]}
            for m in branch["members"]
            if m["active"] and not reviewed_by_township(m, branch) and m["member_id"]
        ]
    return []


async def ledger(desk: Desk, page: int, **scope: str) -> dict[str, Any]:
    found: dict[str, Any] = await desk.get(
        "review",
        "/v1/reviews",
        limit=PAGE,
        offset=(page - 1) * PAGE,
        newest_first=True,  # the latest quarter on the first page
        **scope,
    )
    return found


@router.get("/reviews")
async def reviews(desk: Signed, page: Annotated[int, Query(ge=1, le=10_000)] = 1) -> Response:
    """The township's branches to review (or the secretary's branch's members) and the review
    ledger, paged and printable."""
    township_id = await township_of(desk, REVIEW_POSTS, REVIEW_REFUSAL)
    if desk.session.role == "branch_secretary":
        return desk.redirect(f"/reviews/branches/{desk.session.org}")
    town = await desk.get("pledge", f"/v1/townships/{township_id}")
    found = await ledger(desk, page, township_id=township_id)
    return desk.page(
        "reviews.html",
        town=town,
        ledger=found,
        page=page,
        pages=pages_of(found["total"]),
        scope=f"township_id={township_id}",
    )


@router.get("/reviews/ledger.xlsx")
async def reviews_workbook(desk: Signed) -> Response:
    township_id = await township_of(desk, REVIEW_POSTS, REVIEW_REFUSAL)
    scope = (
        {"branch_id": desk.session.org}
        if desk.session.role == "branch_secretary"
        else {"township_id": township_id}
    )
    body = await desk.get("review", "/v1/reviews.xlsx", **scope)
    return xlsx_download(body, "reviews.xlsx")


async def the_branch(desk: Desk, branch_id: str) -> dict[str, Any]:
    """The branch as the review service's copy has it (what it decides authority from), of
    the person's own township or branch."""
    township_id = await township_of(desk, REVIEW_POSTS, REVIEW_REFUSAL)
    branch: dict[str, Any] = await desk.get("review", f"/v1/directory/branches/{branch_id}")
    mine = (
        branch["branch_id"] == desk.session.org
        if desk.session.role == "branch_secretary"
        else branch["township_id"] == township_id
    )
    if not mine:
        raise Refused(403, "只能查看本乡镇（本支部）的点评。")
    return branch


@router.get("/reviews/branches/{branch_id}")
async def branch_reviews(
    branch_id: str, desk: Signed, page: Annotated[int, Query(ge=1, le=10_000)] = 1
) -> Response:
    branch = await the_branch(desk, branch_id)
    found = await ledger(desk, page, branch_id=branch_id)
    return desk.page(
        "reviews_branch.html",
        branch=branch,
        subjects=subjects(desk, branch),
        ledger=found,
        page=page,
        pages=pages_of(found["total"]),
    )


@router.get("/reviews/branches/{branch_id}/subjects/{subject_id}")
async def review_form(branch_id: str, subject_id: str, desk: Signed) -> Response:
    return await _review_form(desk, branch_id, subject_id)


async def _review_form(
    desk: Desk,
    branch_id: str,
    subject_id: str,
    *,
    refused: Refused | None = None,
    filled: dict[str, str] | None = None,
) -> Response:
    branch = await the_branch(desk, branch_id)
    subject = next((s for s in subjects(desk, branch) if s["id"] == subject_id), None)
    if subject is None:
        raise Refused(403, NOT_YOURS)
    scales = await desk.get("review", "/v1/review-scales")
    return desk.form_page(
        "review_form.html",
        refused,
        filled or {"held_on": today()},
        branch=branch,
        subject=subject,
        dimensions=scales["dimensions"][subject["kind"]],
        grades=scales["grades"],
        occasions=scales["occasions"],
        written=WRITTEN,
    )


@router.post("/reviews/branches/{branch_id}/subjects/{subject_id}")
async def record_review(branch_id: str, subject_id: str, desk: Signed) -> Response:
    """R2, R3: the review, every dimension of its kind sent as typed (one left blank is
    refused by the review service beside it, and nothing is recorded)."""
    form = await desk.form()
    kind = "branch" if subject_id == branch_id else "member"
    scales = await desk.get("review", "/v1/review-scales")
    body: dict[str, Any] = {
        "subject_kind": kind,
        "subject_id": subject_id,
        "occasion": form.get("occasion", ""),
        "held_on": form.get("held_on", ""),
        **{name: form.get(name, "") for name in WRITTEN},
        "assessments": {
            d["code"]: {
                "grade": form.get(f"assessments.{d['code']}.grade", ""),
                "comment": form.get(f"assessments.{d['code']}.comment", ""),
            }
            for d in scales["dimensions"][kind]
        },
    }
    try:
        body["files"] = await desk.evidence("review")
        await desk.post("review", "/v1/reviews", body, form.get("key", ""))
    except Refused as refused:
        return await _review_form(desk, branch_id, subject_id, refused=refused, filled=form)
    return desk.redirect(f"/reviews/branches/{branch_id}")


# --- contact-point guidance visits (R7) ---------------------------------------------------

VISIT_FIELDS = ("branch_id", "cadre_name", "visited_on", "summary")
VISIT_NOTES = ("problems_found", "guidance_given")


@router.get("/visits")
async def visits(desk: Signed, page: Annotated[int, Query(ge=1, le=10_000)] = 1) -> Response:
    return await _visits(desk, page)


async def _visits(
    desk: Desk,
    page: int = 1,
    *,
    refused: Refused | None = None,
    filled: dict[str, str] | None = None,
) -> Response:
    township_id = await township_of(desk, TOWNSHIP_POSTS, "“联系点指导”由乡镇党委和创先办使用。")
    town = await desk.get("pledge", f"/v1/townships/{township_id}")
    found = await desk.get(
        "review", "/v1/visits", township_id=township_id, limit=PAGE, offset=(page - 1) * PAGE
    )
    return desk.form_page(
        "visits.html",
        refused,
        filled or {"cadre_name": desk.session.name, "visited_on": today()},
        town=town,
        branch_names={b["branch_id"]: b["name"] for b in town["branches"]},
        visits=found,
        page=page,
        pages=pages_of(found["total"]),
    )


@router.post("/visits")
async def record_visit(desk: Signed) -> Response:
    """R7: a leading cadre's visit to a contact point, with photos of it."""
    form = await desk.form()
    body: dict[str, Any] = {name: form.get(name, "") for name in VISIT_FIELDS}
    body |= {name: form.get(name) or None for name in VISIT_NOTES}
    try:
        body["files"] = await desk.evidence("review")
        await desk.post("review", "/v1/visits", body, form.get("key", ""))
    except Refused as refused:
        return await _visits(desk, refused=refused, filled=form)
    return desk.redirect("/visits")
