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
