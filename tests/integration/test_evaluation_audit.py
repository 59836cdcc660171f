"""E3 against real PostgreSQL: the auditor's check reports records forged into the log.

A forger with write access to the database appends with the service's own event store, past
every rule the aggregates enforce; the read models are rebuilt from the log, as an auditor
would; the audit must then name what does not add up, for rounds and satisfaction checks."""

from __future__ import annotations

from datetime import date
from typing import Any

from services.evaluation.aggregates import token_hash
from services.evaluation.checks import handlers as hc
from services.evaluation.checks.aggregates import SatisfactionCheck
from services.evaluation.checks.commands import CheckBallot
from services.evaluation.checks.events import CheckBallotCast, CheckRaterParticipated
from services.evaluation.checks.queries import check_audit
from services.evaluation.projections import READ_MODELS
from services.evaluation.rounds import handlers as h
from services.evaluation.rounds.aggregates import NewRater, Round
from services.evaluation.rounds.commands import CastBallot
from services.evaluation.rounds.events import BallotCast, Channel, RaterKind, RaterParticipated
from services.evaluation.rounds.queries import round_audit
from shared.auth import Principal, Role
from shared.events import DomainEvent
from shared.eventstore.base import AppendRequest, CommandContext
from shared.unit_of_work import UnitOfWork
from tests.integration import test_evaluation_results as results
from tests.integration.test_evaluation_results import (
    OFFICE,
    SUBJECTS,
    TOWNSHIP,
    Evaluation,
    open_round,
)

evaluation = results.evaluation  # the same fixture: a fresh log database for this module

B0, B1 = SUBJECTS[0], SUBJECTS[1]


async def forge(ev: Evaluation, stream_id: str, *events: DomainEvent) -> None:
    """Append as someone with write access to the database would, then rebuild the read
    models from the log (the projection takes the forged records in like any others)."""
    version = len(await ev.store.read_stream(stream_id))
    forger = CommandContext(actor="forger", role="county_admin")
    await ev.store.append(AppendRequest(stream_id, TOWNSHIP, version, events, forger))
    await READ_MODELS.rebuild(ev.executor.pool)


async def audited(ev: Evaluation, **which: str) -> tuple[dict[str, Any], set[tuple[Any, ...]]]:
    """The audit, and its problems as (problem, rater, subject)."""
    async with ev.executor.pool.acquire() as conn:
        found = await (
            round_audit(conn, **which) if "round_id" in which else check_audit(conn, **which)
        )
    return found, {(p["problem"], p["rater_id"], p["subject_id"]) for p in found["problems"]}


async def web_ballot(ev: Evaluation, round_id: str, rater_id: str, grades: dict[str, str]) -> None:
    rater = Principal(subject=rater_id, role=Role.RATER, org=round_id)
    # k = 1: the ballot leaves the urn at once (the audit of a closed round, with the urn empty)
    await ev.run(
        lambda uow: h.cast_ballot(uow, round_id, CastBallot(grades=grades), rater, 1), rater
    )


def ballot(round_id: str, token: str, grades: dict[str, str]) -> BallotCast:
    return BallotCast(round_id=round_id, token_hash=token_hash(round_id, token), grades=grades)


async def test_a_participation_by_nobody_registered_is_reported(evaluation: Evaluation) -> None:
    ev = evaluation
    round_id = await open_round(ev, 2)
    await web_ballot(ev, round_id, "rt-0", {B0: "satisfied"})
    honest, problems = await audited(ev, round_id=round_id)
    assert (honest["consistent"], problems) == (True, set())

    # a participation and a ballot to match it: the counts agree, the rater is nobody's
    forged = RaterParticipated(
        round_id=round_id, rater_id="rt-x", subject_ids=(B0,), channel=Channel.WEB
    )
    await forge(ev, f"round-{round_id}", forged)
    await forge(ev, f"ballot_box-{round_id}", ballot(round_id, "forged", {B0: "dissatisfied"}))
    found, problems = await audited(ev, round_id=round_id)
    assert not found["consistent"]
    assert problems == {("unregistered_rater", "rt-x", B0), ("ballots_differ", None, B0)}
    assert found["subjects"][0] == {"subject_id": B0, "participations": 1, "ballots": 2}

    # the round still loads and closes; the audit keeps saying so
    await ev.run(lambda uow: h.close_round(uow, round_id, OFFICE))
    assert (await audited(ev, round_id=round_id))[1] == problems


