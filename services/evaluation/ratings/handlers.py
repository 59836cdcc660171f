"""Command handlers of periodic ratings (E6). Same shape as the rounds' handlers."""

from __future__ import annotations

from typing import Any

from services.evaluation import queries as d
from services.evaluation.documents.ratings_xlsx import SHEET, ratings_template, read_ratings
from services.evaluation.ratings import access
from services.evaluation.ratings import commands as c
from services.evaluation.ratings.aggregates import Rating
from services.evaluation.ratings.events import RatedSubject, RatingLevel
from services.evaluation.rounds.events import SubjectKind
from shared import imports, zh
from shared.auth import Principal, require
from shared.errors import ConcurrencyConflict, InvalidInput, InvalidState
from shared.unit_of_work import UnitOfWork, accepted
from shared.workbook import RowError, RowRefused


async def publish_rating(uow: UnitOfWork, cmd: c.PublishRating, who: Principal) -> dict[str, Any]:
    if cmd.level is RatingLevel.TOWNSHIP_RATES_BRANCHES:
        assert cmd.township_id is not None
        township = await uow.port(d.reads).township(cmd.township_id)
        require(
            access.rates_branches(who, cmd.township_id),
            "支部的评星定级由乡镇党委评定：请切换到乡镇党委身份。",
        )
        rows = await uow.port(d.reads).branches_of(cmd.township_id)
        names = {r["branch_id"]: r["name"] for r in rows}
        township_id, branch_id, kind = township["township_id"], None, SubjectKind.BRANCH
    else:
        assert cmd.branch_id is not None
        branch = await uow.port(d.reads).branch(cmd.branch_id)
        require(
            access.rates_members(who, cmd.branch_id),
            "党员的评星定级由支部书记评定：请切换到支部书记身份。",
        )
        rows = await uow.port(d.reads).members_of(cmd.branch_id)
        names = {r["member_id"]: r["name"] for r in rows}
        township_id, branch_id, kind = branch["township_id"], cmd.branch_id, SubjectKind.MEMBER
    results = []
    for index, entry in enumerate(cmd.results):
        if entry.subject_id not in names:
            raise InvalidInput(
                f"{entry.subject_id} 不归本组织评定（E6）：请只评定本组织所属的对象。",
                field=f"results.{index}.subject_id",
            )
        results.append(
            RatedSubject(
                subject_kind=kind,
                subject_id=entry.subject_id,
                subject_name=names[entry.subject_id],
                grade=entry.grade,
                score=entry.score,
            )
        )
    rating = Rating.publish(
        level=cmd.level,
        township_id=township_id,
        branch_id=branch_id,
        period=cmd.period,
        results=results,
        today=uow.today(),
    )
    try:
        await uow.save(rating)
    except ConcurrencyConflict:
        raise InvalidState(f"{zh.period(cmd.period)}的评定已经公布，不能再修改。") from None
    return accepted(rating.stream_id.removeprefix("rating-"), uow)


# --- from a workbook (issue 19) -------------------------------------------------------------

RATING_IMPORTS = {
    RatingLevel.BRANCH_RATES_MEMBERS: "member_ratings",
    RatingLevel.TOWNSHIP_RATES_BRANCHES: "branch_ratings",
}


async def rating_template(
    uow: UnitOfWork, level: RatingLevel, org_id: str, who: Principal
) -> bytes:
    """Who the organisation rates, to grade and score."""
    if level is RatingLevel.TOWNSHIP_RATES_BRANCHES:
        township = await uow.port(d.reads).township(org_id)
        require(
            access.rates_branches(who, org_id),
            "支部的评星定级由乡镇党委评定：请切换到乡镇党委身份。",
        )
        rows = await uow.port(d.reads).branches_of(org_id)
        subjects = [(r["branch_id"], r["name"]) for r in rows]
        title = f"党支部评定（{township['name']}，每两个月）"
    else:
        await uow.port(d.reads).branch(org_id)
        require(
            access.rates_members(who, org_id),
            "党员的评星定级由支部书记评定：请切换到支部书记身份。",
        )
        rows = await uow.port(d.reads).members_of(org_id)
        subjects = [(r["member_id"], r["name"]) for r in rows]
        title = "党员评定（每月）"
    return ratings_template(title, subjects)


def _publish(level: RatingLevel, org_id: str, period: str, who: Principal) -> imports.Execute:
    async def execute(u: UnitOfWork, parts: list[Any]) -> None:
        place = (
            {"township_id": org_id}
            if level is RatingLevel.TOWNSHIP_RATES_BRANCHES
            else {"branch_id": org_id}
        )
        cmd = c.PublishRating(
            level=level, period=period, results=[entry for _, entry in parts], **place
        )
        try:
            await publish_rating(u, cmd, who)
        except InvalidInput as refused:
            field = str((refused.extra.get("errors") or [{}])[0].get("field") or "")
            index = field.split(".")[1] if field.startswith("results.") else ""
            if not index.isdigit():
                raise
            reason = "不是本组织评定的对象（编号有误）"
            raise RowRefused(RowError(SHEET.name, parts[int(index)][0], "编号", reason)) from None

    return execute


async def upload_rating(
    uow: UnitOfWork,
    level: RatingLevel,
    org_id: str,
    period: str,
    data: bytes,
    file_name: str,
    who: Principal,
) -> dict[str, Any]:
    """A period's ratings from a workbook: checked, previewed (nothing published)."""
    return await imports.upload_commands(
        uow,
        kind=RATING_IMPORTS[level],
        scope_id=f"{org_id}/{period}",
        data=data,
        file_name=file_name,
        importer=who.subject,
        sheets=[SHEET],
        check=read_ratings,
        execute=_publish(level, org_id, period, who),
        describe=lambda events: [{"event": e.type, "text": "发布评定结果"} for e in events],
    )


async def confirm_rating(uow: UnitOfWork, import_id: str, who: Principal) -> dict[str, Any]:
    record = await imports.get(uow.conn, import_id)
    level = {v: k for k, v in RATING_IMPORTS.items()}[record.kind]
    org_id, _, period = record.scope_id.partition("/")
    return await imports.confirm_commands(
        uow,
        import_id,
        who.subject,
        kinds=list(RATING_IMPORTS.values()),
        sheets=[SHEET],
        check=read_ratings,
        execute=_publish(level, org_id, period, who),
    )
