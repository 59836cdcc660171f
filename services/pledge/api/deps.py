"""What every route of this service needs: run a command, read the read models."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated, Any

import asyncpg
from fastapi import Depends, Request

from shared.auth import Principal
from shared.http import command_context
from shared.unit_of_work import Idempotency, Work


async def run(request: Request, who: Principal, idem: Idempotency | None, work: Work) -> Any:
    executor = request.app.state.runtime.executor
    return await executor.execute(work, context=command_context(request, who), idempotency=idem)


async def read_connection(request: Request) -> AsyncIterator[asyncpg.Connection]:
    async with request.app.state.runtime.pool.acquire() as conn:
        yield conn


Reader = Annotated[asyncpg.Connection, Depends(read_connection)]
