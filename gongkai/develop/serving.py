"""A service's app under uvicorn inside a larger program (`gongkai demo --townships`, tests)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager

import httpx
import uvicorn
from fastapi import FastAPI


class _Embedded(uvicorn.Server):
    """A server inside a larger program (a test, `gongkai demo`): the program handles Ctrl-C
    and `kill`, not each server on its own."""

    @contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


@asynccontextmanager
async def serving(app: FastAPI, port: int) -> AsyncIterator[httpx.AsyncClient]:
    """Run `app` under uvicorn on 127.0.0.1:`port`; yield a client for it."""
    server = _Embedded(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    )
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()  # start-up failed: raise its error
        await asyncio.sleep(0.02)
    # an idle connection is dropped before uvicorn's keep-alive (5 s) closes it: a request
    # sent on it just as the server closes it fails with "Server disconnected"
    limits = httpx.Limits(keepalive_expiry=4.0)
    try:
        async with httpx.AsyncClient(
            base_url=f"http://127.0.0.1:{port}", timeout=30, limits=limits
        ) as client:
            yield client
    finally:
        server.should_exit = True
        await task
