"""What the tests need besides the code under test: the embedded servers (started once per
session), a signing key, services running on real loopback ports, and a browser
(`tests/support/chromium.py`)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import AsyncExitStack, asynccontextmanager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI

from gongkai.develop.serving import serving
from shared.auth import LocalSigningKey, Role
from shared.clock import FixedClock
from shared.database import READ_SCHEMA
from shared.embedded import EmbeddedNats, EmbeddedPostgres, free_port
from shared.messaging import Subjects
from shared.projections import ReadModels, table_fingerprints
from shared.runtime import Runtime, ServiceDefinition, create_app
from shared.settings import ServiceSettings


@dataclass
class Servers:
    postgres: EmbeddedPostgres
    nats: EmbeddedNats
    key: LocalSigningKey
    key_file: Path
    checkpoint_key_file: Path

    def settings(self, service: str, **overrides: Any) -> ServiceSettings:
        """Settings for one service instance with its own database and NATS subject root."""
        run = uuid.uuid4().hex[:8]
        values: dict[str, Any] = {
            "service": service,
            "port": free_port(),
            "database_url": self.postgres.dsn,
            "database_name": f"gongkai_{service}_{run}",
            "nats_url": self.nats.url,
            "nats_subject_root": f"t{run}",
            "jwt_public_key_file": self.key_file,
            "checkpoint_key_file": self.checkpoint_key_file,
            **overrides,
        }
        return ServiceSettings(**values)

    def token(
        self, role: Role | str, org: str | None = None, subject: str | None = None, **claims: Any
    ) -> str:
        return self.key.issue(
            issuer="gongkai-local",
            audience="gongkai",
            subject=subject or f"{role}-{org}",
            role=role,
            org=org,
            **claims,
        )

    def auth(
        self, role: Role | str, org: str | None = None, subject: str | None = None
    ) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token(role, org, subject)}"}


# The tests' PostgreSQL does not wait for the disk: every commit still writes its WAL before
# it returns (a kill -9 of the server, as the fault tests do, loses nothing acknowledged),
# but nothing is forced to disk, which only a crash of the machine itself would need. On a
# busy machine the fsyncs of the suite's thousands of commits, and of the checkpoint at the
# end, were much of its time.
NO_DISK_WAITS = ("fsync = off", "full_page_writes = off")


def start_servers(root: Path) -> Servers:
    postgres = EmbeddedPostgres(root / "postgres")
    nats = EmbeddedNats(root / "nats")
    postgres.start()
    _without_disk_waits(postgres.dsn)
    nats.start()
    key = LocalSigningKey.generate()
    key_file = root / "signing.pub.pem"
    key_file.write_bytes(key.public_pem)
    checkpoint_key_file = root / "checkpoint.pem"
    checkpoint_key_file.write_bytes(LocalSigningKey.generate().private_pem)
    return Servers(postgres, nats, key, key_file, checkpoint_key_file)


def _without_disk_waits(dsn: str) -> None:
    """Set in postgresql.auto.conf, so a server restarted after a kill keeps them."""
    from concurrent.futures import ThreadPoolExecutor

    import asyncpg

    async def configure() -> None:
        for _ in range(300):  # the port opens before the server takes connections
            try:
                conn = await asyncpg.connect(dsn)
                break
            except asyncpg.CannotConnectNowError:
                await asyncio.sleep(0.1)
        else:
            raise RuntimeError("the tests' PostgreSQL did not take connections in 30 s")
        try:
            for setting in NO_DISK_WAITS:
                await conn.execute(f"ALTER SYSTEM SET {setting}")
            await conn.execute("SELECT pg_reload_conf()")
        finally:
            await conn.close()

    # a thread of its own: a fixture may be set up while a test's event loop runs
    with ThreadPoolExecutor(1) as thread:
        thread.submit(asyncio.run, configure()).result()


@contextmanager
def servers_under(root: Path) -> Iterator[Servers]:
    """Servers started under `root` for a while, then stopped."""
    started = start_servers(root)
    try:
        yield started
    finally:
        started.nats.stop()
        started.postgres.stop()


@dataclass
class RunningService:
    client: httpx.AsyncClient
    app: FastAPI
    settings: ServiceSettings
    clock: FixedClock

    @property
    def runtime(self) -> Runtime:
        runtime: Runtime = self.app.state.runtime
        return runtime

    @property
    def subjects(self) -> Subjects:
        return Subjects(self.settings.nats_subject_root)


@asynccontextmanager
async def running(
    servers: Servers, definitions: list[ServiceDefinition], clock: FixedClock, **overrides: Any
) -> AsyncIterator[dict[str, RunningService]]:
    """Run several services on real loopback ports, on one NATS subject root (so their events
    flow between them), each with its own database, all on the same injectable clock. The
    root is the test's own unless given (a test with a broker of its own may use the real one)."""
    root = overrides.pop("nats_subject_root", f"t{uuid.uuid4().hex[:8]}")
    each: list[AsyncExitStack] = []  # one per service: they are stopped together
    try:
        started = {}
        for definition in definitions:
            settings = servers.settings(definition.name, nats_subject_root=root, **overrides)
            app = create_app(definition, settings, clock=clock)
            each.append(stack := AsyncExitStack())
            client = await stack.enter_async_context(serving(app, settings.port))
            started[definition.name] = RunningService(client, app, settings, clock)
        yield started
    finally:
        await stopped_together(each)


async def stopped_together(stacks: list[AsyncExitStack]) -> None:
    """Close the stacks at once, not one after another: a service's shutdown waits up to a
    second for each of its consumers' pending fetch from the broker to expire (a test's four
    services took four seconds to stop, one at a time). The first error is raised once all
    have stopped."""
    outcomes = await asyncio.gather(*(s.aclose() for s in reversed(stacks)), return_exceptions=True)
    for outcome in outcomes:
        if isinstance(outcome, BaseException):
            raise outcome


async def fresh_log_database(
    servers: Servers, service: str = "test", owner_sql: str = "", migrations: tuple[str, ...] = ()
) -> tuple[Any, str]:
    """A new database with the event log migrated (and the service's own `migrations`
    packages: its tables beside the log); a runtime-role pool and the owner's DSN."""
    import asyncpg

    from shared.database import ensure_database, grant_runtime_role, migrate, open_pool
    from shared.settings import with_database

    name = f"gongkai_{service}_{uuid.uuid4().hex[:8]}"
    await ensure_database(servers.postgres.dsn, name)
    dsn = with_database(servers.postgres.dsn, name)
    owner = await asyncpg.connect(dsn)
    try:
        await migrate(owner, ["shared.migrations", *migrations])
        if owner_sql:  # tables a test needs beside the log, made by the owner like migrations
            await owner.execute(owner_sql)
        role = await grant_runtime_role(owner, name)
    finally:
        await owner.close()
    return await open_pool(dsn, role=role, max_size=20), dsn


async def rebuilt_as_live(pool: Any, models: ReadModels, into: str = "rm_check") -> dict[str, str]:
    """A2: the read models rebuilt from the log into a schema of their own (`into`, kept for
    further reads) equal the live ones, row for row; the live tables' fingerprints."""
    async with pool.acquire() as conn:
        live = await table_fingerprints(conn, READ_SCHEMA)
    await models.rebuild(pool, into=into)
    async with pool.acquire() as conn:
        assert await table_fingerprints(conn, into) == live
    return live
