"""The evaluation handler tests' stand-ins (tests/support/evaluation.py) hold to the real ports:
the same events in (the pledge service's directory events, and this service's own, made by
the real handlers on real PostgreSQL), the same answers out of `MemoryReads` as out of
`PostgresReads`, refusals included; `MemoryKeys` seals and erases as `PostgresKeys` does."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from services.evaluation.app import DEFINITION as EVALUATION
from services.evaluation.checks import commands as kc
from services.evaluation.checks import handlers as kh
from services.evaluation.checks.policies import on_pledge_events
from services.evaluation.events import REGISTRY
from services.evaluation.projections import READ_MODELS
from services.evaluation.queries import PostgresKeys, PostgresReads
from services.evaluation.rounds import commands as c
from services.evaluation.rounds import handlers as h
from services.pledge import events as p
from shared.auth import Principal, Role
from shared.clock import FixedClock
from shared.errors import GongkaiError
from shared.events import DomainEvent
from shared.eventstore import AppendRequest, CommandContext, InMemoryEventStore
from shared.eventstore.postgres import PostgresEventStore
from shared.personal import unseal
from shared.unit_of_work import CommandExecutor, UnitOfWork
from tests.support import Servers, fresh_log_database
from tests.support.evaluation import MemoryKeys, MemoryReads

NOW = datetime(2027, 6, 15, 2, 0, tzinfo=UTC)
OFFICE = Principal(subject="office", role=Role.TOWNSHIP_OFFICE, org="t1")
SECRETARY = Principal(subject="s1", role=Role.BRANCH_SECRETARY, org="b1")


class World:
    """The service's read models on a fresh database, fed the pledge service's directory
    events by a stand-in and this service's events by the real handlers."""

    def __init__(self, executor: CommandExecutor, clock: FixedClock) -> None:
        self.executor = executor
        self.pledge = InMemoryEventStore("/gongkai/pledge", clock)

    async def directory(self, stream_id: str, *events: DomainEvent) -> None:
        version = sum(1 for e in self.pledge.log if e.streamid == stream_id)
        context = CommandContext(actor="admin", role="county_admin")
        appended = await self.pledge.append(
            AppendRequest(stream_id, "c1", version, events, context)
        )
        async with self.executor.pool.acquire() as conn, conn.transaction():
            for envelope in appended:
                await READ_MODELS.project(conn, envelope)

    async def run(self, who: Principal, work: Callable[[UnitOfWork], Awaitable[Any]]) -> Any:
        context = CommandContext(actor=who.subject, role=who.role.value)
        return await self.executor.execute(work, context=context)


@pytest.fixture
async def world(servers: Servers) -> AsyncIterator[World]:
    pool, _ = await fresh_log_database(servers, "evaluation", migrations=EVALUATION.migrations)
    await READ_MODELS.ensure(pool)
    clock = FixedClock(NOW)
    store = PostgresEventStore(pool, source="/gongkai/evaluation", clock=clock)
    yield World(CommandExecutor(pool, store, REGISTRY, READ_MODELS.project), clock)
    await pool.close()


def enrol(member_id: str, branch_id: str, township_id: str = "t1") -> p.MemberEnrolled:
    return p.MemberEnrolled(
        member_id=member_id,
        branch_id=branch_id,
        township_id=township_id,
        name=f"党员{member_id}",
        post="党员",
        duties="参加组织生活",
    )


def branch(branch_id: str, township_id: str) -> p.BranchEstablished:
    return p.BranchEstablished(
        branch_id=branch_id,
        township_id=township_id,
        county_id="c1",
        name=f"{branch_id}支部",
        kind=p.BranchKind.VILLAGE,
    )


async def built(w: World) -> list[str]:
    """The directory, moved and retired in part; rounds (one due), a check, raters of both:
    the public raters' ids."""
    for township_id in ("t1", "t2"):
        await w.directory(
            f"township-{township_id}",
            p.TownshipEstablished(township_id=township_id, county_id="c1", name=f"{township_id}镇"),
        )
    for branch_id, township_id in (("b1", "t1"), ("b2", "t1"), ("b9", "t1"), ("b3", "t2")):
        await w.directory(f"branch-{branch_id}", branch(branch_id, township_id))
    for member_id, branch_id, township_id in (
        ("s1", "b1", "t1"),
        ("m1", "b1", "t1"),
        ("m2", "b1", "t1"),
        ("m5", "b1", "t1"),
        ("m9", "b9", "t1"),
        ("m3", "b3", "t2"),
    ):
        await w.directory(f"member-{member_id}", enrol(member_id, branch_id, township_id))
    await w.directory("branch-b1", p.BranchSecretaryAppointed(branch_id="b1", member_id="s1"))
    await w.directory(
        "member-m2",
        p.MemberTransferred(
            member_id="m2", from_branch_id="b1", to_branch_id="b2", to_township_id="t1"
        ),
    )
    await w.directory("member-m5", p.MemberRetired(member_id="m5", reason="退休"))
    await w.directory("branch-b9", p.BranchRetired(branch_id="b9", reason="合并"))

    due = c.OpenRound.model_validate(
        {"title": "上半年评议", "year": 2027, "half": 1, "township_id": "t1"}
        | {"opens_on": "2027-06-01", "closes_on": "2027-06-14"}
    )
    later = due.model_copy(update={"closes_on": None})
    members = c.OpenRound.model_validate(
        {"title": "党员评议", "year": 2027, "half": 1, "branch_id": "b1", "opens_on": "2027-06-01"}
    )
    await w.run(OFFICE, lambda u: h.open_round(u, due, OFFICE))
    later_id = (await w.run(OFFICE, lambda u: h.open_round(u, later, OFFICE)))["id"]
    members_id = (await w.run(SECRETARY, lambda u: h.open_round(u, members, SECRETARY)))["id"]
    publics = []
    for round_id, who, kind in (
        (later_id, OFFICE, "public"),
        (members_id, SECRETARY, "branch_member"),
    ):
        cmd = c.RegisterRaters.model_validate(
            {
                "raters": [
                    {"kind": kind, "member_id": "m1"},
                    {"kind": "village_cadre" if kind == "branch_member" else kind, "name": "张三"},
                ]
            }
        )
        answer = await w.run(
            who, lambda u, r=round_id, cm=cmd, p=who: h.register_raters(u, r, cm, p)
        )
        publics.append(answer["rater_ids"][1])
    await w.run(OFFICE, lambda u: h.close_due_rounds(u, "t1", OFFICE))

    done = p.ItemReportedDone(
        pledge_id="p1", item_id="i1", township_id="t1", title="修缮水渠", summary="已完工"
    )
    [envelope] = await w.pledge.append(
        AppendRequest("pledge-p1", "c1", 0, (done,), CommandContext(actor="s1", role="x"))
    )
    async with w.executor.pool.acquire() as conn, conn.transaction():
        await on_pledge_events(w.executor)(conn, envelope)
    check_id = await w.executor.pool.fetchval("SELECT check_id FROM checks")
    served = kc.RegisterServed.model_validate({"raters": [{"member_id": "m1"}, {"name": "王五"}]})
    answer = await w.run(OFFICE, lambda u: kh.register_served(u, check_id, served, OFFICE))
    publics.append(answer["rater_ids"][1])
    return publics


