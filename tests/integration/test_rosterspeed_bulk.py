"""The roster import's bulk path with its writes behind (issue 19.3): batches flushed without
waiting for their COPYs and read models while the next changes are decided, the heads and
versions carried from batch to batch and the head rows written once at the end. Against real
PostgreSQL, in chunks and batches of a few events so that every hand-over happens: the log
must come out as from one append each (gap-free sequence, one hash chain per township over
the canonical bytes, the head rows at the last event), the read models as a rebuild from the
log makes them, a re-import (loads and continued streams between batches) the same, and a
refusal while writes are under way must append nothing and leave the connection usable."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import pytest

from gongkai.bench.roster import County, roster_workbook
from services.pledge import handlers as h
from services.pledge.aggregates.roster import Change, Plan
from services.pledge.events import REGISTRY
from services.pledge.projections import READ_MODELS
from shared.auth import Principal
from shared.envelope import GENESIS_HASH
from shared.errors import InvalidState
from shared.eventstore import postgres
from shared.eventstore.base import CommandContext
from shared.eventstore.postgres import PostgresEventStore
from shared.unit_of_work import CommandExecutor
from tests.support import Servers, fresh_log_database, rebuilt_as_live


@pytest.fixture
async def executor(
    servers: Servers, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[CommandExecutor]:
    monkeypatch.setattr(h, "FLUSH_EVERY", 7)  # a batch every 7 changes, written behind
    monkeypatch.setattr(h, "YIELD_EVERY", 2)
    monkeypatch.setattr(postgres, "COPY_CHUNK", 3)
    monkeypatch.setattr(postgres, "YIELD_EVERY", 1)
    monkeypatch.setattr(postgres, "WRITES_AHEAD", 2)
    pool, _ = await fresh_log_database(servers, "pledge")
    await READ_MODELS.ensure(pool)
    store = PostgresEventStore(pool, source="/gongkai/pledge")
    try:
        yield CommandExecutor(
            pool, store, REGISTRY, READ_MODELS.apply, project_many=READ_MODELS.apply_many
        )
    finally:
        await pool.close()


async def imported(executor: CommandExecutor, admin: Principal, data: bytes) -> dict[str, Any]:
    context = CommandContext(actor=admin.subject, role=str(admin.role))
    county_id = admin.org
    preview = await executor.execute(
        lambda uow: h.upload_roster(uow, "county", county_id, data, "名册.xlsx", admin),
        context=context,
    )
    if preview["state"] == "committed":  # the same file from the same importer
        return dict(preview)
    assert preview["state"] == "ready", preview["errors"]
    done: dict[str, Any] = await executor.execute(
        lambda uow: h.confirm_roster(uow, preview["import_id"], admin), context=context
    )
    return done


async def assert_log_as_one_by_one(pool: asyncpg.Pool) -> None:
    """Each township a gap-free hash chain over the canonical bytes (`verifies_after`
    writes the body again from the envelope), its head row at its last event."""
    store = PostgresEventStore(pool, source="/gongkai/pledge")
    last: dict[str, tuple[int, str]] = {}
    async for _, envelope in store.read_all():
        sequence, previous = last.get(envelope.partition, (0, GENESIS_HASH))
        assert envelope.sequence == sequence + 1
        assert envelope.verifies_after(previous)
        last[envelope.partition] = (envelope.sequence, envelope.hash)
    heads = await pool.fetch("SELECT partition, sequence, hash FROM partition_heads")
    assert {r["partition"]: (r["sequence"], r["hash"].hex()) for r in heads} == last


async def test_batches_written_behind_keep_the_log_and_read_models_as_one_by_one(
    executor: CommandExecutor,
) -> None:
    pool = executor.pool
    admin, _, data = await County(executor, 120).make()  # 2 branches, 2 townships
    done = await imported(executor, admin, data)
    assert done["appended"] == 2 + 120 + 2  # branches, members, secretaries
    await assert_log_as_one_by_one(pool)
    await rebuilt_as_live(pool, READ_MODELS)
    members = "SELECT count(*) FROM members WHERE active"
    assert await pool.fetchval(members) == 120
    secretaries = await pool.fetch("SELECT secretary_id FROM branches ORDER BY name")
    assert all(r["secretary_id"] for r in secretaries)
    events = await pool.fetchval("SELECT count(*) FROM events")

    # the same file again appends nothing
    assert (await imported(executor, admin, data))["appended"] == done["appended"]
    assert await pool.fetchval("SELECT count(*) FROM events") == events

    # a re-import: the last 30 members left (each loaded between batches, its stream
    # continued): their retirements go on the same chains
    towns = [r["name"] for r in await pool.fetch("SELECT name FROM townships ORDER BY name")]
    again = await imported(executor, admin, roster_workbook(towns, 2, 90))
    assert again["appended"] == 30
    await assert_log_as_one_by_one(pool)
    await rebuilt_as_live(pool, READ_MODELS)
    assert await pool.fetchval(members) == 90


async def a_branch(executor: CommandExecutor) -> tuple[CommandContext, asyncpg.Record]:
    """A county of 100 members imported; the administrator's context and one branch."""
    admin, _, data = await County(executor, 100).make()
    await imported(executor, admin, data)
    branch = await executor.pool.fetchrow("SELECT branch_id, township_id FROM branches LIMIT 1")
    return CommandContext(actor=admin.subject, role=str(admin.role)), branch


