"""Operator actions on a service's database: rebuild read models, rewind the relay."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import asyncpg

from gongkai.operator.services import load_service
from shared.audit.bundle import export_bundle, positions
from shared.database import open_pool, runtime_role
from shared.relay import republish_from
from shared.settings import with_database


async def _pool(service: str, database_url: str) -> asyncpg.Pool:
    database = f"gongkai_{service}"
    return await open_pool(with_database(database_url, database), role=runtime_role(database))


async def rebuild_read_models(service: str, database_url: str) -> int:
    definition = load_service(service).DEFINITION
    pool = await _pool(service, database_url)
    try:
        count: int = await definition.read_models.rebuild(pool)
        return count
    finally:
        await pool.close()


async def rewind_relay(service: str, database_url: str, partition: str | None, after: int) -> None:
    pool = await _pool(service, database_url)
    try:
        await republish_from(pool, partition=partition, sequence=after)
    finally:
        await pool.close()


async def export_log(
    service: str,
    database_url: str,
    out: Path,
    public_key_pem: bytes,
    partition: str | None,
    progress: Callable[[int, int], None],
    first: int | datetime | None = None,
    last: int | datetime | None = None,
    *,
    with_files: bool = False,
) -> dict[str, Any]:
    """Export a bundle; a range is given by log positions or times (inclusive); with the
    evidence files its events record, read from the service's file store."""
    from shared.files import store_from_environment

    pool = await _pool(service, database_url)
    files = store_from_environment().blobs.get if with_files else None
    try:
        first, last = await positions(pool, first, last)
        return await export_bundle(
            pool,
            out,
            service=service,
            public_key_pem=public_key_pem,
            partition=partition,
            first=first,
            last=last,
            progress=progress,
            files=(lambda conn, sha: files(sha, conn)) if files is not None else None,
        )
    finally:
        await pool.close()


async def replay_read_models(
    service: str,
    database_url: str,
    out: Path,
    until_time: datetime | None,
    until_position: int | None,
) -> dict[str, int]:
    """Build the read models as of a time or position into a schema of their own, dump each
    table as JSON Lines, and drop the schema again."""
    definition = load_service(service).DEFINITION
    pool = await _pool(service, database_url)
    schema = "replay_cli"
    try:
        await definition.read_models.rebuild(
            pool, into=schema, until_time=until_time, until_position=until_position
        )
        out.mkdir(parents=True, exist_ok=True)
        counts = {}
        tables = await pool.fetch(
            "SELECT tablename FROM pg_tables WHERE schemaname = $1 ORDER BY 1", schema
        )
        for table in (t["tablename"] for t in tables):
            rows = await pool.fetch(
                f'SELECT to_jsonb(t)::text AS row FROM "{schema}"."{table}" t ORDER BY 1'
            )
            (out / f"{table}.jsonl").write_text(
                "".join(r["row"] + "\n" for r in rows), encoding="utf-8"
            )
            counts[table] = len(rows)
        return counts
    finally:
        await pool.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        await pool.close()
