"""The pipeline bench's consumers, each in a process of its own as deployed (`gongkai up` runs
every service as its own process): the review service's runtime (ours) and the raw pull
consumer. Each sends back, per committed batch, the keys that arrived and the time
(`time.perf_counter`, the system's monotonic clock, the same in every process)."""

from __future__ import annotations

import asyncio
import multiprocessing
import threading
import time
from collections.abc import Awaitable, Callable
from multiprocessing.connection import Connection
from typing import Any

import asyncpg
from nats.aio.msg import Msg

from shared.database import open_pool
from shared.logging import configure_logging
from shared.messaging import Subjects, connect

Send = Callable[[list[str]], None]


class ConsumerProcess:
    """Starts `kind` ("review" or "raw") in a child process; `arrived` fills as it commits."""

    def __init__(self, kind: str, params: dict[str, Any]) -> None:
        self.kind = kind
        self.arrived: dict[str, float] = {}
        context = multiprocessing.get_context("spawn")
        self._conn, child = context.Pipe()
        self._process = context.Process(target=_main, args=(kind, params, child), daemon=True)
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._ready = threading.Event()

    async def start(self) -> None:
        self._process.start()
        self._reader.start()
        deadline = time.monotonic() + 120
        while not self._ready.is_set():
            if not self._process.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"the {self.kind} consumer process did not start")
            await asyncio.sleep(0.05)

    async def stop(self) -> None:
        self._conn.send("stop")
        await asyncio.to_thread(self._process.join, 30)
        if self._process.is_alive():
            self._process.kill()

    def _read(self) -> None:
        while True:
            try:
                message = self._conn.recv()
            except (EOFError, OSError):
                return
            if message == "ready":
                self._ready.set()
                continue
            keys, moment = message
            for key in keys:
                self.arrived.setdefault(key, moment)


def _main(kind: str, params: dict[str, Any], conn: Connection) -> None:
    configure_logging(json=False, level="WARNING")
    asyncio.run(_serve(kind, params, conn))


async def _serve(kind: str, params: dict[str, Any], conn: Connection) -> None:
    def send(keys: list[str]) -> None:
        conn.send((keys, time.perf_counter()))

    stop = await (_review if kind == "review" else _raw)(params, send)
    conn.send("ready")
    await asyncio.to_thread(conn.recv)  # "stop", or the parent went away
    await stop()


async def _review(params: dict[str, Any], send: Send) -> Callable[[], Awaitable[None]]:
    """The review service's runtime; an event has arrived when its runner's batch commits."""
    from services.review.app import DEFINITION
    from shared.runtime import Runtime
    from shared.settings import ServiceSettings

    runtime = Runtime(DEFINITION, ServiceSettings(**params))
    await runtime.start()
    await runtime.broker_joined()
    for runner in runtime.runners:
        handle_batch = runner.handle_batch

        async def noted(messages: list[Msg], handle_batch: Any = handle_batch) -> list[Msg]:
            held: list[Msg] = await handle_batch(messages)
            send([(msg.headers or {})["ce-streamid"] for msg in messages if msg not in held])
            return held

        runner.handle_batch = noted  # type: ignore[method-assign]
    return runtime.stop


async def _raw(params: dict[str, Any], send: Send) -> Callable[[], Awaitable[None]]:
    """A hand-written pull consumer: the read-model upsert and its checkpoint in one
    transaction per message, then the ack."""
    from gongkai.bench.messaging import raw_consume

    pool = await open_pool(params["dsn"], role=params["role"], min_size=1, max_size=2)
    nc = await connect(params["nats_url"], name="gongkai-bench-raw-consumer")
    js = nc.jetstream()
    stopping = asyncio.Event()

    async def apply(msg: Msg) -> None:
        headers = msg.headers or {}
        async with pool.acquire() as db, db.transaction():
            await upsert_copy(db, headers["ce-streamid"], msg)
        send([headers["Nats-Msg-Id"]])

    consumer = asyncio.create_task(
        raw_consume(js, Subjects(params["root"]), 1 << 62, apply, durable="raw", stop=stopping)
    )

    async def stop() -> None:
        stopping.set()
        await consumer
        await nc.close()
        await pool.close()

    return stop


async def upsert_copy(db: asyncpg.Connection, stream_id: str, msg: Msg) -> None:
    await db.execute(
        "INSERT INTO raw_copy VALUES ($1, $2) ON CONFLICT (stream_id)"
        " DO UPDATE SET body = EXCLUDED.body",
        stream_id,
        msg.data,
    )
    await db.execute(
        "INSERT INTO raw_checkpoints VALUES ($1, $2) ON CONFLICT (partition)"
        " DO UPDATE SET sequence = EXCLUDED.sequence",
        msg.subject.split(".")[2],
        msg.metadata.sequence.stream,
    )