async def test_two_secretaries_of_one_branch_in_one_run_the_later_stays(
    executor: CommandExecutor,
) -> None:
    pool = executor.pool
    context, branch = await a_branch(executor)
    first, second = [
        r["member_id"]
        for r in await pool.fetch(
            "SELECT member_id FROM members WHERE branch_id = $1 AND post = '党员'"
            " ORDER BY member_id LIMIT 2",
            branch["branch_id"],
        )
    ]
    appoint = [
        Change("BranchSecretaryAppointed", "", branch["township_id"], branch["branch_id"], who)
        for who in (first, second)
    ]
    await executor.execute(lambda uow: h.execute_roster(uow, Plan(appoint, [], 2)), context=context)
    query = "SELECT secretary_id FROM branches WHERE branch_id = $1"
    assert await pool.fetchval(query, branch["branch_id"]) == second
    await assert_log_as_one_by_one(pool)
    await rebuilt_as_live(pool, READ_MODELS)


async def test_a_refusal_while_writes_are_under_way_appends_nothing(
    executor: CommandExecutor,
) -> None:
    pool = executor.pool
    context, branch = await a_branch(executor)
    town, branch_id = branch["township_id"], branch["branch_id"]
    events = await pool.fetchval("SELECT count(*) FROM events")
    before = await rebuilt_as_live(pool, READ_MODELS)
    enrol = {"post": "党员", "duties": "参加组织生活", "leadership_team": False}
    changes = [
        Change("MemberEnrolled", "", town, branch_id, f"row:{n}", {"name": f"新{n}", **enrol})
        for n in range(40)  # batches sent behind, some still under way ...
    ]
    changes.append(Change("BranchRetired", "", town, branch_id, data={"reason": "合并"}))
    # ... when the aggregate refuses this one: the branch was retired just before
    changes.append(Change("MemberEnrolled", "", town, branch_id, "row:99", {"name": "晚", **enrol}))
    with pytest.raises(InvalidState):
        await executor.execute(
            lambda uow: h.execute_roster(uow, Plan(changes, [], len(changes))), context=context
        )
    assert await pool.fetchval("SELECT count(*) FROM events") == events
    assert await rebuilt_as_live(pool, READ_MODELS) == before  # the read models untouched
    await assert_log_as_one_by_one(pool)
    # the connections are usable, the heads where they were: the same changes, less the
    # refused one, go in
    await executor.execute(
        lambda uow: h.execute_roster(uow, Plan(changes[:-1], [], 41)), context=context
    )
    assert await pool.fetchval("SELECT count(*) FROM events") == events + 41
    await assert_log_as_one_by_one(pool)
    await rebuilt_as_live(pool, READ_MODELS)
