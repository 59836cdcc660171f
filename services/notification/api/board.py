"""The public board (N1, N2, P7): read-only HTML pages, no login, published data only."""

from __future__ import annotations

import os

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from services.notification import queries as q
from services.notification.documents.board import render
from shared.http import PathId, Reader

router = APIRouter(tags=["board"], include_in_schema=False)


def _base(request: Request) -> str:
    """The board's public address, for the QR codes (behind a proxy: GONGKAI_PUBLIC_URL)."""
    return os.environ.get("GONGKAI_PUBLIC_URL") or str(request.base_url)


def _page(request: Request, template: str, **context: object) -> HTMLResponse:
    zone = request.app.state.runtime.settings.local_timezone
    return HTMLResponse(render(template, _base(request), zone, **context))


def _missing(request: Request, what: str) -> HTMLResponse:
    return HTMLResponse(render("not_found.html", _base(request), what=what), status_code=404)


@router.get("/", response_class=HTMLResponse)
async def index(request: Request, conn: Reader) -> HTMLResponse:
    return _page(request, "index.html", counties=await q.counties(conn))


@router.get("/counties/{county_id}", response_class=HTMLResponse)
async def county_page(county_id: PathId, request: Request, conn: Reader) -> HTMLResponse:
    county = await q.county(conn, county_id)
    if county is None:
        return _missing(request, "该县")
    return _page(request, "county.html", county=county)


@router.get("/townships/{township_id}", response_class=HTMLResponse)
async def township_page(township_id: PathId, request: Request, conn: Reader) -> HTMLResponse:
    township = await q.township(conn, township_id)
    if township is None:
        return _missing(request, "该乡镇")
    return _page(request, "township.html", t=township)


@router.get("/branches/{branch_id}", response_class=HTMLResponse)
async def branch_page(branch_id: PathId, request: Request, conn: Reader) -> HTMLResponse:
    branch = await q.branch(conn, branch_id)
    if branch is None:
        return _missing(request, "该党支部")
    return _page(request, "branch.html", b=branch)


@router.get("/pledges/{pledge_id}", response_class=HTMLResponse)
async def card_page(pledge_id: PathId, request: Request, conn: Reader) -> HTMLResponse:
    cards = await q.pledge_cards(conn, pledge_id=pledge_id)
    if not cards:
        return _missing(request, "该承诺")
    return _page(request, "card.html", c=cards[0])
