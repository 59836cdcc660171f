"""待办: what is due for the signed-in person (the notification service's inbox)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import Response

from services.console.calls import Refused
from services.console.web import Signed

router = APIRouter()
PAGE = 20


@router.get("/")
async def todo(desk: Signed, page: Annotated[int, Query(ge=1, le=10_000)] = 1) -> Response:
    """The inbox, newest first, a page at a time (one more asked for: is there a next page)."""
    try:
        inbox = await desk.get(
            "notification", "/v1/inbox", unread=False, limit=PAGE + 1, offset=(page - 1) * PAGE
        )
    except Refused as refused:
        return desk.page("home.html", inbox=None, refused=refused, page=page, has_more=False)
    desk.remember_todo(int(inbox.get("unread", desk.todo_count)))  # the newest count
    has_more = len(inbox["notices"]) > PAGE
    inbox["notices"] = inbox["notices"][:PAGE]
    return desk.page("home.html", inbox=inbox, refused=None, page=page, has_more=has_more)


@router.post("/notices/{notice_id}/read")
async def mark_read(notice_id: str, desk: Signed) -> Response:
    form = await desk.form()
    await desk.post("notification", f"/v1/inbox/{notice_id}/read", {}, form.get("key", ""))
    desk.session.todo_at = 0.0  # one fewer: asked again on the next page
    return desk.redirect("/")
