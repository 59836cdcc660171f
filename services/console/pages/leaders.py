"""The township's responsible leaders (R1: 创先办安排负责人…普遍开展点评): for each branch, the
leaders of the township the office assigned to it, paged and printable; the office assigns
one of the township committee's members (the identity service names them) and ends an
assignment; a committee member sees the branches they are responsible for, each a link to
its reviews (the head reviews every branch besides). Every rule is the review service's."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import Response

from services.console.calls import Refused
from services.console.pages.directory import choices, shown
from services.console.pages.picker import Found, matching, offered, source, typed
from services.console.pages.reviews import PAGE, pages_of
from services.console.web import TOWNSHIP_POSTS, Desk, Signed

router = APIRouter()
REFUSAL = "“联系领导”由乡镇创先办（安排）和乡镇党委（查看）使用；请切换到相应身份。"
OFFICE_ONLY = "安排联系领导由乡镇创先办办理；请切换到创先办身份。"


async def committee(desk: Desk, township_id: str) -> list[dict[str, Any]]:
    """The township committee's members now (its head marked): the leaders to choose from."""
    found: dict[str, Any] = await desk.get("identity", f"/v1/townships/{township_id}/committee")
    members: list[dict[str, Any]] = found["members"]
    return members


@source("committee")
async def leaders_found(desk: Desk, q: str, params: Mapping[str, str]) -> Found:
    """The office's township committee members whose name holds `q` (the head marked)."""
    return matching(named(await committee(desk, office_of(desk))), q)


def named(members: list[dict[str, Any]]) -> list[tuple[str, str]]:
    return [
        (p["person_id"], f"{p['name']}（党委书记）" if p["head"] else p["name"]) for p in members
    ]


@router.get("/leaders")
async def leaders(desk: Signed, page: Annotated[int, Query(ge=1, le=10_000)] = 1) -> Response:
    return await _leaders(desk, page)


async def _leaders(
    desk: Desk,
    page: int = 1,
    refused: Refused | None = None,
    form: str = "",
    filled: dict[str, str] | None = None,
) -> Response:
    township_id = desk.org_of(TOWNSHIP_POSTS, REFUSAL)
    town = await desk.get("pledge", f"/v1/townships/{township_id}")
    active = [b for b in town["branches"] if b["active"]]
    assigned = await desk.get("review", "/v1/branch-leaders", township_id=township_id, limit=1000)
    by_branch: dict[str, list[dict[str, Any]]] = {}
    for row in assigned["rows"]:
        by_branch.setdefault(row["branch_id"], []).append(row)
    office = desk.session.role == "township_office"
    mine: list[dict[str, Any]] = []
    if not office:  # a committee member: the branches they are responsible for
        found = await desk.get(
            "review", "/v1/branch-leaders", leader_id=desk.session.person, limit=1000
        )
        names = {b["branch_id"]: b["name"] for b in town["branches"]}
        mine = [
            {"branch_id": r["branch_id"], "name": names.get(r["branch_id"], r["branch_id"])}
            for r in found["rows"]
            if r["township_id"] == township_id
        ]
    leader_options: Found | None = None
    left: set[str] = set()  # assigned leaders no longer on the committee: they cannot review
    if office:
        try:
            members = await committee(desk, township_id)
            typed_name = typed(desk, "assign-leader_id")
            chosen = (filled or {}).get("leader_id", "")
            leader_options = offered(
                matching(named(members), typed_name, chosen=chosen), "committee"
            )
        except Refused:  # the identity service not reached: the assignments are still shown
            pass
        else:
            left = {r["leader_id"] for r in assigned["rows"]} - {p["person_id"] for p in members}
    return shown(
        desk,
        "leaders.html",
        refused,
        form,
        filled,
        town=town,
        branches=active[(page - 1) * PAGE : page * PAGE],
        by_branch=by_branch,
        assigned_total=assigned["total"],
        page=page,
        pages=pages_of(len(active)),
        office=office,
        mine=mine,
        branch_options=choices(active),
        leader_options=leader_options,
        left=left,
    )


def office_of(desk: Desk) -> str:
    return desk.org_of(("township_office",), OFFICE_ONLY)


@router.post("/leaders")
async def assign(desk: Signed) -> Response:
    """R1: the office assigns a member of the township committee to a branch."""
    form = await desk.form()
    township_id = office_of(desk)
    branch_id, leader_id = form.get("branch_id", ""), form.get("leader_id", "")
    names: dict[str, str] = {}
    try:
        if not branch_id:  # no branch to send the assignment to: asked beside the field
            raise Refused(422, "请选择支部。", fields={"branch_id": "请选择支部"})
        names = {p["person_id"]: p["name"] for p in await committee(desk, township_id)}
        body = {"leader_id": leader_id, "leader_name": names.get(leader_id, "")}
        await desk.post("review", f"/v1/branches/{branch_id}/leaders", body, form.get("key", ""))
    except Refused as refused:
        if "leader_name" in refused.fields:  # the name comes with the chosen leader
            refused.fields.setdefault("leader_id", refused.fields.pop("leader_name"))
        if leader_id in names and "leader_id" in refused.fields:
            # seated by the identity service a moment ago: the review service copies the
            # seat as its event arrives
            refused.fields["leader_id"] += "如刚刚任命，请稍后再试。"
        return await _leaders(desk, refused=refused, form="assign", filled=form)
    return desk.redirect("/leaders")


@router.post("/leaders/{branch_id}/{leader_id}/unassignment")
async def unassign(branch_id: str, leader_id: str, desk: Signed) -> Response:
    """R1: the office ends an assignment (reviews the leader recorded while assigned count)."""
    form = await desk.form()
    office_of(desk)
    try:
        await desk.post(
            "review",
            f"/v1/branches/{branch_id}/leaders/{leader_id}/unassignment",
            {},
            form.get("key", ""),
        )
    except Refused as refused:
        return await _leaders(desk, refused=refused, form="unassign")
    return desk.redirect("/leaders")
