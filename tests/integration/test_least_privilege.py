"""Least privilege for real (issue 21): the embedded default admits only its users, by
password, on both servers; a service serves through a login of its own that holds only what
it needs, so nothing issued on its connections gains the owner's rights back, and the log
stays append-only by privilege even with the trigger gone."""

from __future__ import annotations

import re
import stat
import uuid
from datetime import UTC, datetime
from pathlib import Path

import asyncpg
import nats
import nats.errors
import pytest

from services.pledge.app import DEFINITION as PLEDGE
from shared.clock import FixedClock
from shared.database import runtime_role
from shared.embedded import EmbeddedNats
from tests.e2e.helpers import Directory
from tests.support import Servers, running


async def test_the_embedded_servers_admit_no_one_without_the_generated_password(
    servers: Servers, tmp_path: Path
) -> None:
    port = servers.postgres.port
    for dsn in (
        f"postgresql://postgres@127.0.0.1:{port}/postgres",
        f"postgresql://postgres:wrong@127.0.0.1:{port}/postgres",
    ):
        with pytest.raises(asyncpg.InvalidPasswordError):
            await asyncpg.connect(dsn)
    assert stat.S_IMODE(servers.postgres.password_file.stat().st_mode) == 0o600
    conn = await asyncpg.connect(servers.postgres.dsn)
    try:
        rules = await conn.fetch("SELECT auth_method FROM pg_hba_file_rules")
        assert {r["auth_method"] for r in rules} == {"scram-sha-256"}
    finally:
        await conn.close()

    broker = EmbeddedNats(tmp_path / "nats")
    broker.start()
    try:
        assert stat.S_IMODE((broker.data_dir / "passwords.json").stat().st_mode) == 0o600
        for url in (broker.address, f"nats://gongkai:wrong@127.0.0.1:{broker.port}"):
            with pytest.raises((nats.errors.NoServersError, nats.errors.Error)):
                await nats.connect(url, allow_reconnect=False, max_reconnect_attempts=0)
        nc = await nats.connect(broker.url)
        await nc.close()
    finally:
        broker.stop()


async def test_a_serving_connection_cannot_regain_the_owner_or_rewrite_the_log(
    servers: Servers,
) -> None:
    clock = FixedClock(datetime(2027, 1, 4, 2, 0, tzinfo=UTC))
    async with running(servers, [PLEDGE], clock) as services:
        pledge = services["pledge"]
        await Directory(pledge.client, servers).build()  # events in the log
        role = runtime_role(pledge.settings.database)
        owner = await asyncpg.connect(pledge.settings.service_dsn)
        try:
            # the first guard gone: only the privileges are left
            await owner.execute("ALTER TABLE events DISABLE TRIGGER USER")
            async with pledge.runtime.pool.acquire() as conn:
                for escape in ("RESET ROLE", "SET ROLE NONE", "RESET SESSION AUTHORIZATION"):
                    await conn.execute(escape)
                    who = await conn.fetchrow("SELECT current_user, session_user")
                    assert tuple(who) == (role, role), escape
                with pytest.raises(asyncpg.InsufficientPrivilegeError):
                    await conn.execute("SET ROLE postgres")
                with pytest.raises(asyncpg.InsufficientPrivilegeError):
                    await conn.execute("SET SESSION AUTHORIZATION postgres")
                for statement in (
                    "UPDATE events SET type = type",
                    "DELETE FROM events",
                    "TRUNCATE events",
                    "UPDATE inbox SET type = type",
                    "ALTER TABLE events ENABLE TRIGGER USER",
                    "DROP TABLE events",
                    "SELECT password FROM gongkai_admin.logins",
                ):
                    with pytest.raises(asyncpg.InsufficientPrivilegeError):
                        await conn.execute(statement)
                attributes = await conn.fetchrow(
                    "SELECT rolsuper, rolcreaterole, rolcreatedb, rolbypassrls"
                    " FROM pg_roles WHERE rolname = current_user"
                )
                assert not any(attributes)
            count = await owner.fetchval("SELECT count(*) FROM events")
            assert count > 0
        finally:
            await owner.close()


async def test_a_service_runs_on_the_deployed_owner_which_is_no_superuser(
    servers: Servers,
) -> None:
    """deploy/postgres-init.sh, as the PostgreSQL image runs it: an owner that may create
    roles but is no superuser owns the databases; a service migrates as it and serves as its
    runtime login."""
    run = uuid.uuid4().hex[:8]
    script = (Path(__file__).parents[2] / "deploy" / "postgres-init.sh").read_text("utf-8")
    sql = script.split("<<SQL\n", 1)[1].split("\nSQL", 1)[0]
    password = uuid.uuid4().hex
    sql = sql.replace("${GONGKAI_POSTGRES_OWNER_PASSWORD}", password)
    sql = re.sub(
        r"\bgongkai_(owner|pledge|review|evaluation|notification|identity)\b", rf"\g<0>_{run}", sql
    )
    admin = await asyncpg.connect(servers.postgres.dsn)
    try:
        for statement in filter(None, (s.strip() for s in sql.split(";"))):
            await admin.execute(statement)
    finally:
        await admin.close()
    owner_url = (
        f"postgresql://gongkai_owner_{run}:{password}@127.0.0.1:{servers.postgres.port}/postgres"
    )
    clock = FixedClock(datetime(2027, 1, 4, 2, 0, tzinfo=UTC))
    async with running(
        servers, [PLEDGE], clock, database_url=owner_url, database_name=f"gongkai_pledge_{run}"
    ) as services:
        pledge = services["pledge"]
        await Directory(pledge.client, servers).build()
        who = await pledge.runtime.pool.fetchrow("SELECT current_user, session_user")
        assert tuple(who) == (runtime_role(f"gongkai_pledge_{run}"),) * 2
        assert await pledge.runtime.pool.fetchval("SELECT count(*) FROM events") > 0
