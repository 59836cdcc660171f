"""E5 against real PostgreSQL: results computed live from the read model equal results
recomputed from the ballot events, and the published results, for random ballot sets
(hypothesis). Also checks E3 on every example: ballots name no one, participation matches."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from services.evaluation.aggregates import tally
from services.evaluation.app import DEFINITION as EVALUATION
from services.evaluation.events import REGISTRY
from services.evaluation.projections import READ_MODELS
from services.evaluation.rounds import handlers as h
from services.evaluation.rounds import queries as q
from services.evaluation.rounds.aggregates import NewRater, Round
from services.evaluation.rounds.commands import CastBallot
from services.evaluation.rounds.events import RaterKind, RoundOpened, Scale, Subject, SubjectKind
from services.evaluation.rounds.queries import round_audit
from shared.auth import Principal, Role
from shared.clock import FixedClock
from shared.eventstore.base import CommandContext
from shared.eventstore.postgres import PostgresEventStore
from shared.unit_of_work import CommandExecutor, UnitOfWork
from tests.support import Servers, fresh_log_database


async def results_from_the_tally(conn: Any, round_id: str) -> list[dict[str, Any]]:
    """E5 computed from the read model's counts with the function the close uses (the service
    never serves this while a round is open, E3): what the projection must get right."""
    found = await q.round_row(conn, round_id=round_id)
    counts: dict[str, dict[str, int]] = {}
    for row in await conn.fetch(
        "SELECT subject_id, grade, n FROM round_tally WHERE round_id = $1", round_id
    ):
        counts.setdefault(row["subject_id"], {})[row["grade"]] = row["n"]
    subjects = [Subject(**s) for s in found["subjects"]]
    scale = Scale.model_validate(found["scale"])
    return [r.model_dump(mode="json") for r in tally.results(subjects, scale, counts)]


TOWNSHIP = "t-prop"
SUBJECTS = [f"b-{i}" for i in range(4)]
GRADES = [g.grade for g in tally.PUBLIC_SATISFACTION.grades]
OFFICE = Principal(subject="office", role=Role.TOWNSHIP_OFFICE, org=TOWNSHIP)


@dataclass
class Evaluation:
    executor: CommandExecutor
    store: PostgresEventStore
    rounds: int = 0

    async def run(self, work: Any, who: Principal = OFFICE) -> Any:
        context = CommandContext(actor=who.subject, role=str(who.role))
        return await self.executor.execute(work, context=context)


@pytest.fixture(scope="module")
async def evaluation(servers: Servers) -> AsyncIterator[Evaluation]:
    pool, _ = await fresh_log_database(servers, "evaluation", migrations=EVALUATION.migrations)
    await READ_MODELS.ensure(pool)
    clock = FixedClock(datetime(2027, 6, 1, 2, 0, tzinfo=UTC))
    store = PostgresEventStore(pool, source="/gongkai/evaluation", clock=clock)
    yield Evaluation(CommandExecutor(pool, store, REGISTRY, READ_MODELS.project), store)
    await pool.close()


async def open_round(ev: Evaluation, raters: int) -> str:
    ev.rounds += 1
    round_id = f"r-prop{ev.rounds}"

    async def work(uow: UnitOfWork) -> None:
        subjects = tuple(
            Subject(subject_kind=SubjectKind.BRANCH, subject_id=s, subject_name=s, branch_id=s)
            for s in SUBJECTS
        )
        round_ = Round.open(
            RoundOpened(
                round_id=round_id,
                township_id=TOWNSHIP,
                organiser_kind="township",
                organiser_id=TOWNSHIP,
                title="property",
                year=2027,
                half=1,
                content=("five_good", "pledge_fulfilment"),
                subjects=subjects,
                scale=tally.PUBLIC_SATISFACTION,
                opens_on=date(2027, 6, 1),
                closes_on=date(2027, 7, 10),
            )
        )
        round_.register([NewRater(f"rt-{i}", RaterKind.PUBLIC, TOWNSHIP) for i in range(raters)])
        await uow.save(round_)

    await ev.run(work)
    return round_id


ballot = st.dictionaries(st.sampled_from(SUBJECTS), st.sampled_from(GRADES), min_size=1)


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(ballots=st.lists(ballot, max_size=12))
async def test_live_results_equal_results_recomputed_from_the_events(
    evaluation: Evaluation, ballots: list[dict[str, str]]
) -> None:
    ev = evaluation
    round_id = await open_round(ev, len(ballots))
    for index, grades in enumerate(ballots):
        rater = Principal(subject=f"rt-{index}", role=Role.RATER, org=round_id)
        cmd = CastBallot(grades=grades)
        # k = 1: each ballot leaves the urn at once, so live results can be read after each
        await ev.run(lambda uow, c=cmd, r=rater: h.cast_ballot(uow, round_id, c, r, 1), rater)

    async with ev.executor.pool.acquire() as conn:
        live = await results_from_the_tally(conn, round_id)
        audit = await round_audit(conn, round_id=round_id)
    cast = await ev.store.read_stream(f"ballot_box-{round_id}")
    subjects = [Subject(**{k: v for k, v in r.items() if k in Subject.model_fields}) for r in live]
    recomputed = tally.results(
        subjects, tally.PUBLIC_SATISFACTION, tally.count(e.data["grades"] for e in cast)
    )
    assert live == [r.model_dump(mode="json") for r in recomputed]
    assert [r["counts"] for r in live] == [
        {g: sum(1 for b in ballots if b.get(s) == g) for g in GRADES} for s in SUBJECTS
    ]

    # E3: the ballots name no one; participation per subject equals ballots per subject
    assert len(cast) == len(ballots)
    for envelope in cast:
        assert envelope.actor == "anonymous"
        assert set(envelope.data) == {"round_id", "token_hash", "grades"}
    assert (audit["consistent"], audit["problems"]) == (True, [])
    assert audit["ballots"] == len(ballots)
    assert audit["raters_who_voted"] == len(ballots)

    await ev.run(lambda uow: h.close_round(uow, round_id, OFFICE))
    [*_, published] = await ev.store.read_stream(f"round-{round_id}")
    assert published.type == "RoundResultsPublished"
    assert published.data["results"] == live