async def test_repeats_early_participations_and_ballots_without_one_are_reported(
    evaluation: Evaluation,
) -> None:
    ev = evaluation
    round_id = await open_round(ev, 2)
    await web_ballot(ev, round_id, "rt-0", {B0: "satisfied"})
    # rt-0 again on the same subject, with a ballot; a participation before registering
    again = RaterParticipated(
        round_id=round_id, rater_id="rt-0", subject_ids=(B0,), channel=Channel.PAPER
    )
    early = RaterParticipated(
        round_id=round_id, rater_id="rt-9", subject_ids=(B1,), channel=Channel.WEB
    )
    await forge(ev, f"round-{round_id}", again, early)

    async def register_late(uow: UnitOfWork) -> None:
        round_ = await uow.get(Round, f"round-{round_id}", "round")
        round_.register([NewRater("rt-9", RaterKind.PUBLIC, TOWNSHIP)])
        await uow.save(round_)

    await ev.run(register_late)
    await forge(
        ev,
        f"ballot_box-{round_id}",
        ballot(round_id, "again", {B0: "satisfied"}),
        ballot(round_id, "early", {B1: "satisfied"}),
        ballot(round_id, "nobody", {SUBJECTS[2]: "satisfied"}),  # no participation at all
    )
    found, problems = await audited(ev, round_id=round_id)
    assert problems == {
        ("repeated_participation", "rt-0", B0),
        ("ballots_differ", None, B0),
        ("unregistered_rater", "rt-9", B1),
        ("ballots_differ", None, B1),
        ("ballots_differ", None, SUBJECTS[2]),
    }
    assert not found["consistent"]


async def test_a_satisfaction_check_is_audited_the_same_way(evaluation: Evaluation) -> None:
    ev = evaluation
    check_id = "c-audit"

    async def open_check(uow: UnitOfWork) -> None:
        check = SatisfactionCheck.open(
            check_id=check_id,
            pledge_id="p-1",
            item_id="i-1",
            township_id=TOWNSHIP,
            title="修路",
            summary="村道硬化",
            opens_on=date(2027, 6, 1),
            source_event_id="e-1",
        )
        check.register([("rt-0", None, None), ("rt-1", None, None)])
        await uow.save(check)

    await ev.run(open_check)
    rater = Principal(subject="rt-0", role=Role.RATER, org=check_id)
    cmd = CheckBallot(grade="satisfied")
    await ev.run(lambda uow: hc.cast_check_ballot(uow, check_id, cmd, rater, 1), rater)
    honest, problems = await audited(ev, check_id=check_id)
    assert (honest["consistent"], honest["participations"], honest["ballots"]) == (True, 1, 1)

    forged = CheckRaterParticipated(check_id=check_id, rater_id="rt-x", channel=Channel.WEB)
    await forge(ev, f"satisfaction_check-{check_id}", forged)
    await forge(
        ev,
        f"satisfaction_ballots-{check_id}",
        CheckBallotCast(check_id=check_id, token_hash=token_hash(check_id, "x"), grade="satisfied"),
    )
    found, problems = await audited(ev, check_id=check_id)
    assert problems == {("unregistered_rater", "rt-x", "i-1"), ("ballots_differ", None, "i-1")}
    assert (found["consistent"], found["participations"], found["ballots"]) == (False, 1, 2)
