"""Satisfaction checks of pledge items (E8) and periodic ratings (E6)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request

from services.evaluation import queries as directory
from services.evaluation.access import auditors_only, audits
from services.evaluation.checks import access
from services.evaluation.checks import commands as c
from services.evaluation.checks import handlers as h
from services.evaluation.checks import queries as q
from services.evaluation.checks.schemas import (
    CheckAuditView,
    CheckRatersView,
    CheckTermsView,
    CheckView,
)
from services.evaluation.ratings import commands as rc
from services.evaluation.ratings import handlers as rh
from services.evaluation.ratings import queries as rq
from services.evaluation.ratings.events import RatingLevel
from services.evaluation.ratings.schemas import RatingPage, RatingView
from services.evaluation.schemas import Accepted, TownshipCopy
from shared.directory import county_of
from shared.errors import Forbidden
from shared.http import (
    IdempotencyDep,
    PathId,
    PathYear,
    QueryId,
    QueryOffset,
    Reader,
    SignedIn,
    run,
)

router = APIRouter(prefix="/v1", tags=["satisfaction checks and ratings"])


@router.get("/satisfaction-checks", response_model=list[CheckView], operation_id="listChecks")
async def list_checks(
    conn: Reader, township_id: QueryId | None = None, item_id: QueryId | None = None
) -> Any:
    return await q.checks(conn, township_id=township_id, item_id=item_id)


@router.get("/satisfaction-checks/{check_id}", response_model=CheckView, operation_id="getCheck")
async def get_check(check_id: PathId, conn: Reader) -> Any:
    return await q.check(conn, check_id=check_id)


@router.post(
    "/satisfaction-checks/{check_id}/raters",
    status_code=201,
    response_model=Accepted,
    operation_id="registerServed",
)
async def register_served(
    check_id: PathId, cmd: c.RegisterServed, request: Request, who: SignedIn, idem: IdempotencyDep
) -> Any:
    return await run(request, who, idem, lambda uow: h.register_served(uow, check_id, cmd, who))


@router.get(
    "/satisfaction-checks/{check_id}/raters",
    response_model=CheckRatersView,
    operation_id="getCheckRaters",
)
async def get_check_raters(check_id: PathId, who: SignedIn, conn: Reader) -> Any:
    """The people the item served, for the township office only: a member of the public's
    name with their phone and ID numbers masked, or 已删除 (erased) once erased (A7)."""
    found = await q.check(conn, check_id=check_id)
    if not access.sees_raters(who, found["township_id"]):
        raise Forbidden("只有乡镇创先办可以查看该事项服务对象的名单。")
    return await q.check_raters(conn, check_id=check_id)


@router.post(
    "/satisfaction-checks/{check_id}/ballots",
    status_code=201,
    response_model=Accepted,
    operation_id="castCheckBallot",
)
async def cast_check_ballot(
    check_id: PathId, cmd: c.CheckBallot, request: Request, who: SignedIn, idem: IdempotencyDep
) -> Any:
    batch = request.app.state.runtime.settings.urn_batch  # web ballots go through the urn
    return await run(
        request, who, idem, lambda uow: h.cast_check_ballot(uow, check_id, cmd, who, batch)
    )


@router.get(
    "/satisfaction-checks/{check_id}/audit",
    response_model=CheckAuditView,
    operation_id="auditCheck",
)
async def audit_check(check_id: PathId, who: SignedIn, conn: Reader) -> Any:
    """E3 for a check, as for a round: ballots against distinct registered raters."""
    auditors_only(who)  # an auditor first: whether the check exists is not said to others
    township_id = (await q.check(conn, check_id=check_id))["township_id"]
    audits(who, await county_of(conn, township_id), q.no_check(check_id))
    return await q.check_audit(conn, check_id=check_id)


@router.post(
    "/satisfaction-checks/{check_id}/closure", response_model=Accepted, operation_id="closeCheck"
)
async def close_check(
    check_id: PathId, request: Request, who: SignedIn, idem: IdempotencyDep
) -> Any:
    return await run(request, who, idem, lambda uow: h.close_check(uow, check_id, who))


@router.post(
    "/satisfaction-checks/{check_id}/extension",
    response_model=Accepted,
    operation_id="extendCheck",
)
async def extend_check(
    check_id: PathId, cmd: c.ExtendCheck, request: Request, who: SignedIn, idem: IdempotencyDep
) -> Any:
    """A later closing date (E8): for a check still open, or one that lapsed with no ballot
    (reopened: it takes ballots again until the new date)."""
    return await run(request, who, idem, lambda uow: h.extend_check(uow, check_id, cmd, who))


@router.post(
    "/counties/{county_id}/satisfaction-check-terms",
    response_model=Accepted,
    operation_id="setCheckTerms",
)
async def set_check_terms(
    county_id: PathId, cmd: c.SetCheckTerms, request: Request, who: SignedIn, idem: IdempotencyDep
) -> Any:
    """The county's threshold and window for the year's satisfaction checks (P10c): checks
    opened in that year take them; the defaults (0.8, 14 days) until it is set."""
    return await run(request, who, idem, lambda uow: h.set_check_terms(uow, county_id, cmd, who))


@router.get(
    "/counties/{county_id}/satisfaction-check-terms/{year}",
    response_model=CheckTermsView,
    operation_id="getCheckTerms",
)
async def get_check_terms(county_id: PathId, year: PathYear, conn: Reader) -> Any:
    """The terms checks opened in the year take (the defaults until the county sets them)."""
    return await q.check_terms(conn, county_id=county_id, year=year)


@router.post(
    "/townships/{township_id}/satisfaction-checks/closures",
    response_model=Accepted,
    operation_id="closeDueChecks",
)
async def close_due_checks(
    township_id: PathId, request: Request, who: SignedIn, idem: IdempotencyDep
) -> Any:
    """Close the checks whose window has ended (E8), e.g. from a daily job."""
    return await run(request, who, idem, lambda uow: h.close_due_checks(uow, township_id, who))


@router.post("/ratings", status_code=201, response_model=Accepted, operation_id="publishRating")
async def publish_rating(
    cmd: rc.PublishRating, request: Request, who: SignedIn, idem: IdempotencyDep
) -> Any:
    return await run(request, who, idem, lambda uow: rh.publish_rating(uow, cmd, who))


@router.get("/ratings", response_model=RatingPage, operation_id="listRatings")
async def list_ratings(
    conn: Reader,
    township_id: QueryId | None = None,
    branch_id: QueryId | None = None,
    period: QueryId | None = None,
    level: RatingLevel | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: QueryOffset = 0,
) -> Any:
    """Published ratings are public (N1, N2): a page of them, the latest period first."""
    return await rq.ratings(
        conn,
        township_id=township_id,
        branch_id=branch_id,
        period=period,
        level=level,
        limit=limit,
        offset=offset,
    )


@router.get("/ratings/{rating_id}", response_model=RatingView, operation_id="getRating")
async def get_rating(rating_id: PathId, conn: Reader) -> Any:
    """One published rating (public, N1, N2)."""
    return await rq.rating(conn, rating_id=rating_id)


@router.get(
    "/directory/townships/{township_id}",
    response_model=TownshipCopy,
    operation_id="getTownshipCopy",
)
async def get_township_copy(township_id: PathId, conn: Reader) -> Any:
    """This service's copy of the directory (D2): what decides organisers and subjects (E2)."""
    return await directory.township_copy(conn, township_id=township_id)
