"""Directory routes (D1–D3): counties, townships, branches, members."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from pydantic import Field

from services.pledge import commands as c
from services.pledge import handlers as h
from services.pledge import queries as q
from services.pledge.access import oversees_township
from services.pledge.schemas import (
    Accepted,
    BranchView,
    CountyView,
    MemberPage,
    MemberView,
    TownshipView,
)
from shared.auth import require_seen
from shared.events import ID_PATTERN
from shared.http import IdempotencyDep, PathId, QueryId, QueryOffset, Reader, SignedIn, run
from shared.text import Line

router = APIRouter(prefix="/v1", tags=["directory"])
MEMBERS_BY_ID = 100  # the most members asked for by their ids at once (`member_id=` repeated)
MemberIds = Annotated[
    list[Annotated[str, Field(pattern=ID_PATTERN)]] | None,
    Query(min_length=1, max_length=MEMBERS_BY_ID),
]


@router.post("/counties", status_code=201, response_model=Accepted, operation_id="establishCounty")
async def establish_county(
    cmd: c.EstablishCounty, request: Request, who: SignedIn, idem: IdempotencyDep
) -> Any:
    return await run(request, who, idem, lambda uow: h.establish_county(uow, cmd, who))


@router.get("/counties/{county_id}", response_model=CountyView, operation_id="getCounty")
async def get_county(county_id: PathId, conn: Reader) -> Any:
    return await q.county(conn, county_id=county_id)


@router.post(
    "/counties/{county_id}/calendars", response_model=Accepted, operation_id="setPledgeCalendar"
)
async def set_calendar(
    county_id: PathId,
    cmd: c.SetPledgeCalendar,
    request: Request,
    who: SignedIn,
    idem: IdempotencyDep,
) -> Any:
    return await run(request, who, idem, lambda uow: h.set_calendar(uow, county_id, cmd, who))


@router.post(
    "/counties/{county_id}/categories", response_model=Accepted, operation_id="configureCategories"
)
async def configure_categories(
    county_id: PathId,
    cmd: c.ConfigureCategories,
    request: Request,
    who: SignedIn,
    idem: IdempotencyDep,
) -> Any:
    return await run(
        request, who, idem, lambda uow: h.configure_categories(uow, county_id, cmd, who)
    )


@router.post(
    "/counties/{county_id}/townships",
    status_code=201,
    response_model=Accepted,
    operation_id="establishTownship",
)
async def establish_township(
    county_id: PathId,
    cmd: c.EstablishTownship,
    request: Request,
    who: SignedIn,
    idem: IdempotencyDep,
) -> Any:
    return await run(request, who, idem, lambda uow: h.establish_township(uow, county_id, cmd, who))


@router.get("/townships/{township_id}", response_model=TownshipView, operation_id="getTownship")
async def get_township(township_id: PathId, conn: Reader) -> Any:
    return await q.township(conn, township_id=township_id)


@router.post(
    "/townships/{township_id}/head", response_model=Accepted, operation_id="appointTownshipHead"
)
async def appoint_head(
    township_id: PathId,
    cmd: c.AppointTownshipHead,
    request: Request,
    who: SignedIn,
    idem: IdempotencyDep,
) -> Any:
    return await run(
        request, who, idem, lambda uow: h.appoint_township_head(uow, township_id, cmd, who)
    )


@router.post("/branches", status_code=201, response_model=Accepted, operation_id="establishBranch")
async def establish_branch(
    cmd: c.EstablishBranch, request: Request, who: SignedIn, idem: IdempotencyDep
) -> Any:
    return await run(request, who, idem, lambda uow: h.establish_branch(uow, cmd, who))


@router.get("/branches/{branch_id}", response_model=BranchView, operation_id="getBranch")
async def get_branch(branch_id: PathId, conn: Reader) -> Any:
    return await q.branch(conn, branch_id=branch_id)


@router.post(
    "/branches/{branch_id}/secretary", response_model=Accepted, operation_id="appointSecretary"
)
async def appoint_secretary(
    branch_id: PathId,
    cmd: c.AppointSecretary,
    request: Request,
    who: SignedIn,
    idem: IdempotencyDep,
) -> Any:
    return await run(request, who, idem, lambda uow: h.appoint_secretary(uow, branch_id, cmd, who))


@router.post("/branches/{branch_id}/move", response_model=Accepted, operation_id="moveBranch")
async def move_branch(
    branch_id: PathId, cmd: c.MoveBranch, request: Request, who: SignedIn, idem: IdempotencyDep
) -> Any:
    return await run(request, who, idem, lambda uow: h.move_branch(uow, branch_id, cmd, who))


@router.post(
    "/branches/{branch_id}/retirement", response_model=Accepted, operation_id="retireBranch"
)
async def retire_branch(
    branch_id: PathId, cmd: c.Retire, request: Request, who: SignedIn, idem: IdempotencyDep
) -> Any:
    return await run(request, who, idem, lambda uow: h.retire_branch(uow, branch_id, cmd, who))


@router.post("/members", status_code=201, response_model=Accepted, operation_id="enrolMember")
async def enrol_member(
    cmd: c.EnrolMember, request: Request, who: SignedIn, idem: IdempotencyDep
) -> Any:
    return await run(request, who, idem, lambda uow: h.enrol_member(uow, cmd, who))


@router.get("/members", response_model=MemberPage, operation_id="listMembers")
async def list_members(
    conn: Reader,
    who: SignedIn,
    township_id: QueryId,
    branch_id: QueryId | None = None,
    name: Annotated[Line | None, Query(min_length=1, max_length=64)] = None,
    member_id: MemberIds = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: QueryOffset = 0,
) -> Any:
    """D2: a township's members, paged, found by name, or exactly those of the ids given
    (`member_id=` repeated, up to `MEMBERS_BY_ID`: the members a page names, wherever they
    are in the roster; an id of another township's member is not found): for those who keep
    or oversee the township's directory."""
    town = await q.township(conn, township_id=township_id)
    require_seen(  # another county's township: as if there were none (X1)
        who,
        oversees_township(who, township_id, town["county_id"]),
        town["county_id"],
        "乡镇名册只供该乡镇创先办、党委、县里和审计员查看。",
        q.no_township(township_id),
    )
    return await q.members(
        conn,
        township_id=township_id,
        branch_id=branch_id,
        name=name,
        member_ids=member_id,
        limit=limit,
        offset=offset,
    )


@router.get("/members/{member_id}", response_model=MemberView, operation_id="getMember")
async def get_member(member_id: PathId, conn: Reader) -> Any:
    return await q.member(conn, member_id=member_id)


@router.post("/members/{member_id}/post", response_model=Accepted, operation_id="assignPost")
async def assign_post(
    member_id: PathId, cmd: c.AssignPost, request: Request, who: SignedIn, idem: IdempotencyDep
) -> Any:
    return await run(request, who, idem, lambda uow: h.assign_post(uow, member_id, cmd, who))


@router.post(
    "/members/{member_id}/transfer", response_model=Accepted, operation_id="transferMember"
)
async def transfer_member(
    member_id: PathId, cmd: c.TransferMember, request: Request, who: SignedIn, idem: IdempotencyDep
) -> Any:
    return await run(request, who, idem, lambda uow: h.transfer_member(uow, member_id, cmd, who))


@router.post(
    "/members/{member_id}/retirement", response_model=Accepted, operation_id="retireMember"
)
async def retire_member(
    member_id: PathId, cmd: c.Retire, request: Request, who: SignedIn, idem: IdempotencyDep
) -> Any:
    return await run(request, who, idem, lambda uow: h.retire_member(uow, member_id, cmd, who))
