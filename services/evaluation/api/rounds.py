"""Mass evaluation routes (E1–E5, E7): calendar, rounds, raters, ballots, turnout, results."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from services.evaluation.access import auditors_only, audits
from services.evaluation.documents.results_xlsx import results_workbook
from services.evaluation.rounds import access
from services.evaluation.rounds import commands as c
from services.evaluation.rounds import handlers as h
from services.evaluation.rounds import queries as q
from services.evaluation.rounds.schemas import (
    AuditView,
    CalendarView,
    MemberRound,
    RatersView,
    ResultsView,
    RoundPage,
    RoundView,
    TurnoutView,
)
from services.evaluation.schemas import Accepted
from shared.directory import county_of
from shared.errors import Forbidden, InvalidState
from shared.http import (
    IdempotencyDep,
    PathId,
    PathYear,
    QueryId,
    QueryOffset,
    QueryYear,
    Reader,
    SignedIn,
    run,
)
from shared.workbook import xlsx_download

router = APIRouter(prefix="/v1", tags=["evaluation rounds"])
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@router.post(
    "/counties/{county_id}/evaluation-calendars",
    response_model=Accepted,
    operation_id="setEvaluationCalendar",
)
async def set_calendar(
    county_id: PathId,
    cmd: c.SetEvaluationCalendar,
    request: Request,
    who: SignedIn,
    idem: IdempotencyDep,
) -> Any:
    return await run(request, who, idem, lambda uow: h.set_calendar(uow, county_id, cmd, who))


@router.get(
    "/counties/{county_id}/evaluation-calendars/{year}",
    response_model=CalendarView,
    operation_id="getEvaluationCalendar",
)
async def get_calendar(county_id: PathId, year: PathYear, conn: Reader) -> Any:
    return await q.calendar(conn, county_id=county_id, year=year)


@router.post("/rounds", status_code=201, response_model=Accepted, operation_id="openRound")
async def open_round(
    cmd: c.OpenRound, request: Request, who: SignedIn, idem: IdempotencyDep
) -> Any:
    return await run(request, who, idem, lambda uow: h.open_round(uow, cmd, who))


@router.get("/rounds", response_model=RoundPage, operation_id="listRounds")
async def list_rounds(
    conn: Reader,
    township_id: QueryId | None = None,
    year: QueryYear | None = None,
    organiser_id: QueryId | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: QueryOffset = 0,
) -> Any:
    """Rounds of a township (or all; of one organiser, a township or a branch, if given), a
    page of them, the latest half-year first; who rated whom is never listed."""
    return await q.rounds(
        conn,
        township_id=township_id,
        year=year,
        organiser_id=organiser_id,
        limit=limit,
        offset=offset,
    )


@router.get(
    "/members/{member_id}/rounds", response_model=list[MemberRound], operation_id="getMemberRounds"
)
async def member_rounds(
    member_id: PathId,
    who: SignedIn,
    conn: Reader,
    status: Annotated[Literal["open", "closed"] | None, Query()] = None,
) -> Any:
    """The rounds the member rates in (their own only), with whether they were invited and
    whether they voted: what the console shows a member to vote in."""
    if not access.is_member(who, member_id):
        raise Forbidden("党员只能查看自己参加的评议。")
    return await q.member_rounds(conn, member_id=member_id, status=status)


@router.get("/rounds/{round_id}", response_model=RoundView, operation_id="getRound")
async def get_round(round_id: PathId, conn: Reader) -> Any:
    return await q.round_row(conn, round_id=round_id)


@router.post(
    "/rounds/{round_id}/raters",
    status_code=201,
    response_model=Accepted,
    operation_id="registerRaters",
)
async def register_raters(
    round_id: PathId, cmd: c.RegisterRaters, request: Request, who: SignedIn, idem: IdempotencyDep
) -> Any:
    return await run(request, who, idem, lambda uow: h.register_raters(uow, round_id, cmd, who))


@router.get("/rounds/{round_id}/raters", response_model=RatersView, operation_id="getRaters")
async def get_raters(round_id: PathId, who: SignedIn, conn: Reader) -> Any:
    """The round's raters, for its organiser only: public raters' names with their phone and
    ID numbers masked, or 已删除 (erased) once erased (A7)."""
    found = await q.round_row(conn, round_id=round_id)
    if not access.organises(who, found["organiser_kind"], found["organiser_id"]):
        raise Forbidden("只有本轮评议的组织者可以查看评议人名单。")
    return await q.raters(conn, round_id=round_id)


@router.post(
    "/rounds/{round_id}/ballots",
    status_code=201,
    response_model=Accepted,
    operation_id="castBallot",
)
async def cast_ballot(
    round_id: PathId, cmd: c.CastBallot, request: Request, who: SignedIn, idem: IdempotencyDep
) -> Any:
    batch = request.app.state.runtime.settings.urn_batch  # web ballots go through the urn
    return await run(request, who, idem, lambda uow: h.cast_ballot(uow, round_id, cmd, who, batch))


@router.post(
    "/rounds/{round_id}/paper-ballots",
    status_code=201,
    response_model=Accepted,
    operation_id="enterPaperBallots",
)
async def enter_paper_ballots(
    round_id: PathId,
    cmd: c.EnterPaperBallots,
    request: Request,
    who: SignedIn,
    idem: IdempotencyDep,
) -> Any:
    return await run(request, who, idem, lambda uow: h.enter_paper_ballots(uow, round_id, cmd, who))


@router.post("/rounds/{round_id}/closure", response_model=Accepted, operation_id="closeRound")
async def close_round(
    round_id: PathId, request: Request, who: SignedIn, idem: IdempotencyDep
) -> Any:
    return await run(request, who, idem, lambda uow: h.close_round(uow, round_id, who))


@router.get("/rounds/{round_id}/turnout", response_model=TurnoutView, operation_id="getTurnout")
async def get_turnout(round_id: PathId, conn: Reader) -> Any:
    """Turnout is public while the round is open (E3a): counts only, no names."""
    return await q.turnout(conn, round_id=round_id)


NOT_CLOSED = {
    "description": "The round is not closed (at `as_of`, if given): no results yet",
    "content": {"application/problem+json": {}},
}


async def _results(conn: Any, round_id: str) -> dict[str, Any]:
    """Results exist only once the round is closed, for everyone, organiser and auditor
    included: a live count read next to the raters' `voted` flags (or read `as_of` two
    moments) would show how the rater who voted in between graded (E3)."""
    found = await q.round_row(conn, round_id=round_id)
    published = await q.published_results(conn, round_id=round_id)
    if found["status"] != "closed" or published is None:
        raise InvalidState(
            "评议结束后才公布结果：请等本轮评议关闭后再查看。",
            round_id=round_id,
            round_status=found["status"],
            closes_on=found["closes_on"].isoformat(),
        )
    return {**published, "published": True}


@router.get(
    "/rounds/{round_id}/results",
    response_model=ResultsView,
    operation_id="getResults",
    responses={409: NOT_CLOSED},
)
async def get_results(round_id: PathId, conn: Reader) -> Any:
    """The round's results (E5): counts per grade, satisfaction rate and score per subject.

    Public once the round is closed (N1). While it is open nobody gets them, neither the
    organiser nor an auditor: the answer is a 409 `invalid-state` problem with the round's
    `round_status` and `closes_on`; what is reported while open is turnout (`/turnout`,
    E3a). A read `as_of` a moment when the round was still open gets the same 409."""
    return await _results(conn, round_id)


@router.get(
    "/rounds/{round_id}/results.xlsx",
    operation_id="downloadResults",
    responses={200: {"content": {XLSX: {}}}, 409: NOT_CLOSED},
)
async def download_results(round_id: PathId, conn: Reader) -> Response:
    """The published results as an Excel workbook; 409 while the round is open, as for
    `getResults`."""
    found = await q.round_row(conn, round_id=round_id)
    body = await _results(conn, round_id)
    workbook = results_workbook(found["title"], found["scale"]["grades"], body["results"])
    return xlsx_download(workbook, f"results-{round_id}.xlsx")


@router.get("/rounds/{round_id}/audit", response_model=AuditView, operation_id="auditRound")
async def audit_round(round_id: PathId, who: SignedIn, conn: Reader) -> Any:
    """E3: the auditor checks ballots against distinct registered raters, with no link."""
    auditors_only(who)  # an auditor first: whether the round exists is not said to others
    township_id = (await q.round_row(conn, round_id=round_id))["township_id"]
    audits(who, await county_of(conn, township_id), q.no_round(round_id))
    return await q.round_audit(conn, round_id=round_id)
