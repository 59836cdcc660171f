"""Operator actions on a service's database: rebuild read models, rewind the relay."""

from __future__ import annotations

from importlib import import_module

import asyncpg

from services.cli.stack import SERVICES
from shared.database import open_pool, runtime_role
from shared.relay import republish_from
from shared.settings import with_database


async def _pool(service: str, database_url: str) -> asyncpg.Pool:
    database = f"gongkai_{service}"
    return await open_pool(with_database(database_url, database), role=runtime_role(database))


async def rebuild_read_models(service: str, database_url: str) -> int:
    definition = import_module(SERVICES[service][0]).DEFINITION
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
