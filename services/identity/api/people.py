"""People and their posts: registered, granted, revoked, locked, unlocked, each an event with
its actor; a person's posts at any moment; activation codes for the office to print."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse

from services.identity import access
from services.identity import commands as c
from services.identity import handlers as h
from services.identity import queries as q
from services.identity.api.deps import keys_loaded, public_base, secrets_of, templates
from services.identity.schemas import Accepted, ActivationIssued, PeoplePage, PersonView, PostsOn
from shared.auth import require, require_seen
from shared.errors import NotFound
from shared.http import AsOf, IdempotencyDep, PathId, QueryId, QueryOffset, Reader, SignedIn, run
from shared.text import Line

router = APIRouter(dependencies=[Depends(keys_loaded)], prefix="/v1/people", tags=["people"])


@router.post("", status_code=201, response_model=Accepted, operation_id="registerPerson")
async def register(
    cmd: c.RegisterPerson, request: Request, who: SignedIn, idem: IdempotencyDep
) -> Any:
    return await run(request, who, idem, lambda uow: h.register_person(uow, cmd, who))


@router.get("", response_model=PeoplePage, operation_id="listPeople")
async def people(
    conn: Reader,
    who: SignedIn,
    county_id: QueryId,
    name: Annotated[
        Line | None,
        Query(min_length=1, max_length=64, description="found anywhere in the person's name"),
    ] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: QueryOffset = 0,
) -> Any:
    """The county's people, paged; with `name`, those whose name contains it (a surname, a
    given name, any part of it). Never by phone or ID number: those are login names, kept
    only as keyed hashes, and a URL stays in proxies' logs and browsers' history."""
    require(access.may_see_posts(who, "", county_id), "人员名单只供县管理员和审计员查看。")
    found = name.strip() if name else None
    return await q.people(conn, county_id=county_id, name=found, limit=limit, offset=offset)


@router.post("/lookup", response_model=PeoplePage, operation_id="findPersonByLogin")
async def by_login(asked: c.FindByLogin, conn: Reader, who: SignedIn) -> Any:
    """The person whose login name (phone or ID number) this is: for the county
    administrator, who manages its accounts; the number is compared by its keyed hash."""
    why = "按手机号或身份证号查找人员只供县管理员使用。"
    require(access.may_find_by_login(who, asked.county_id), why)
    return await q.person_by_login(conn, county_id=asked.county_id, login_name=asked.login_name)


async def _visible(conn: Any, who: Any, person_id: str) -> dict[str, Any]:
    person = await q.person(conn, person_id)
    missing = NotFound("没有找到该人员：请核对后再试。", person_id=person_id)
    if person is None:
        raise missing
    require_seen(  # another county's person: as if there were none (X1)
        who,
        access.may_see_posts(who, person_id, person["county_id"]),
        person["county_id"],
        "本人可查看自己的岗位；县管理员和审计员可查看所有人的岗位。",
        missing,
    )
    return person


@router.get("/{person_id}", response_model=PersonView, operation_id="getPerson")
async def person(person_id: PathId, conn: Reader, who: SignedIn) -> Any:
    return await _visible(conn, who, person_id)


@router.get("/{person_id}/posts", response_model=PostsOn, operation_id="postsOn")
async def posts_on(
    person_id: PathId,
    request: Request,
    conn: Reader,
    who: SignedIn,
    at: Annotated[AsOf | None, Query(description="The moment, e.g. 2027-03-31T16:00+08:00")] = None,
) -> Any:
    """The posts the person held at `at` (now, unless given): an auditor replays who could
    do what on any date."""
    await _visible(conn, who, person_id)
    moment = at or datetime.now(UTC)
    if moment.tzinfo is None:  # a local time (a bare date: its start)
        moment = moment.replace(tzinfo=request.app.state.runtime.settings.local_timezone)
    return {
        "person_id": person_id,
        "at": moment,
        "posts": await q.posts_on(conn, person_id=person_id, at=moment),
    }


@router.post(
    "/{person_id}/posts", status_code=201, response_model=Accepted, operation_id="grantPost"
)
async def grant(
    person_id: PathId, cmd: c.GrantPost, request: Request, who: SignedIn, idem: IdempotencyDep
) -> Any:
    return await run(request, who, idem, lambda uow: h.grant_post(uow, person_id, cmd, who))


@router.post("/{person_id}/posts/revocation", response_model=Accepted, operation_id="revokePost")
async def revoke(
    person_id: PathId, cmd: c.RevokePost, request: Request, who: SignedIn, idem: IdempotencyDep
) -> Any:
    return await run(request, who, idem, lambda uow: h.revoke_post(uow, person_id, cmd, who))


@router.post("/{person_id}/lock", response_model=Accepted, operation_id="lockPerson")
async def lock(
    person_id: PathId, cmd: c.LockPerson, request: Request, who: SignedIn, idem: IdempotencyDep
) -> Any:
    return await run(request, who, idem, lambda uow: h.lock_person(uow, person_id, cmd, who))


@router.post("/{person_id}/unlock", response_model=Accepted, operation_id="unlockPerson")
async def unlock(person_id: PathId, request: Request, who: SignedIn, idem: IdempotencyDep) -> Any:
    return await run(request, who, idem, lambda uow: h.unlock_person(uow, person_id, who))


@router.post(
    "/{person_id}/activation",
    status_code=201,
    response_model=ActivationIssued,
    operation_id="issueActivation",
)
async def activation(
    person_id: PathId, cmd: c.IssueActivation, request: Request, who: SignedIn
) -> Any:
    """A login name and a one-time activation code, answered once (no idempotency key: a
    repeated request issues a new code, and the earlier one stops working)."""
    secrets = secrets_of(request)
    return await run(
        request, who, None, lambda uow: h.issue_activation(uow, person_id, cmd, who, secrets)
    )


@router.post(
    "/{person_id}/activation/sheet",
    response_class=HTMLResponse,
    operation_id="printActivation",
)
async def activation_sheet(
    person_id: PathId, cmd: c.IssueActivation, request: Request, who: SignedIn
) -> Any:
    """The same, as a printable page to hand to the person (shown once)."""
    secrets = secrets_of(request)
    issued = await run(
        request, who, None, lambda uow: h.issue_activation(uow, person_id, cmd, who, secrets)
    )
    return templates.TemplateResponse(
        request, "activation.html", {"issued": issued, "sign_in": public_base(request) + "/"}
    )
