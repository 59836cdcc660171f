"""What every part of `gongkai bench` shares: the servers (embedded unless a URL is given),
fresh databases, alternating timed rounds, and the figures each part reports."""

from __future__ import annotations

import asyncio
import statistics
import time
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
from rich.console import Console
from rich.table import Table

from shared.auth import LocalSigningKey
from shared.database import ensure_database, grant_runtime_role, migrate, open_pool, runtime_role
from shared.embedded import EmbeddedNats, EmbeddedPostgres
from shared.settings import with_database


@dataclass(frozen=True)
class Sizes:
    events: int = 10000  # store: events per side per round
    writers: tuple[int, ...] = (1, 8)
    messages: int = 10000  # messaging: messages per side per round
    commands: int = 2000  # pipeline: commands per side for the sustained rate
    paced_seconds: float = 6.0  # pipeline: how long the 500 events/s run lasts
    requests: int = 3000  # http: requests per side per round
    concurrency: int = 8  # http: requests in flight
    scale: float = 0.05  # county: the largest size, as a fraction of the county
    members_per_branch: int = 50  # county: the county has 50 (smaller in tests)
    tokens: int = 2000  # tokens: distinct tokens verified per side per round
    signins: int = 20  # tokens: argon2id hashes and verifies (p50/p99)
    voters: int = 500  # voting: people voting on one round from phones
    voting_seconds: float = 60.0  # voting: over how long they arrive
    roster_members: int = 30000  # roster: members of the county imported (50 a branch)
    console_townships: int = 5  # console: the generated county (gongkai demo --townships)
    console_branches: int = 3  # console: branches per township
    console_members: int = 6  # console: members per branch
    console_years: int = 2  # console: years of history
    console_county: Path | None = None  # console: a county generated before, copied
    console_people: int = 50  # console: signed-in people clicking through their pages
    console_clicks: int = 20  # console: pages each person opens
    console_think: float = 1.0  # console: seconds between a person's clicks (0.5x to 1.5x)


@dataclass
class Figure:
    """One measured figure; with a base, its ratio to the base and whether the target is met
    (`higher` says which way is better: rates up, latencies down)."""

    what: str
    value: float
    unit: str = "events/s"
    rounds: Sequence[float] = ()
    ratio: float | None = None
    target: float | None = None
    higher: bool = True
    note: str = ""

    @property
    def met(self) -> bool | None:
        """Against the target: the ratio, or without a base the value itself (a limit)."""
        if self.target is None:
            return None
        measured = self.value if self.ratio is None else self.ratio
        return measured >= self.target if self.higher else measured <= self.target


def best(what: str, rounds: Sequence[float], unit: str = "events/s", note: str = "") -> Figure:
    return Figure(what, max(rounds), unit, rounds, note=note)


def versus(
    what: str,
    rounds: Sequence[float],
    base: Figure,
    target: float | None = None,
    *,
    unit: str = "events/s",
    note: str = "",
) -> Figure:
    """The best round of this side against the base's best (rates: higher is better)."""
    value = max(rounds)
    return Figure(what, value, unit, rounds, value / base.value, target, note=note)


def latency(
    what: str, value: float, base: Figure | None = None, target: float | None = None, note: str = ""
) -> Figure:
    ratio = value / base.value if base else None
    return Figure(what, value, "ms", (), ratio, target, higher=False, note=note)


