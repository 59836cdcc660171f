"""The township's branches and members (D2, D3) as its office keeps them: the roll, paged and
found by name; a branch established, a member enrolled; a branch's secretary appointed, the
branch moved or retired; a member's post and leadership-team membership, transfer, retirement.
Every rule is the pledge service's; its refusals are shown beside the field they concern."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Query
from fastapi.responses import Response

from services.console.calls import Refused
from services.console.pages.picker import SHOWN, Found, an_id, find, matching, source, typed
from services.console.web import Desk, Signed

router = APIRouter()
PAGE = 30
KINDS = {"village": "村党组织", "agency": "机关党组织", "school": "学校党组织"}


def office_township(desk: Desk) -> str:
    """The township whose directory the person keeps: the office's own."""
    return desk.org_of(("township_office",), "“支部与党员”由乡镇创先办使用；请切换到创先办身份。")


def ours(desk: Desk, record: dict[str, Any]) -> None:
    """A branch or member of another township is not this office's to see."""
    if record.get("township_id") != office_township(desk):
        raise Refused(403, "这不是本镇的支部或党员，无权查看。")


async def write(
    desk: Desk, path: str, body: dict[str, Any], form: dict[str, str]
) -> Refused | None:
    """One directory change with the form's idempotency key; the refusal, if refused."""
    try:
        await desk.post("pledge", path, body, form.get("key", ""))
    except Refused as refused:
        return refused
    return None


def shown(
    desk: Desk,
    template: str,
    refused: Refused | None,
    form: str,
    filled: dict[str, str] | None,
    **context: Any,
) -> Response:
    """A page of several forms; after a refusal, `form` (the one sent) is shown again with
    what was typed and the service's hints beside its fields."""
    return desk.form_page(
        template,
        refused,
        filled,
        form=form,
        **context,
    )


def choices(rows: list[dict[str, Any]], key: str = "branch_id") -> list[tuple[str, str]]:
    """A select's options: the (active) branches, members or townships, by id and name."""
    return [(r[key], r["name"]) for r in rows if r.get("active", True)]


def text(form: dict[str, str], *names: str) -> dict[str, Any]:
    return {n: form.get(n, "").strip() for n in names}


@source("members")
async def members_found(desk: Desk, q: str, params: Mapping[str, str]) -> Found:
    """A township's active members whose name holds `q` (of one branch with `branch`, else
    each named with their branch), as the pledge service lets the person see its roll."""
    branch_id = an_id(params, "branch") if params.get("branch") else None
    rows = await roll_found(desk, an_id(params, "township"), q, SHOWN + 1, branch_id)
    return matching(rows, q, filtered=True)


async def roll_found(
    desk: Desk, township_id: str, q: str, limit: int, branch_id: str | None = None
) -> list[tuple[str, str]]:
    """The first `limit` members of the township's roll (or of one branch) whose name holds
    `q`, the active ones (they come first), each named with their branch unless of one."""
    found = await desk.get(
        "pledge",
        "/v1/members",
        township_id=township_id,
        branch_id=branch_id,
        name=q or None,
        limit=limit,
    )
    return [
        (m["member_id"], m["name"] if branch_id else f"{m['name']}（{m['branch']}）")
        for m in found["rows"]
        if m["active"]
    ]


# --- the township's roll ------------------------------------------------------------------


@router.get("/directory")
async def roll(
    desk: Signed,
    name: Annotated[str | None, Query(max_length=64)] = None,
    page: Annotated[int, Query(ge=1, le=10_000)] = 1,
) -> Response:
    return await _roll(desk, name=(name or "").strip(), page=page)


