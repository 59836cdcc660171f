"""Databases, roles and migrations.

Migrations run at start-up on the owner's connection, which is then closed. The service
serves through a login of its own, the runtime role, that may only INSERT and SELECT on the
event log (A1): the trigger in the schema is the first guard, the missing privilege the
second. A login, not the owner's session with SET ROLE: RESET ROLE would give the owner back
to anything that can issue SQL on a serving connection.
"""

from __future__ import annotations

import contextlib
import hashlib
import secrets
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from importlib import resources
from urllib.parse import quote, urlsplit, urlunsplit

import asyncpg
import structlog
from tenacity import AsyncRetrying, retry_if_exception_type, stop_after_delay, wait_fixed

log = structlog.get_logger()

READ_SCHEMA = "rm"  # read models live here; rebuilds build a sibling schema and switch


APPEND_ONLY = ("events", "inbox", "checkpoints", "files", "file_blobs")


def runtime_role(database: str) -> str:
    return f"{database}_runtime"


async def connect_with_retry(dsn: str, seconds: float = 30) -> asyncpg.Connection:
    async for attempt in AsyncRetrying(
        stop=stop_after_delay(seconds),
        wait=wait_fixed(0.2),
        retry=retry_if_exception_type((OSError, asyncpg.CannotConnectNowError)),
        reraise=True,
    ):
        with attempt:
            return await asyncpg.connect(dsn)
    raise AssertionError("unreachable")


async def ensure_database(admin_dsn: str, database: str) -> None:
    """Create `database` on the server behind `admin_dsn` if it does not exist yet."""
    conn = await connect_with_retry(admin_dsn)
    try:
        exists = await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", database)
        if not exists:
            # another replica, starting at the same moment, may make it first
            with contextlib.suppress(asyncpg.DuplicateDatabaseError, asyncpg.UniqueViolationError):
                await conn.execute(f'CREATE DATABASE "{database}"')
    finally:
        await conn.close()


def sql_files(package: str) -> list[tuple[str, str]]:
    folder = resources.files(package)
    files = sorted((f for f in folder.iterdir() if f.name.endswith(".sql")), key=lambda f: f.name)
    return [(f"{package}:{f.name}", f.read_text(encoding="utf-8")) for f in files]


async def migrate(conn: asyncpg.Connection, packages: Sequence[str]) -> list[str]:
    """Apply the not-yet-applied SQL files of `packages`, in order, each once."""
    applied: list[str] = []
    async with conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock(4242)")
        await conn.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations"
            " (name text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())"
        )
        done = {r["name"] for r in await conn.fetch("SELECT name FROM schema_migrations")}
        for package in packages:
            for name, sql in sql_files(package):
                if name in done:
                    continue
                await conn.execute(sql)
                await conn.execute("INSERT INTO schema_migrations (name) VALUES ($1)", name)
                applied.append(name)
    if applied:
        log.info("migrations_applied", names=applied)
    return applied


async def grant_runtime_role(conn: asyncpg.Connection, database: str) -> str:
    """Create the runtime role and give it exactly what the service needs."""
    role = runtime_role(database)
    async with conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock(4243)")
        if not await conn.fetchval("SELECT 1 FROM pg_roles WHERE rolname = $1", role):
            await conn.execute(f'CREATE ROLE "{role}" NOLOGIN')
        await conn.execute(f'GRANT USAGE ON SCHEMA public TO "{role}"')
        # the mechanism's tables and a service's own (from its migrations) ...
        await conn.execute(
            f'GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO "{role}"'
        )
        # ... but what is append-only may only be read and appended to (A1)
        await conn.execute(
            f'REVOKE UPDATE, DELETE, TRUNCATE ON {", ".join(APPEND_ONLY)} FROM "{role}"'
        )
        await conn.execute(f'REVOKE ALL ON schema_migrations FROM "{role}"')
        await conn.execute(f'GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO "{role}"')
        await conn.execute(f'GRANT CREATE ON DATABASE "{database}" TO "{role}"')
        await conn.execute(f'GRANT "{role}" TO CURRENT_USER')
    return role


ADMIN_SCHEMA = "gongkai_admin"  # the owner's alone (no USAGE for anyone else)


async def runtime_login(conn: asyncpg.Connection, database: str) -> str:
    """Let the runtime role log in with a password of its own (generated once, kept where
    only the owner reads it, so every replica logs in alike); the password."""
    role = runtime_role(database)
    async with conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock(4244)")
        await conn.execute(f"CREATE SCHEMA IF NOT EXISTS {ADMIN_SCHEMA}")
        await conn.execute(f"REVOKE ALL ON SCHEMA {ADMIN_SCHEMA} FROM PUBLIC")
        await conn.execute(
            f"CREATE TABLE IF NOT EXISTS {ADMIN_SCHEMA}.logins"
            " (role text PRIMARY KEY, password text NOT NULL)"
        )
        password: str | None = await conn.fetchval(
            f"SELECT password FROM {ADMIN_SCHEMA}.logins WHERE role = $1", role
        )
        if password is None:
            password = secrets.token_urlsafe(32)  # letters, digits, - and _: a safe literal
            await conn.execute(f"INSERT INTO {ADMIN_SCHEMA}.logins VALUES ($1, $2)", role, password)
        await conn.execute(
            # nothing else: the role was made with no other attribute, and only a superuser
            # may even name SUPERUSER, REPLICATION or BYPASSRLS (the owner need not be one)
            f"ALTER ROLE \"{role}\" LOGIN NOINHERIT PASSWORD '{password}'"
        )
    return password


def as_login(dsn: str, user: str, password: str) -> str:
    """`dsn` with another user and password (same server, database and options)."""
    parts = urlsplit(dsn)
    server = parts.netloc.rsplit("@", 1)[-1]
    return urlunsplit(parts._replace(netloc=f"{quote(user, safe='')}:{quote(password)}@{server}"))


async def open_pool(
    dsn: str, *, role: str | None, min_size: int = 2, max_size: int = 10
) -> asyncpg.Pool:
    """A pool whose connections see the read-model schema (and act as `role`, for operator
    commands on the owner's login).

    Both are connection defaults (startup parameters), so the pool's RESET ALL on release
    keeps them.
    """
    settings = {"search_path": f"{READ_SCHEMA}, public"}
    if role:
        settings["role"] = role
    probe = await connect_with_retry(dsn)  # wait for a server that is still starting
    await probe.close()
    pool = await asyncpg.create_pool(
        dsn,
        min_size=min_size,
        max_size=max_size,
        server_settings=settings,
        command_timeout=60,
        # No reset round trip on every release: sessions hold no state worth resetting (role
        # and search path are startup settings, locks are transaction-scoped, no LISTEN);
        # asyncpg still rolls back a transaction left open.
        reset=_keep_session,
    )
    assert pool is not None
    return pool


async def _keep_session(conn: asyncpg.Connection) -> None:
    return None


def checksum(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:16]


@asynccontextmanager
async def alone(pool: asyncpg.Pool, name: str) -> AsyncIterator[bool]:
    """Whether this process, among every replica on the database, may do the pass called
    `name` now: for work whose effect lies outside the database (a message sent twice cannot be
    rolled back). A transaction-scoped advisory lock held for the pass, like every lock here
    (the pool does not reset sessions): the end of the pass, its failure or the holder's death
    releases it. The transaction writes nothing, so it holds back no vacuum."""
    key = int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)
    async with pool.acquire() as conn, conn.transaction():
        yield bool(await conn.fetchval("SELECT pg_try_advisory_xact_lock($1)", key))
