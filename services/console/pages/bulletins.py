"""Supervision bulletins (督查通报, N4) for a township's office and committee: the bulletins
issued so far (each branch's line with its gaps), an ad hoc bulletin issued now, and the
township's releases (what it has published, X2) paged by position."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import Response

from services.console.calls import Refused
from services.console.pages.accounts import submit
from services.console.pages.channels import TYPES
from services.console.web import TOWNSHIP_POSTS, Desk, Signed
from shared.http import BIGINT_MAX

router = APIRouter()
RELEASES = 20


def township_of(desk: Desk) -> str:
    return desk.org_of(TOWNSHIP_POSTS, "“督查通报”由乡镇创先办和党委使用。")


@router.get("/bulletins")
async def bulletins(
    desk: Signed, since: Annotated[int, Query(ge=0, le=BIGINT_MAX)] = 0
) -> Response:
    return await _bulletins(desk, since)


async def _bulletins(
    desk: Desk, since: int = 0, refused: Refused | None = None, filled: dict[str, str] | None = None
) -> Response:
    township_id = township_of(desk)
    town = await desk.get("pledge", f"/v1/townships/{township_id}")
    issued = await desk.get("notification", f"/v1/townships/{township_id}/bulletins")
    released = await desk.get(
        "notification", "/v1/releases", township_id=township_id, since=since, limit=RELEASES
    )
    return desk.form_page(
        "bulletins.html",
        refused,
        filled,
        town=town,
        bulletins=issued["bulletins"],
        releases=released,
        since=since,
        types=TYPES,
    )


@router.post("/bulletins")
async def issue(desk: Signed) -> Response:
    form = await desk.form()
    township_id = township_of(desk)
    body = {"title": form.get("title", "").strip(), "note": form.get("note", "").strip()}
    return await submit(
        desk,
        "notification",
        f"/v1/townships/{township_id}/bulletins",
        body,
        form,
        done="/bulletins",
        again=lambda refused, filled: _bulletins(desk, 0, refused, filled),
    )
