"""Satisfaction checks of pledge items (E8) for the township office: the checks the service
opened when items were reported done, and on each the people the item served (typed in or
from the rater workbook; personal data sealed, A7), the invitation slips to print, paper
ballots entered with whose sign-in they are, closing, extending or reopening a check that got
no ballot, and the verdict. A check is a target like a round in the API: the same import and
invitation pages serve both."""

from __future__ import annotations

import asyncio
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from fastapi.responses import Response

from services.console.calls import Refused
from services.console.pages.imports import send_upload
from services.console.pages.picker import ID, Found, find, typed
from services.console.pages.rounds import (
    PAGE,
    PERSONAL,
    erase,
    erased_raters,
    erasure_page,
    fields_under,
    print_sheet,
    reissue,
    without_phone,
)
from services.console.web import Desk, Signed
from shared.workbook import xlsx_download

router = APIRouter()
CHECK_GRADES = {"satisfied": "满意", "mostly_satisfied": "基本满意", "dissatisfied": "不满意"}
CHECK_STATES = {"open": "进行中", "closed": "已出结果", "lapsed": "无人参评，待延期"}


def office_of(desk: Desk) -> str:
    return desk.org_of(("township_office",), "满意度测评由乡镇创先办组织。")


async def the_check(desk: Desk, check_id: str) -> dict[str, Any]:
    path = f"/v1/satisfaction-checks/{check_id}"
    return await desk.of_township("evaluation", path, office_of(desk), "这不是本镇的满意度测评。")


@router.get("/checks")
async def checks(desk: Signed, offset: Annotated[int, Query(ge=0)] = 0) -> Response:
    township_id = office_of(desk)
    listed = await desk.get("evaluation", "/v1/satisfaction-checks", township_id=township_id)
    return desk.page(
        "checks.html",
        checks=listed[offset : offset + PAGE],
        total=len(listed),
        offset=offset,
        page_size=PAGE,
        states=CHECK_STATES,
        verdicts=CHECK_GRADES,
    )


@router.get("/checks/{check_id}")
async def a_check(check_id: str, desk: Signed) -> Response:
    return await _check_page(desk, check_id)


async def _check_page(
    desk: Desk, check_id: str, refused: Refused | None = None, filled: dict[str, str] | None = None
) -> Response:
    found = await the_check(desk, check_id)
    raters, invitations, mine = await asyncio.gather(
        desk.get("evaluation", f"/v1/satisfaction-checks/{check_id}/raters"),
        desk.get("evaluation", f"/v1/satisfaction-checks/{check_id}/invitations"),
        desk.get("evaluation", "/v1/imports"),
    )
    members = await members_served(desk, found, filled) if found["status"] == "open" else None
    return desk.page(
        "check.html",
        refused.status if refused else 200,
        check=found,
        raters=raters["raters"],
        no_phone=without_phone(raters["raters"]),
        erased=erased_raters(raters["raters"]),
        invitations=invitations,
        imports=[i for i in mine if i["scope_id"] == check_id],
        grades=CHECK_GRADES,
        states=CHECK_STATES,
        members=members,
        refused=refused,
        filled=filled or {},
    )


async def members_served(desk: Desk, found: dict[str, Any], filled: dict[str, str] | None) -> Found:
    """A member of the township served by the item, found by name in the township's roll
    (not a number typed in); a refused form's choice kept."""
    chosen = (filled or {}).get("member_id", "").strip()
    kept = None
    if ID.match(chosen):  # a form's value, put in a path: an id or nothing
        try:
            member = await desk.get("pledge", f"/v1/members/{chosen}")
        except Refused:  # not a member: the service's reason is beside the field
            pass
        else:
            kept = (chosen, member["name"])
    q = typed(desk, "member_id")
    return await find(desk, "members", q, kept, township=found["township_id"])


def _body(form: dict[str, str], what: str) -> dict[str, Any]:
    if what == "raters":
        person = {k: form[k].strip() for k in PERSONAL if form.get(k, "").strip()}
        return {"raters": [person]}
    if what == "ballots":
        rater_id = form.get("rater_id") or None
        return {"grade": form.get("grade", ""), "rater_id": rater_id, "channel": "paper"}
    if what == "extension":
        return {"closes_on": form.get("closes_on", "")}
    return {}


@router.get("/checks/{check_id}/raters/template.xlsx")
async def raters_template(check_id: str, desk: Signed) -> Response:
    await the_check(desk, check_id)
    path = f"/v1/satisfaction-checks/{check_id}/raters/template.xlsx"
    return xlsx_download(await desk.get("evaluation", path), "raters.xlsx")


@router.post("/checks/{check_id}/raters/imports")
async def upload_raters(check_id: str, desk: Signed) -> Response:
    await the_check(desk, check_id)
    form = await desk.form()
    path = f"/v1/satisfaction-checks/{check_id}/raters/imports"
    try:
        return await send_upload(desk, "evaluation", path, "raters_file")
    except Refused as refused:
        return await _check_page(desk, check_id, refused, form)


@router.post("/checks/{check_id}/invitation-sheet")
async def invitation_sheet(check_id: str, desk: Signed) -> Response:
    await the_check(desk, check_id)
    return await print_sheet(desk, "satisfaction-checks", check_id, f"/checks/{check_id}")


@router.post("/checks/{check_id}/invitations/{rater_id}/reissue")
async def reissue_invitation(check_id: str, rater_id: str, desk: Signed) -> Response:
    await the_check(desk, check_id)
    path = "satisfaction-checks"
    return await reissue(desk, path, check_id, rater_id, f"/checks/{check_id}")


@router.get("/checks/{check_id}/raters/{rater_id}/erasure")
async def erasure(check_id: str, rater_id: str, desk: Signed) -> Response:
    await the_check(desk, check_id)
    listed = f"/v1/satisfaction-checks/{check_id}/raters"
    return await erasure_page(desk, listed, rater_id, f"/checks/{check_id}")


@router.post("/checks/{check_id}/raters/{rater_id}/erasure")
async def erase_rater(check_id: str, rater_id: str, desk: Signed) -> Response:
    await the_check(desk, check_id)
    listed = f"/v1/satisfaction-checks/{check_id}/raters"
    return await erase(desk, listed, rater_id, f"/checks/{check_id}")


Write = Literal["raters", "ballots", "closure", "extension"]


# last: the other routes of a check (the invitation sheet …) are matched before this one
@router.post("/checks/{check_id}/{what}")
async def write(check_id: str, what: Write, desk: Signed) -> Response:
    """A write about the check: a person served (`raters`, sealed by the service, A7), a
    paper ballot one of them handed in (`ballots`, entered by the office), `closure`, or a
    later closing date (`extension`, which reopens a check that got no ballot). A refusal
    shows on the check's page beside its field."""
    await the_check(desk, check_id)
    form = await desk.form()
    path = f"/v1/satisfaction-checks/{check_id}/{what}"
    try:
        await desk.post("evaluation", path, _body(form, what), form.get("key", ""))
    except Refused as refused:
        fields_under(refused, "raters.0.")
        return await _check_page(desk, check_id, refused, form)
    return desk.redirect(f"/checks/{check_id}")
