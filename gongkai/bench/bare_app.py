"""The bare endpoint `gongkai bench http` measures the pledge service against: FastAPI and
one raw asyncpg INSERT per request, the same validated body, no log, auth or projection.
Run as `python -m gongkai.bench.bare_app` with BENCH_DSN and BENCH_PORT set."""

from __future__ import annotations

import hashlib
import itertools
import json
import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

import asyncpg
import uvicorn
from fastapi import FastAPI

from gongkai.bench.store import RAW_INSERT
from services.pledge.commands import EnrolMember

state: dict[str, Any] = {}


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    state["pool"] = await asyncpg.create_pool(os.environ["BENCH_DSN"], min_size=2, max_size=10)
    state["sequence"] = itertools.count(1)
    yield
    await state["pool"].close()


app = FastAPI(lifespan=lifespan)


@app.post("/v1/members", status_code=201)
async def enrol(cmd: EnrolMember) -> dict[str, str]:
    member, event_id, now = f"m-{uuid.uuid4().hex[:8]}", uuid.uuid4(), datetime.now(UTC)
    body = json.dumps({"id": str(event_id), "type": "MemberEnrolled", "data": cmd.model_dump()})
    data, prev = body.encode(), hashlib.sha256(event_id.bytes).digest()
    sequence = next(state["sequence"])
    await state["pool"].execute(
        RAW_INSERT,
        event_id,
        f"member-{member}",
        1,
        "bare",
        sequence,
        "MemberEnrolled",
        now,
        data,
        prev,
        hashlib.sha256(prev + data).digest(),
    )
    return {"id": member}


if __name__ == "__main__":
    uvicorn.run(app, host="127.0.0.1", port=int(os.environ["BENCH_PORT"]), log_level="warning")
