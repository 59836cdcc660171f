"""Mass evaluation rounds (E1–E5) for the township's office and committee: the rounds, their
turnout, and the invitations to print (issue 17): an A4 sheet of cut-out slips, each with a
code and a QR code, that the evaluation service makes and the console hands to the printer."""

from __future__ import annotations

import asyncio
from typing import Annotated

from fastapi import APIRouter, Depends
from fastapi.responses import HTMLResponse, Response

from services.console.calls import Refused
from services.console.web import Desk, signed_in

router = APIRouter()
Signed = Annotated[Desk, Depends(signed_in)]
TOWNSHIP_POSTS = ("township_committee", "township_office")


def township_of(desk: Desk) -> str:
    if desk.session.role not in TOWNSHIP_POSTS or not desk.session.org:
        raise Refused(403, "评议工作页面由乡镇党委和创先办使用。")
    return desk.session.org


@router.get("/rounds")
async def rounds(desk: Signed) -> Response:
    township_id = township_of(desk)
    listed = await desk.get("evaluation", "/v1/rounds", township_id=township_id)
    open_ids = [r["round_id"] for r in listed if r["status"] == "open"]
    asked = [desk.get("evaluation", f"/v1/rounds/{i}/invitations") for i in open_ids]
    turnouts = dict(zip(open_ids, await asyncio.gather(*asked), strict=True))  # at once
    return desk.page("rounds.html", rounds=listed, turnouts=turnouts)


@router.post("/rounds/{round_id}/invitation-sheet")
async def invitation_sheet(round_id: str, desk: Signed) -> Response:
    """Invitations for every registered rater not invited yet, as the sheet to print; the
    codes are in this page only (the service keeps their hashes), so print it now."""
    township_of(desk)
    await desk.form()
    answer = await desk.console.services.call(
        "evaluation",
        "POST",
        f"/v1/rounds/{round_id}/invitation-sheet",
        token=desk.token,
        body={},
        raw=True,
    )
    headers = {
        k: v
        for k, v in answer.headers.items()
        if k.lower() in ("content-security-policy", "cache-control", "referrer-policy")
    }
    return HTMLResponse(answer.text, headers=headers)