async def _roll(
    desk: Desk,
    *,
    name: str = "",
    page: int = 1,
    refused: Refused | None = None,
    form: str = "",
    filled: dict[str, str] | None = None,
) -> Response:
    township_id = office_township(desk)
    town = await desk.get("pledge", f"/v1/townships/{township_id}")
    members = await desk.get(
        "pledge",
        "/v1/members",
        township_id=township_id,
        name=name or None,
        limit=PAGE,
        offset=(page - 1) * PAGE,
    )
    return shown(
        desk,
        "directory.html",
        refused,
        form,
        filled,
        town=town,
        members=members,
        name=name,
        page=page,
        pages=max(1, -(-members["total"] // PAGE)),
        kinds=KINDS,
        branch_options=choices(town["branches"]),
    )


@router.post("/directory/branches")
async def establish_branch(desk: Signed) -> Response:
    form = await desk.form()
    body = {"township_id": office_township(desk), **text(form, "name", "kind")}
    body["village"] = form.get("village", "").strip() or None
    refused = await write(desk, "/v1/branches", body, form)
    if refused:
        return await _roll(desk, refused=refused, form="branch", filled=form)
    return desk.redirect("/directory")


@router.post("/directory/members")
async def enrol_member(desk: Signed) -> Response:
    form = await desk.form()
    office_township(desk)
    body = text(form, "branch_id", "name", "post", "duties")
    body["leadership_team"] = form.get("leadership_team") == "yes"
    refused = await write(desk, "/v1/members", body, form)
    if refused:
        return await _roll(desk, refused=refused, form="member", filled=form)
    return desk.redirect("/directory?" + urlencode({"name": body["name"]}))  # shown found


# --- one branch -----------------------------------------------------------------------------


@router.get("/directory/branches/{branch_id}")
async def branch_page(branch_id: str, desk: Signed) -> Response:
    return await _branch(desk, branch_id)


async def _branch(
    desk: Desk,
    branch_id: str,
    *,
    refused: Refused | None = None,
    form: str = "",
    filled: dict[str, str] | None = None,
) -> Response:
    branch = await desk.get("pledge", f"/v1/branches/{branch_id}")
    ours(desk, branch)
    county = await desk.get("pledge", f"/v1/counties/{branch['county_id']}")
    # kept on the secretary's list: a refused form's choice, or the secretary now
    chosen = (filled or {}).get("member_id") or branch["secretary_id"]
    kept = next(
        ((m["member_id"], m["name"]) for m in branch["members"] if m["member_id"] == chosen), None
    )
    return shown(
        desk,
        "directory_branch.html",
        refused,
        form,
        filled,
        branch=branch,
        townships=choices(county["townships"], "township_id"),
        secretary=await find(
            desk,
            "members",
            typed(desk, "secretary-member_id"),
            kept,
            township=branch["township_id"],
            branch=branch_id,
        ),
        kinds=KINDS,
    )


BRANCH_CHANGES = {  # the form's name: the service's path under the branch, the fields sent
    "secretary": ("secretary", ("member_id",)),
    "move": ("move", ("township_id",)),
    "retirement": ("retirement", ("reason",)),
}


@router.post("/directory/branches/{branch_id}/{change}")
async def change_branch(branch_id: str, change: str, desk: Signed) -> Response:
    form = await desk.form()
    if change not in BRANCH_CHANGES:
        raise Refused(404, "没有这项操作。")
    branch = await desk.get("pledge", f"/v1/branches/{branch_id}")
    ours(desk, branch)
    path, names = BRANCH_CHANGES[change]
    refused = await write(desk, f"/v1/branches/{branch_id}/{path}", text(form, *names), form)
    if refused:
        return await _branch(desk, branch_id, refused=refused, form=change, filled=form)
    if change == "move":  # no longer this township's: back to the roll
        return desk.redirect("/directory")
    return desk.redirect(f"/directory/branches/{branch_id}")


# --- one member -----------------------------------------------------------------------------


@router.get("/directory/members/{member_id}")
async def member_page(member_id: str, desk: Signed) -> Response:
    return await _member(desk, member_id)


async def _member(
    desk: Desk,
    member_id: str,
    *,
    refused: Refused | None = None,
    form: str = "",
    filled: dict[str, str] | None = None,
) -> Response:
    member = await desk.get("pledge", f"/v1/members/{member_id}")
    ours(desk, member)
    town = await desk.get("pledge", f"/v1/townships/{member['township_id']}")
    branch = next((b for b in town["branches"] if b["branch_id"] == member["branch_id"]), None)
    return shown(
        desk,
        "directory_member.html",
        refused,
        form,
        filled,
        member=member,
        branch=branch,
        branch_options=choices(town["branches"]),
    )


@router.post("/directory/members/{member_id}/{change}")
async def change_member(member_id: str, change: str, desk: Signed) -> Response:
    form = await desk.form()
    member = await desk.get("pledge", f"/v1/members/{member_id}")
    ours(desk, member)
    if change == "post":
        body = text(form, "post", "duties")
        body["leadership_team"] = form.get("leadership_team") == "yes"
    elif change == "transfer":
        body = text(form, "branch_id")
    elif change == "retirement":
        body = text(form, "reason")
    else:
        raise Refused(404, "没有这项操作。")
    refused = await write(desk, f"/v1/members/{member_id}/{change}", body, form)
    if refused:
        return await _member(desk, member_id, refused=refused, form=change, filled=form)
    return desk.redirect(f"/directory/members/{member_id}")
