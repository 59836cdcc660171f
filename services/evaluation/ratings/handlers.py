"""Command handlers of periodic ratings (E6). Same shape as the rounds' handlers."""

from __future__ import annotations

from typing import Any

from services.evaluation import queries as d
from services.evaluation.ratings import access
from services.evaluation.ratings import commands as c
from services.evaluation.ratings.aggregates import Rating
from services.evaluation.ratings.events import RatedSubject, RatingLevel
from services.evaluation.rounds.events import SubjectKind
from shared.auth import Principal, require
from shared.errors import ConcurrencyConflict, InvalidInput, InvalidState
from shared.unit_of_work import UnitOfWork, accepted


async def publish_rating(uow: UnitOfWork, cmd: c.PublishRating, who: Principal) -> dict[str, Any]:
    if cmd.level is RatingLevel.TOWNSHIP_RATES_BRANCHES:
        assert cmd.township_id is not None
        township = await uow.port(d.reads).township(cmd.township_id)
        require(
            access.rates_branches(who, cmd.township_id),
            "the township committee rates its branches",
        )
        rows = await uow.port(d.reads).branches_of(cmd.township_id)
        names = {r["branch_id"]: r["name"] for r in rows}
        township_id, branch_id, kind = township["township_id"], None, SubjectKind.BRANCH
    else:
        assert cmd.branch_id is not None
        branch = await uow.port(d.reads).branch(cmd.branch_id)
        require(access.rates_members(who, cmd.branch_id), "the branch secretary rates members")
        rows = await uow.port(d.reads).members_of(cmd.branch_id)
        names = {r["member_id"]: r["name"] for r in rows}
        township_id, branch_id, kind = branch["township_id"], cmd.branch_id, SubjectKind.MEMBER
    results = []
    for index, entry in enumerate(cmd.results):
        if entry.subject_id not in names:
            raise InvalidInput(
                f"{entry.subject_id} is not rated by this organisation (E6)",
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
        raise InvalidState(f"the rating for {cmd.period} is already published") from None
    return accepted(rating.stream_id.removeprefix("rating-"), uow)
