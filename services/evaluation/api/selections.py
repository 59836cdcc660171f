"""Annual selection routes (S1–S3): formula, nominations, stages, notice, objections,
commendation; the recomputation of any stage's scores from the records they came from."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request

from services.evaluation.schemas import Accepted
from services.evaluation.selection import commands as c
from services.evaluation.selection import handlers as h
from services.evaluation.selection import queries as q
from services.evaluation.selection.events import Level
from services.evaluation.selection.schemas import (
    CommendationView,
    RecomputationView,
    SelectionPage,
    SelectionView,
)
from shared.http import IdempotencyDep, PathId, QueryId, QueryOffset, Reader, SignedIn, run

router = APIRouter(prefix="/v1", tags=["annual selection"])
Stage = Annotated[int, Path(ge=1, le=5)]


@router.post("/selections", status_code=201, response_model=Accepted, operation_id="openSelection")
async def open_selection(
    cmd: c.OpenSelection, request: Request, who: SignedIn, idem: IdempotencyDep
) -> Any:
    return await run(request, who, idem, lambda uow: h.open_selection(uow, cmd, who))


@router.get("/selections", response_model=SelectionPage, operation_id="listSelections")
async def list_selections(
    conn: Reader,
    township_id: QueryId | None = None,
    organisation_id: QueryId | None = None,
    year: Annotated[int | None, Query(ge=2000, le=2100)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: QueryOffset = 0,
    county_id: QueryId | None = None,
    level: Level | None = None,
) -> Any:
    """Public (三公开): the selections of a township (each level held in it), of the
    organisation holding them, or held in a county's townships (`county_id`: the record
    behind the county's candidates, not the county's own), of one `level` if given, newest
    year first, to find one's selection by."""
    return await q.selections(
        conn,
        township_id=township_id,
        organisation_id=organisation_id,
        year=year,
        limit=limit,
        offset=offset,
        county_id=county_id,
        level=level,
    )


@router.get("/selections/{selection_id}", response_model=SelectionView, operation_id="getSelection")
async def get_selection(selection_id: PathId, conn: Reader) -> Any:
    """Public (三公开): the formula, candidates, every stage's decisions and reasons."""
    return await q.selection(conn, selection_id=selection_id)


@router.post(
    "/selections/{selection_id}/formula", response_model=Accepted, operation_id="declareFormula"
)
async def declare_formula(
    selection_id: PathId,
    cmd: c.DeclareFormula,
    request: Request,
    who: SignedIn,
    idem: IdempotencyDep,
) -> Any:
    return await run(request, who, idem, lambda uow: h.declare_formula(uow, selection_id, cmd, who))


@router.post(
    "/selections/{selection_id}/nominations",
    status_code=201,
    response_model=Accepted,
    operation_id="nominate",
)
async def nominate(
    selection_id: PathId, cmd: c.Nominate, request: Request, who: SignedIn, idem: IdempotencyDep
) -> Any:
    return await run(request, who, idem, lambda uow: h.nominate(uow, selection_id, cmd, who))


@router.post(
    "/selections/{selection_id}/stages",
    status_code=201,
    response_model=Accepted,
    operation_id="scoreStage",
)
async def score_stage(
    selection_id: PathId, request: Request, who: SignedIn, idem: IdempotencyDep
) -> Any:
    return await run(request, who, idem, lambda uow: h.score_stage(uow, selection_id, who))


@router.post(
    "/selections/{selection_id}/stages/{stage}/decision",
    response_model=Accepted,
    operation_id="decideStage",
)
async def decide_stage(
    selection_id: PathId,
    stage: Stage,
    cmd: c.DecideStage,
    request: Request,
    who: SignedIn,
    idem: IdempotencyDep,
) -> Any:
    """S2: the township committee decides, per candidate, advanced or not and why."""
    return await run(
        request, who, idem, lambda uow: h.decide_stage(uow, selection_id, stage, cmd, who)
    )


@router.get(
    "/selections/{selection_id}/stages/{stage}/recomputation",
    response_model=RecomputationView,
    operation_id="recomputeStage",
)
async def recompute_stage(selection_id: PathId, stage: Stage, conn: Reader) -> Any:
    """S2: every candidate's score recomputed from the records its inputs name."""
    return await q.recomputation(conn, selection_id, stage)


@router.post(
    "/selections/{selection_id}/notice", response_model=Accepted, operation_id="postNotice"
)
async def post_notice(
    selection_id: PathId, request: Request, who: SignedIn, idem: IdempotencyDep
) -> Any:
    return await run(request, who, idem, lambda uow: h.post_notice(uow, selection_id, who))


@router.post(
    "/selections/{selection_id}/objections",
    status_code=201,
    response_model=Accepted,
    operation_id="fileObjection",
)
async def file_objection(
    selection_id: PathId,
    cmd: c.FileObjection,
    request: Request,
    who: SignedIn,
    idem: IdempotencyDep,
) -> Any:
    return await run(request, who, idem, lambda uow: h.file_objection(uow, selection_id, cmd, who))


@router.post(
    "/selections/{selection_id}/objections/{objection_id}/answer",
    response_model=Accepted,
    operation_id="answerObjection",
)
async def answer_objection(
    selection_id: PathId,
    objection_id: PathId,
    cmd: c.AnswerObjection,
    request: Request,
    who: SignedIn,
    idem: IdempotencyDep,
) -> Any:
    return await run(
        request,
        who,
        idem,
        lambda uow: h.answer_objection(uow, selection_id, objection_id, cmd, who),
    )


@router.post(
    "/selections/{selection_id}/commendation",
    response_model=Accepted,
    operation_id="issueCommendation",
)
async def issue_commendation(
    selection_id: PathId, request: Request, who: SignedIn, idem: IdempotencyDep
) -> Any:
    return await run(request, who, idem, lambda uow: h.issue_commendation(uow, selection_id, who))


@router.get(
    "/commendations", response_model=list[CommendationView], operation_id="listCommendations"
)
async def list_commendations(
    conn: Reader,
    township_id: QueryId | None = None,
    county_id: QueryId | None = None,
    year: Annotated[int | None, Query(ge=2000, le=2100)] = None,
) -> Any:
    """Public (三公开): the commendations held in a township, or in a county (`county_id`:
    the county's own and its townships', whose winners a county selection chooses from),
    of a year."""
    return await q.commendations(conn, township_id=township_id, county_id=county_id, year=year)