async def answer(ask: Callable[[], Awaitable[Any]]) -> Any:
    """What a read answers: its value (records as dicts), or its refusal."""
    try:
        found = await ask()
    except GongkaiError as error:
        return (type(error).__name__, str(error), error.extra)
    if isinstance(found, list):
        return [dict(row) if hasattr(row, "keys") else row for row in found]
    return dict(found) if hasattr(found, "keys") else found


async def test_the_reads_in_memory_answer_as_the_reads_in_postgresql(world: World) -> None:
    w = world
    publics = await built(w)
    memory = MemoryReads()
    for envelope in w.pledge.log:
        if envelope.type != "ItemReportedDone":
            memory.directory.apply(envelope.type, envelope.data)
    async for _, envelope in w.executor.store.read_all():
        await memory.project(None, envelope)

    people = [
        Principal(subject=s, role=Role.MEMBER, org="b1") for s in ("m1", "m2", "m5", "m3", "x")
    ]
    people += [
        Principal(subject="s", role=Role.BRANCH_SECRETARY, org=b) for b in ("b1", "b9", "b3", "bx")
    ]
    people += [OFFICE, Principal(subject="a", role=Role.AUDITOR)]
    days = [NOW.date() + timedelta(days=n) for n in (-2, -1, 0, 13, 14, 15, 30)]
    async with w.executor.pool.acquire() as conn:
        real = PostgresReads(conn)
        questions: list[tuple[str, Callable[[Any], Awaitable[Any]]]] = []
        for t in ("t1", "t2", "t9"):
            questions.append((f"township {t}", lambda r, t=t: r.township(t)))
            questions.append((f"branches of {t}", lambda r, t=t: r.branches_of(t)))
            for table in ("rounds", "checks"):
                for day in days:
                    questions.append(
                        (f"due {t} {table} {day}", lambda r, t=t, x=table, d=day: r.due(t, x, d))
                    )
        for b in ("b1", "b2", "b9", "b3", "bx"):
            questions.append((f"branch {b}", lambda r, b=b: r.branch(b)))
            questions.append((f"members of {b}", lambda r, b=b: r.members_of(b)))
        for m in ("s1", "m1", "m2", "m5", "m9", "m3", "mx"):
            for t in ("t1", "t2"):
                questions.append(
                    (f"member {m} in {t}", lambda r, m=m, t=t: r.member_in(m, t, "raters.0"))
                )
        for who in people:
            questions.append((f"home of {who}", lambda r, p=who: r.home_township(p)))
        for person in [*publics, "m1", "rt-none"]:
            questions.append(
                (f"township of {person}", lambda r, p=person: r.public_person_township(p))
            )
        for name, ask in questions:
            expected = await answer(lambda a=ask: a(real))
            assert await answer(lambda a=ask: a(memory)) == expected, name

        # the questions can tell a difference
        assert await real.due("t1", "rounds", date(2027, 7, 11)) != []
        assert await real.public_person_township(publics[2]) == "t1"
        assert [r["member_id"] for r in await real.members_of("b1")] == ["m1", "s1"]


async def test_keys_in_memory_seal_and_erase_as_keys_in_postgresql(world: World) -> None:
    memory = MemoryKeys()
    fields = {"name": "张三", "phone": "13812345678"}
    async with world.executor.pool.acquire() as conn:
        real = PostgresKeys(conn)
        sealed = await real.seal("rt-1", fields)
        kept = await memory.seal("rt-1", fields)
        assert sealed.keys() == kept.keys() == {"person", "sealed"}
        assert sealed["person"] == kept["person"] == "rt-1"
        assert "张三" not in str(sealed) + str(kept)
        assert await unseal(conn, sealed) == memory.open(kept) == fields
        await real.erase("rt-1")
        await memory.erase("rt-1")
        assert await unseal(conn, sealed) is None
        assert memory.open(kept) is None
