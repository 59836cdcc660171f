"""Accounts and posts, for the county administrator (issue 16): the county's people, paged
and found by name (or, in a form's body so the number is in no URL, by the phone or ID
number they sign in with), a person registered whom the directory does not hold (an office
clerk, a committee member, an auditor), the posts they hold now, a post granted or revoked,
an account locked or unlocked, a login name with a one-time activation code to hand over
(shown once), and a member's phone for SMS reminders (kept sealed by the notification
service, never shown again)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from fastapi.responses import Response

from services.console.calls import Refused
from services.console.web import ROLES, Desk, Signed

router = APIRouter()
PAGE = 50
# the posts the identity service grants (the directory holds members, secretaries and heads)
GRANTED = ("township_office", "township_committee", "county_admin", "auditor")
Again = Callable[[Refused, dict[str, str]], Awaitable[Response]]


def county_of(desk: Desk) -> str:
    """The county whose administrator the person is (403 for every other post)."""
    return desk.org_of(("county_admin",), "此页面由县管理员使用；请切换到县管理员身份。")


async def submit(
    desk: Desk,
    service: str,
    path: str,
    body: dict[str, Any],
    form: dict[str, str],
    *,
    done: str,
    again: Again,
) -> Response:
    """A form's write with its idempotency key: on to `done`, or the form again with the
    service's refusal beside its fields."""
    try:
        await desk.post(service, path, body, form.get("key", ""))
    except Refused as refused:
        return await again(refused, form)
    return desk.redirect(done)


@router.get("/accounts")
async def people(
    desk: Signed,
    name: Annotated[str, Query(max_length=200)] = "",
    page: Annotated[int, Query(ge=1, le=10_000)] = 1,
) -> Response:
    return await _people(desk, page, name=name.strip())