def percentile(values: Sequence[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


async def timed(tasks: Sequence[Awaitable[Any]]) -> float:
    start = time.perf_counter()
    await asyncio.gather(*tasks)
    return time.perf_counter() - start


Side = Callable[[bool], Awaitable[float]]  # one round (warm-up or not) -> its rate


async def alternate(sides: dict[str, Side], rounds: int) -> dict[str, list[float]]:
    """A warm-up, then `rounds` rounds of every side in turn (a, b, a, b, ...) so both see
    the same noise of a shared machine; each side's rate per timed round."""
    rates: dict[str, list[float]] = {name: [] for name in sides}
    for round_ in range(rounds + 1):
        for name, side in sides.items():
            rate = await side(round_ == 0)
            if round_:
                rates[name].append(rate)
    return rates


def report(console: Console, title: str, figures: Sequence[Figure], facts: str = "") -> None:
    table = Table(title=title)
    for column in ("measurement", "value", "ratio", "target", "met?"):
        table.add_column(column, justify="left" if column == "measurement" else "right")
    for f in figures:
        shown = f"{f.value:,.1f}" if f.value < 100 else f"{f.value:,.0f}"
        target = f"{'≥' if f.higher else '≤'} {f.target}" if f.target is not None else ""
        met = {True: "yes", False: "NO", None: ""}[f.met]
        ratio = f"{f.ratio:.2f}" if f.ratio is not None else ""
        table.add_row(f.what, f"{shown} {f.unit}", ratio, target, met)
    console.print(table)
    if facts:
        console.print(facts)
    for f in figures:
        if len(f.rounds) > 1:
            rounds = ", ".join(f"{r:,.0f}" for r in f.rounds)
            console.print(f"  {f.what}: {rounds} (median {statistics.median(f.rounds):,.0f})")
        if f.note:
            console.print(f"  {f.what}: {f.note}")


@dataclass
class Bench:
    """The servers a run measures on; databases made here are dropped at the end."""

    tmp: Path
    console: Console
    rounds: int
    database_url: str | None = None  # an external PostgreSQL; embedded if None
    nats_url: str | None = None
    _postgres: EmbeddedPostgres | None = None
    _nats: EmbeddedNats | None = None
    _databases: list[str] = field(default_factory=list)
    _key: LocalSigningKey | None = None

    async def admin_dsn(self) -> str:
        if self.database_url is None:
            self._postgres = EmbeddedPostgres(self.tmp / "postgres")
            with self.console.status("starting the embedded PostgreSQL ..."):
                self.database_url = await asyncio.to_thread(self._postgres.start)
        return self.database_url

    async def nats(self) -> str:
        if self.nats_url is None:
            self._nats = EmbeddedNats(self.tmp / "nats")
            with self.console.status("starting the embedded nats-server ..."):
                self.nats_url = await asyncio.to_thread(self._nats.start)
        return self.nats_url

    def signing_key(self) -> tuple[LocalSigningKey, Path]:
        """A local token signing key and its public key file (for service processes)."""
        if self._key is None:
            self._key = LocalSigningKey.generate()
            (self.tmp / "signing.pub.pem").write_bytes(self._key.public_pem)
        return self._key, self.tmp / "signing.pub.pem"

    async def database(self, prefix: str, owner_sql: str = "") -> tuple[str, str]:
        """A new database with the event log migrated (and `owner_sql` run by its owner);
        its DSN and runtime role."""
        name = f"gongkai_bench_{prefix}_{uuid.uuid4().hex[:8]}"
        admin = await self.admin_dsn()
        await ensure_database(admin, name)
        self._databases.append(name)
        dsn = with_database(admin, name)
        owner = await asyncpg.connect(dsn)
        try:
            await migrate(owner, ["shared.migrations"])
            if owner_sql:
                await owner.execute(owner_sql)
            role = await grant_runtime_role(owner, name)
        finally:
            await owner.close()
        return dsn, role

    async def pool(self, prefix: str, owner_sql: str = "", size: int = 10) -> asyncpg.Pool:
        """A runtime-role pool on a new database (see `database`)."""
        dsn, role = await self.database(prefix, owner_sql)
        return await open_pool(dsn, role=role, min_size=2, max_size=size)

    def forget(self, name: str) -> None:
        """A database made by someone else (a service) that the run should drop too."""
        self._databases.append(name)

    async def close(self) -> None:
        if self._nats is not None:
            await asyncio.to_thread(self._nats.stop)
        if self._postgres is not None:
            await asyncio.to_thread(self._postgres.stop)  # its directory goes with tmp
            return
        if self.database_url and self._databases:  # an external server: leave nothing behind
            conn = await asyncpg.connect(self.database_url)
            try:
                for name in self._databases:
                    await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
                    await conn.execute(f'DROP ROLE IF EXISTS "{runtime_role(name)}"')
            finally:
                await conn.close()
