"""The credential table beside the log, behind a port (`Credentials`) the sign-in handlers
use inside their command's transaction; tests/support/identity.py keeps it in memory."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Protocol

import asyncpg


@dataclass(frozen=True)
class Credential:
    person_id: str
    login_hash: str | None = None
    password_hash: str | None = None
    password_set_at: datetime | None = None
    previous_hashes: tuple[str, ...] = ()
    activation_hash: str | None = None
    activation_expires: datetime | None = None
    totp_secret: str | None = None
    failures: int = 0
    locked_until: datetime | None = None
    locks: int = 0

    def but(self, **changes: object) -> Credential:
        return replace(self, **changes)  # type: ignore[arg-type]


class Credentials(Protocol):
    async def pepper(self) -> bytes: ...
    async def by_login(self, login_hash: str) -> Credential | None: ...
    async def of(self, person_id: str) -> Credential | None: ...
    async def save(self, credential: Credential) -> None: ...
    async def address_failures(self, address: str, since: datetime) -> int: ...
    async def address_failed(self, address: str, at: datetime) -> None: ...


COLUMNS = (
    "person_id, login_hash, password_hash, password_set_at, previous_hashes, activation_hash,"
    " activation_expires, totp_secret, failures, locked_until, locks"
)


def _credential(row: asyncpg.Record | None) -> Credential | None:
    if row is None:
        return None
    values = dict(row)
    values["previous_hashes"] = tuple(values["previous_hashes"])
    return Credential(**values)


@dataclass
class PostgresCredentials:
    conn: asyncpg.Connection
    _pepper: list[bytes] = field(default_factory=list)

    async def pepper(self) -> bytes:
        """The key of the login names' hashes: made once, kept in the database only."""
        if not self._pepper:
            await self.conn.execute(
                "INSERT INTO identity_pepper VALUES ('login', $1) ON CONFLICT DO NOTHING",
                secrets.token_bytes(32),
            )
            key = await self.conn.fetchval("SELECT key FROM identity_pepper WHERE name = 'login'")
            self._pepper.append(key)
        return self._pepper[0]

    async def by_login(self, login_hash: str) -> Credential | None:
        return _credential(
            await self.conn.fetchrow(
                f"SELECT {COLUMNS} FROM credentials WHERE login_hash = $1 FOR UPDATE", login_hash
            )
        )

    async def of(self, person_id: str) -> Credential | None:
        return _credential(
            await self.conn.fetchrow(
                f"SELECT {COLUMNS} FROM credentials WHERE person_id = $1 FOR UPDATE", person_id
            )
        )

    async def save(self, c: Credential) -> None:
        await self.conn.execute(
            f"INSERT INTO credentials ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9,"
            " $10, $11) ON CONFLICT (person_id) DO UPDATE SET login_hash = $2,"
            " password_hash = $3, password_set_at = $4, previous_hashes = $5,"
            " activation_hash = $6, activation_expires = $7, totp_secret = $8, failures = $9,"
            " locked_until = $10, locks = $11",
            c.person_id,
            c.login_hash,
            c.password_hash,
            c.password_set_at,
            list(c.previous_hashes),
            c.activation_hash,
            c.activation_expires,
            c.totp_secret,
            c.failures,
            c.locked_until,
            c.locks,
        )

    async def address_failures(self, address: str, since: datetime) -> int:
        await self.conn.execute("DELETE FROM address_failures WHERE at < $1", since)
        count: int = await self.conn.fetchval(
            "SELECT count(*) FROM address_failures WHERE address = $1 AND at >= $2",
            address,
            since,
        )
        return count

    async def address_failed(self, address: str, at: datetime) -> None:
        await self.conn.execute("INSERT INTO address_failures VALUES ($1, $2)", address, at)


def credentials(conn: asyncpg.Connection) -> Credentials:
    return PostgresCredentials(conn)
