"""A member's own pages besides the pledge and the journal: the rounds they rate in (with the
voting page when an invitation was issued to them), and how they were graded, read only: the
monthly journal presentations (R6), the branch's monthly ratings (E6) and the reviews of them
(R1–R4)."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta, timezone
from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import Response

from services.console.calls import Refused
from services.console.web import Desk, Signed

router = APIRouter()
CHINA = timezone(timedelta(hours=8))
PAGE = 20


def member_of(desk: Desk) -> str:
    if desk.session.role != "member":
        raise Refused(403, "这是党员本人的页面；请切换到党员身份。")
    return desk.session.person


@router.get("/my/rounds")
async def my_rounds(desk: Signed) -> Response:
    """The rounds the member is registered to rate in: open ones first, to vote in."""
    member_id = member_of(desk)
    found = await desk.get("evaluation", f"/v1/members/{member_id}/rounds")
    return desk.page(
        "my_rounds.html",
        open=[r for r in found if r["status"] == "open"],
        closed=[r for r in found if r["status"] != "open"],
        vote_url=desk.console.settings.vote_url,
    )


def graded_in(rating: dict[str, Any], member_id: str) -> dict[str, Any] | None:
    """The member's line of a branch's rating, if it rated them."""
    return next((r for r in rating["results"] if r["subject_id"] == member_id), None)


@router.get("/my/grades")
async def my_grades(
    desk: Signed,
    year: Annotated[int | None, Query(ge=2000, le=2100)] = None,
    page: Annotated[int, Query(ge=1, le=10_000)] = 1,
) -> Response:
    """The year's journal grades and monthly ratings; the reviews of the member, paged."""
    member_id = member_of(desk)
    year = year or datetime.now(CHINA).year
    journal, branch_ratings, reviews = await asyncio.gather(  # one wait, not four
        desk.get("review", f"/v1/members/{member_id}/journal"),
        desk.get(  # a member's post: the branch's monthly ratings (12 a year)
            "evaluation",
            "/v1/ratings",
            branch_id=desk.session.org,
            level="branch_rates_members",
            limit=500,
        ),
        desk.get(
            "review",
            "/v1/reviews",
            subject_kind="member",
            subject_id=member_id,
            limit=PAGE,
            offset=(page - 1) * PAGE,
        ),
    )
    presentations = [p for p in journal["presentations"] if p["month"].startswith(f"{year}-")]
    ratings = []
    for rating in reversed(branch_ratings["rows"]):  # the year's months in order
        mine = graded_in(rating, member_id)
        if mine is not None and rating["period"].startswith(str(year)):
            ratings.append({"period": rating["period"], **mine})
    return desk.page(
        "my_grades.html",
        year=year,
        presentations=presentations,
        ratings=ratings,
        reviews=reviews,
        page=page,
        pages=max(1, -(-reviews["total"] // PAGE)),
    )