async def _people(
    desk: Desk,
    page: int = 1,
    refused: Refused | None = None,
    filled: dict[str, str] | None = None,
    *,
    name: str = "",
    form: str = "register",
) -> Response:
    """The county's people (those whose name holds `name`, if given), with the search forms
    and the registration form; `form`: the one a refusal is about."""
    county = county_of(desk)
    empty = {"items": [], "total": 0}
    try:
        found = await desk.get(
            "identity",
            "/v1/people",
            county_id=county,
            name=name or None,
            limit=PAGE,
            offset=(page - 1) * PAGE,
        )
    except Refused as bad:  # the name to find is refused: beside the search box
        if bad.status != 422 or refused is not None:
            raise
        found, refused, filled, form = empty, bad, {"name": name}, "find"
    return desk.form_page(
        "accounts.html",
        refused,
        filled,
        people=found,
        name=name,
        form=form,
        page=page,
        pages=max(1, -(-found["total"] // PAGE)),
    )


@router.post("/accounts")
async def register(desk: Signed) -> Response:
    form = await desk.form()
    body = {"name": form.get("name", "").strip(), "county_id": county_of(desk)}
    try:
        accepted = await desk.post("identity", "/v1/people", body, form.get("key", ""))
    except Refused as refused:
        return await _people(desk, refused=refused, filled=form)
    return desk.redirect(f"/accounts/{accepted['id']}")


@router.post("/accounts/lookup")
async def lookup(desk: Signed) -> Response:
    """The person who signs in with this phone or ID number: their page, or the search form
    again saying none does. Posted, so the number is in no address, history or log."""
    form = await desk.form()
    body = {"county_id": county_of(desk), "login_name": form.get("login_name", "").strip()}
    try:
        found = await desk.console.services.call(
            "identity", "POST", "/v1/people/lookup", token=desk.token, body=body
        )
        if not found["items"]:
            why = "没有人使用这个登录名：请核对号码，或按姓名查找。"
            raise Refused(404, "没有找到这个手机号或身份证号的账号。", fields={"login_name": why})
    except Refused as refused:
        return await _people(desk, refused=refused, filled=form, form="lookup")
    return desk.redirect(f"/accounts/{found['items'][0]['person_id']}")


@router.get("/accounts/{person_id}")
async def person(person_id: str, desk: Signed) -> Response:
    return await _person(desk, person_id)


async def _person(
    desk: Desk,
    person_id: str,
    refused: Refused | None = None,
    filled: dict[str, str] | None = None,
) -> Response:
    county_id = county_of(desk)
    found = await desk.get("identity", f"/v1/people/{person_id}")
    posts = await desk.get("identity", f"/v1/people/{person_id}/posts")
    county = await desk.get("pledge", f"/v1/counties/{county_id}")
    places = {county_id: f"{county['name']}（县级）"} | {
        t["township_id"]: t["name"] for t in county["townships"]
    }
    named = places | await branches_named(desk, posts["posts"], places)
    return desk.form_page(
        "person.html",
        refused,
        filled,
        person=found,
        posts=posts["posts"],
        places=places,
        named=named,
        roles=[(r, ROLES[r]) for r in GRANTED],
    )


@router.post("/accounts/{person_id}/activation")
async def activation(person_id: str, desk: Signed) -> Response:
    """A login name and a new one-time code: shown on this answer only (a repeated request
    issues another code and the earlier one stops working, so no idempotency key)."""
    form = await desk.form()
    county_of(desk)
    body = {"login_name": form.get("login_name", "").strip()}
    try:
        issued = await desk.console.services.call(
            "identity", "POST", f"/v1/people/{person_id}/activation", token=desk.token, body=body
        )
    except Refused as refused:
        return await _person(desk, person_id, refused, form)
    return desk.page(
        "activation.html", issued=issued, activate=f"{desk.console.settings.identity_url}/activate"
    )


async def branches_named(
    desk: Desk, posts: list[dict[str, Any]], townships: dict[str, str]
) -> dict[str, str]:
    """The branches the person's posts are held in (a member's, a secretary's), each named
    with its township: 城关镇 · 东街村党支部; one the directory does not hold keeps its id."""
    wanted = {p["org"] for p in posts if p.get("org") and p["org"] not in townships}
    branches = await asyncio.gather(
        *(desk.get("pledge", f"/v1/branches/{org}") for org in wanted), return_exceptions=True
    )
    for failed in branches:
        if isinstance(failed, BaseException) and not isinstance(failed, Refused):
            raise failed
    return {
        b["branch_id"]: f"{townships.get(b['township_id'], '')} · {b['name']}".lstrip(" ·")
        for b in branches
        if isinstance(b, dict)
    }


def _post(f: dict[str, str], default_reason: str) -> dict[str, str]:
    return {"role": f.get("role", ""), "org": f.get("org", "")} | {
        "reason": f.get("reason") or default_reason
    }


# what each of the person page's small forms asks: the service, its path, the body
ACTIONS: dict[str, tuple[str, str, Callable[[dict[str, str]], dict[str, str]]]] = {
    "grant": ("identity", "posts", lambda f: _post(f, "任命")),
    "revoke": ("identity", "posts/revocation", lambda f: _post(f, "免职")),
    "lock": ("identity", "lock", lambda f: {"reason": f.get("reason", "").strip()}),
    "unlock": ("identity", "unlock", lambda f: {}),
    # the phone reminders and overdue notices go to by SMS (kept sealed, never shown again)
    "phone": ("notification", "phone", lambda f: {"phone": f.get("phone", "").strip()}),
    "phone-removal": ("notification", "phone/removal", lambda f: {}),
}


@router.post("/accounts/{person_id}/{action}")
async def act(
    person_id: str,
    action: Literal["grant", "revoke", "lock", "unlock", "phone", "phone-removal"],
    desk: Signed,
) -> Response:
    """A post granted or revoked, the account locked or unlocked, the phone for SMS set or
    removed: each an event with its actor at the owning service, which decides who may."""
    form = await desk.form()
    county_of(desk)
    service, path, body = ACTIONS[action]
    return await submit(
        desk,
        service,
        f"/v1/people/{person_id}/{path}",
        body(form),
        form,
        done=f"/accounts/{person_id}",
        again=lambda refused, filled: _person(desk, person_id, refused, filled),
    )
