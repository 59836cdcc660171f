"""待办: what is due for the signed-in person (the notification service's inbox)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from fastapi.responses import Response

from services.console.calls import Refused
from services.console.web import Desk, signed_in

router = APIRouter()
Signed = Annotated[Desk, Depends(signed_in)]


@router.get("/")
async def todo(desk: Signed) -> Response:
    try:
        inbox = await desk.get("notification", "/v1/inbox", unread=False, limit=50)
    except Refused as refused:
        return desk.page("home.html", inbox=None, refused=refused)
    desk.remember_todo(int(inbox.get("unread", desk.todo_count)))  # the newest count
    return desk.page("home.html", inbox=inbox, refused=None)


@router.post("/notices/{notice_id}/read")
async def mark_read(notice_id: str, desk: Signed) -> Response:
    form = await desk.form()
    await desk.post("notification", f"/v1/inbox/{notice_id}/read", {}, form.get("key", ""))
    desk.session.todo_at = 0.0  # one fewer: asked again on the next page
    return desk.redirect("/")
