"""Invariant 6: old event versions are upcast when read, for deciding and for projecting;
the stored bytes never change."""

from __future__ import annotations

from typing import Any, ClassVar

import asyncpg

from shared.database import READ_SCHEMA
from shared.envelope import EventEnvelope
from shared.events import DomainEvent, EventRegistry
from shared.eventstore import AppendRequest, CommandContext, PostgresEventStore
from shared.projections import ReadModels
from tests.support import Servers, fresh_log_database


def version_1() -> type[DomainEvent]:
    class TitleSet(DomainEvent):
        aggregate_type: ClassVar[str] = "thing"
        title: str

    return TitleSet


def version_2() -> type[DomainEvent]:
    class TitleSet(DomainEvent):  # v2 splits the title into a name and a note
        aggregate_type: ClassVar[str] = "thing"
        schema_version: ClassVar[int] = 2
        name: str
        note: str

    return TitleSet


async def test_old_events_are_upcast_for_deciding_and_projecting(servers: Servers) -> None:
    pool, _ = await fresh_log_database(servers)
    store = PostgresEventStore(pool, source="/gongkai/test")
    [old] = await store.append(
        AppendRequest(
            "thing-1", "t-a", 0, [version_1()(title="压沙造林: 500亩")], CommandContext("a", "r")
        )
    )
    registry = EventRegistry("test", [version_2()])

    @registry.upcaster("TitleSet", 1, reads=version_1())
    def split(data: dict[str, Any]) -> dict[str, Any]:
        name, _, note = data["title"].partition(": ")
        return {"name": name, "note": note}

    decoded = registry.decode(old.type, old.schemaversion, old.data)
    assert decoded.model_dump() == {"name": "压沙造林", "note": "500亩"}

    async def project(conn: asyncpg.Connection, envelope: EventEnvelope) -> None:
        await conn.execute(
            "INSERT INTO things VALUES ($1, $2)", envelope.data["name"], envelope.schemaversion
        )

    models = ReadModels(
        ddl="CREATE TABLE things (name text, version int)", project=project, upcast=registry.upcast
    )
    await models.rebuild(pool)
    assert [tuple(r) for r in await pool.fetch(f"SELECT * FROM {READ_SCHEMA}.things")] == [
        ("压沙造林", 2)
    ]
    [stored] = await store.read_stream("thing-1")
    assert stored == old  # the stored bytes (and so the hash chain) are untouched
    assert stored.verifies_after(stored.prevhash)
    await pool.close()


async def test_a_pledge_log_written_before_the_open_reasons_rebuilds_the_same_ledger(
    servers: Servers,
) -> None:
    """P10's open reasons are recorded by the pledge's events since they were added; events
    written before carry none (and ItemClosed no passes), and the ledger reads them the same."""
    from datetime import date

    from services.pledge.aggregates import DEFAULT_CATEGORIES, Pledge, Pledger
    from services.pledge.commands import ProposedItem
    from services.pledge.events import BranchKind, PledgerKind, Verdict
    from services.pledge.projections import READ_MODELS

    branch = Pledger(PledgerKind.BRANCH, "b-1", "village", None, "红沙梁村党支部", "t-1", "m")
    pledge = Pledge.draft(2027, branch)
    item = {"description": "措施", "category": "治沙造林", "target": "85%"}
    closes, stays, untouched = pledge.propose(
        "实施方案",
        [
            ProposedItem(title=t, due_date=date(2027, 10, 1), **item)
            for t in ("修渠道", "种树木", "建学校")
        ],
        DEFAULT_CATEGORIES[BranchKind.VILLAGE],
        date(2027, 1, 10),
    )
    for item_id in (closes, stays, untouched):
        pledge.review_item(
            item_id,
            shows_advanced_standard=True,
            matches_wishes=True,
            feasible=True,
            approve=True,
            guidance=None,
        )
    pledge.publish()
    for item_id in (closes, stays):
        pledge.report_done(item_id, "完成")
        pledge.record_verdict(item_id, Verdict.DISSATISFIED, 0.4, f"c-{item_id}", "e-1")
        pledge.confirm_problem_solved(item_id, "解决")
    pledge.report_done(closes, "整改后完成")
    pledge.record_verdict(closes, Verdict.SATISFIED, 0.9, "c-2", "e-2")
    pledge.verify_implementation(closes, "核查到位")
    old = [  # as written before the fields: the defaults they read with
        type(e).model_validate(e.model_dump(exclude={"open_reasons", "reasons"}))
        for e in pledge.pending
    ]
    assert old[-1].model_dump(mode="json")["reasons"] == [
        "problem_solved",
        "implementation_verified",
        "public_satisfied",
    ]

    ledgers = []
    for events in (pledge.pending, old):
        pool, _ = await fresh_log_database(servers, "pledge")
        store = PostgresEventStore(pool, source="/gongkai/pledge")
        await store.append(
            AppendRequest(pledge.stream_id, "t-1", 0, list(events), CommandContext("a", "r"))
        )
        await READ_MODELS.rebuild(pool)
        ledgers.append(
            [
                (r["item_id"], r["ledger_status"], r["open_reasons"])
                for r in await pool.fetch(
                    f"SELECT item_id, ledger_status, open_reasons::text FROM {READ_SCHEMA}.items"
                    " ORDER BY item_id"
                )
            ]
        )
        await pool.close()
    assert (
        ledgers[0]
        == ledgers[1]
        == [
            (closes, "closed", "[]"),
            (stays, "open", '["implementation_not_verified", "public_not_satisfied"]'),
            (
                untouched,
                "open",
                '["not_reported_done", "problem_not_solved", "implementation_not_verified",'
                ' "satisfaction_pending"]',
            ),
        ]
    )
