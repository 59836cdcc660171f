"""A township's work at a glance (P6, N1): who has not finished drafting, and the ledger of
published items with their progress, paged, printable and downloadable as Excel; for the
township's committee and office, and for the county's administrators and auditors, who
choose the township from the county's list."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta, timezone
from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import Response

from services.console.calls import Refused
from services.console.web import TOWNSHIP_POSTS, Desk, Signed
from shared.workbook import xlsx_download

router = APIRouter()
CHINA = timezone(timedelta(hours=8))
PAGE = 50
COUNTY_POSTS = ("county_admin", "auditor")


def which_township(desk: Desk, asked: str | None) -> str:
    """The township a page is about: the person's own, or (county posts) the one asked."""
    if desk.session.role in TOWNSHIP_POSTS and desk.session.org:
        return desk.session.org
    if desk.session.role in COUNTY_POSTS and asked:
        return asked
    raise Refused(403, "乡镇工作页面由乡镇党委、创先办和县级管理员、审计员使用。")


@router.get("/county")
async def county(desk: Signed) -> Response:
    """The county's townships, for its administrators and auditors."""
    if desk.session.role not in COUNTY_POSTS:
        raise Refused(403, "县级页面由县管理员和审计员使用。")
    if not desk.session.org:
        return desk.page(
            "message.html", title="全县", message="您的身份未关联到县，请联系县管理员。"
        )
    found = await desk.county(desk.session.org)
    return desk.page("county.html", county=found)


@router.get("/township")
async def township(
    desk: Signed,
    township_id: Annotated[str | None, Query(max_length=64)] = None,
    year: Annotated[int | None, Query(ge=2000, le=2100)] = None,
    page: Annotated[int, Query(ge=1, le=10_000)] = 1,
) -> Response:
    township_id = which_township(desk, township_id)
    year = year or datetime.now(CHINA).year
    town, report, ledger = await asyncio.gather(  # one wait, not three
        desk.get("pledge", f"/v1/townships/{township_id}"),
        desk.get("pledge", f"/v1/townships/{township_id}/drafting-report", year=year),
        desk.get(
            "pledge",
            "/v1/ledger",
            township_id=township_id,
            year=year,
            limit=PAGE,
            offset=(page - 1) * PAGE,
        ),
    )
    pages = max(1, -(-ledger["total"] // PAGE))
    return desk.page(
        "township.html",
        town=town,
        year=year,
        report=report,
        ledger=ledger,
        page=page,
        pages=pages,
        follows=desk.session.role in TOWNSHIP_POSTS,  # follow-ups, pushes, the calendar
    )


@router.get("/township/ledger.xlsx")
async def ledger_workbook(
    desk: Signed,
    township_id: Annotated[str | None, Query(max_length=64)] = None,
    year: Annotated[int | None, Query(ge=2000, le=2100)] = None,
) -> Response:
    township_id = which_township(desk, township_id)
    body = await desk.get("pledge", "/v1/ledger.xlsx", township_id=township_id, year=year)
    return xlsx_download(body, f"ledger-{township_id}.xlsx")
