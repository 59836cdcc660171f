"""The composition root every service uses: database, log, read models, NATS, relay,
subscriptions and the FastAPI app around them."""

from __future__ import annotations

import asyncio
import contextlib
import gc
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import asyncpg
import structlog
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import load_pem_private_key
from fastapi import APIRouter, FastAPI
from nats.aio.client import Client as NATS
from nats.js import JetStreamContext

from shared.audit.api import router as audit_router
from shared.audit.checkpoints import sign_checkpoint
from shared.auth import TokenVerifier
from shared.clock import Clock, SystemClock
from shared.database import (
    as_login,
    ensure_database,
    grant_runtime_role,
    migrate,
    open_pool,
    runtime_login,
)
from shared.events import EventRegistry
from shared.eventstore.postgres import PostgresEventStore
from shared.guards import TokenBuckets
from shared.http import RequestContextMiddleware, install_error_handlers, ops_router
from shared.lease import Leases
from shared.logging import configure_logging
from shared.messaging import Subjects, connect, ensure_stream, tls_context
from shared.projections import ReadModels
from shared.relay import OutboxRelay
from shared.revocations import RevocationFeed, Revocations
from shared.settings import ServiceSettings
from shared.subscriptions import Subscription, SubscriptionRunner
from shared.unit_of_work import CommandExecutor

log = structlog.get_logger()
CLOSE_SECONDS = 10.0  # the longest each step of a shutdown may take
# how long a starting service waits for the broker before it serves without it
BROKER_WAIT_SECONDS = 5.0


@dataclass(frozen=True)
class Periodic:
    """Work a service does on a schedule, driven by its clock: reminders, deliveries, closing
    what is due. A failing pass is logged and the next one tries again."""

    name: str
    interval: float  # seconds between passes
    step: Callable[[], Awaitable[Any]]
    close: Callable[[], Awaitable[None]] | None = None  # release what the step holds


@dataclass(frozen=True)
class ServiceDefinition:
    name: str
    title: str
    registry: EventRegistry
    read_models: ReadModels
    routers: Sequence[APIRouter]
    subscriptions: Callable[[Runtime], Sequence[Subscription]] = lambda runtime: ()
    description: str = ""
    migrations: Sequence[str] = ()  # packages of the service's own SQL (beside the log)
    periodic: Callable[[Runtime], Sequence[Periodic]] = lambda runtime: ()
    default_port: int = 8101
    branches_table: str = "dir_branches"  # who holds a branch's secretary post (the directory)
    townships_table: str = "dir_townships"  # which county a township is in (an auditor's scope)
    counties_table: str | None = None  # ... and which counties there are, if kept apart


@dataclass
class Runtime:
    definition: ServiceDefinition
    settings: ServiceSettings
    clock: Clock = field(default_factory=SystemClock)
    pool: asyncpg.Pool = field(init=False)
    store: PostgresEventStore = field(init=False)
    executor: CommandExecutor = field(init=False)
    verifier: TokenVerifier = field(init=False)
    revocations: Revocations = field(init=False)  # posts ended, people locked (identity)
    revocation_feed: RevocationFeed | None = None
    nc: NATS | None = None
    js: JetStreamContext | None = None
    subjects: Subjects = field(default_factory=Subjects)
    relay: OutboxRelay | None = None
    runners: list[SubscriptionRunner] = field(default_factory=list)
    tasks: list[asyncio.Task[None]] = field(default_factory=list)
    checkpoint_key: Ed25519PrivateKey | None = None
    periodic: list[Periodic] = field(default_factory=list)
    periodic_tasks: list[asyncio.Task[None]] = field(default_factory=list)
    components: dict[str, Any] = field(default_factory=dict)  # what periodic work shares
    joining: asyncio.Task[None] | None = None  # connecting to the broker, then its work
    # the relay and each periodic work run on one replica at a time (shared/lease.py)
    leases: Leases | None = None

    async def start(self) -> None:
        s = self.settings
        longest = s.longest_token_minutes * 60.0
        self.revocations = Revocations(window_seconds=longest)
        if s.jwks_url or s.jwt_public_key_file:  # the identity service sets its own (app.py)
            self.verifier = TokenVerifier(
                issuer=s.jwt_issuer,
                audience=s.jwt_audience,
                jwks_url=s.jwks_url,
                public_key_pem=(
                    s.jwt_public_key_file.read_bytes()
                    if s.jwt_public_key_file and not s.jwks_url
                    else None
                ),
                revocations=self.revocations,
                longest_lifetime_seconds=longest,
            )
        await ensure_database(s.database_url, s.database)
        owner = await asyncpg.connect(s.service_dsn)  # for migrations and grants only
        try:
            await migrate(owner, ["shared.migrations", *self.definition.migrations])
            role = await grant_runtime_role(owner, s.database)
            password = await runtime_login(owner, s.database)
        finally:
            await owner.close()
        login = as_login(s.service_dsn, role, password)
        self.pool = await open_pool(login, role=None)
        self.leases = Leases(login)
        name = self.definition.name
        self.store = PostgresEventStore(self.pool, source=f"/gongkai/{name}", clock=self.clock)
        self.executor = CommandExecutor(
            self.pool,
            self.store,
            self.definition.registry,
            self.definition.read_models.apply,
            s.local_timezone,
            project_many=self.definition.read_models.apply_many,
        )
        await self.definition.read_models.ensure(self.pool)
        self.subjects = Subjects(s.nats_subject_root)
        if s.checkpoint_key_file is not None:
            key = load_pem_private_key(s.checkpoint_key_file.read_bytes(), password=None)
            assert isinstance(key, Ed25519PrivateKey), "checkpoint keys are Ed25519"
            self.checkpoint_key = key
            self.periodic.append(
                Periodic(
                    "checkpoints", s.checkpoint_interval_seconds, self._sign_checkpoint_if_moved
                )
            )
        self.periodic.extend(self.definition.periodic(self))
        for work in self.periodic:  # on the replica that holds its lease
            held = self.leases.run(f"periodic:{work.name}", partial(self._every, work))
            self.periodic_tasks.append(asyncio.create_task(held))
        # Commands and reads need PostgreSQL only: with the broker away the service serves
        # anyway (degraded: its events wait in the outbox, its consumers for the broker) and
        # joins the broker when it comes back.
        self.joining = asyncio.create_task(self._join_broker())
        await asyncio.wait({self.joining}, timeout=BROKER_WAIT_SECONDS)
        if not self.joining.done():
            log.warning("serving_without_broker", service=name, waiting=["relay", "consumers"])
        log.info("service_started", service=name, port=s.port)

    async def broker_joined(self) -> None:
        """Until the service has joined the broker: its relay and consumers made (at once
        when it has; a service started while the broker was away joins later)."""
        if self.joining is not None:
            await asyncio.shield(self.joining)

    async def _join_broker(self) -> None:
        """Connect to NATS (retrying until it answers), make sure of the stream, then start
        the relay and the consumers, which catch up from where they were."""
        s, name = self.settings, self.definition.name
        tls = tls_context(s.nats_tls_ca_file, s.nats_tls_cert_file, s.nats_tls_key_file)
        self.nc = await connect(s.nats_url, name=f"gongkai-{name}", tls=tls)
        self.js = self.nc.jetstream()
        while True:
            try:
                await ensure_stream(self.js, name, self.subjects, replicas=s.stream_replicas)
                break
            except Exception as error:  # the broker went away again: retry
                log.warning("stream_retrying", service=name, error=repr(error))
                await asyncio.sleep(1.0)
        # revocations first: a token whose post ended is refused as soon as we know of it
        self.revocation_feed = RevocationFeed(self.js, self.subjects, self.revocations)
        self._spawn(self.revocation_feed.run())
        if s.relay_enabled:
            self.relay = OutboxRelay(self.pool, self.js, service=name, subjects=self.subjects)
            self.executor.on_commit.append(self.relay.wake)
            self._spawn(self._leased("relay", self.relay.run))
        for subscription in self.definition.subscriptions(self):
            runner = SubscriptionRunner(
                self.pool,
                self.js,
                subscription,
                self.subjects,
                project=self.definition.read_models.apply,
            )
            self.runners.append(runner)
            # one replica pulls at a time: they take turns only when one dies (ordering)
            self._spawn(self._leased(f"consumer:{runner.durable}", runner.run))
        log.info("broker_joined", service=name)

    async def _leased(self, name: str, work: Callable[[], Awaitable[None]]) -> None:
        assert self.leases is not None
        await self.leases.run(name, work)

    def _spawn(self, coroutine: object) -> None:
        self.tasks.append(asyncio.create_task(coroutine))  # type: ignore[arg-type]

    async def _sign_checkpoint_if_moved(self) -> None:
        """A6: sign the head of the log, when it moved since the last checkpoint."""
        assert self.checkpoint_key is not None
        heads = [
            tuple(r)
            for r in await self.pool.fetch(
                "SELECT partition, sequence FROM partition_heads ORDER BY 1"
            )
        ]
        if heads and heads != self.components.get("signed_heads"):
            await sign_checkpoint(
                self.pool, self.checkpoint_key, service=self.definition.name, now=self.clock.now()
            )
            self.components["signed_heads"] = heads

    async def _every(self, work: Periodic) -> None:
        while True:
            try:
                await work.step()
            except Exception as error:  # keep running; the next pass retries
                log.warning("periodic_pass_failed", work=work.name, error=repr(error))
            await asyncio.sleep(work.interval)

    async def stop(self) -> None:
        if self.joining is not None and not self.joining.done():
            self.joining.cancel()  # still waiting for the broker
            await asyncio.wait([self.joining], timeout=CLOSE_SECONDS)
        for task in self.periodic_tasks:
            task.cancel()
        if self.periodic_tasks:  # bounded: work that swallows its cancellation cannot hold us
            await asyncio.wait(self.periodic_tasks, timeout=CLOSE_SECONDS)
        for work in self.periodic:
            if work.close is not None:
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(work.close(), timeout=CLOSE_SECONDS)
        if self.relay:
            self.relay.stop()
        if self.revocation_feed:
            self.revocation_feed.stop()
        for runner in self.runners:
            runner.stop()
        if self.tasks:
            await asyncio.wait(self.tasks, timeout=5)
        for task in self.tasks:
            task.cancel()
        # each step bounded: a process that must stop (a port it cannot bind, a supervisor's
        # SIGTERM) stops, even if the broker or a database connection no longer answers
        if self.nc and not self.nc.is_closed:
            # the relay waits for its acks and the runners have stopped fetching: close now
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self.nc.close(), timeout=CLOSE_SECONDS)
        if self.leases is not None:  # another replica takes them over
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self.leases.close(), timeout=CLOSE_SECONDS)
        try:
            await asyncio.wait_for(self.pool.close(), timeout=CLOSE_SECONDS)
        except (TimeoutError, asyncio.CancelledError):
            log.warning("pool_close_timed_out", service=self.settings.service)
            self.pool.terminate()

    async def readiness(self) -> dict[str, bool]:
        try:
            database = await self.pool.fetchval("SELECT 1") == 1
        except Exception:
            database = False
        return {"database": database, "nats": bool(self.nc and self.nc.is_connected)}

    async def readiness_report(self) -> tuple[bool, dict[str, Any]]:
        """Ready when it can serve reads and commands (its database answers); degraded while
        the broker is away: its relay and consumers wait for it, then catch up."""
        checks = await self.readiness()
        degraded = not checks["nats"]
        report: dict[str, Any] = {"ready": checks["database"], "degraded": degraded}
        report["checks"] = checks
        report["waiting"] = ["relay", "consumers"] if degraded else []
        # what this replica runs for all of them (the others wait to take it over)
        report["leases"] = sorted(self.leases.held) if self.leases is not None else []
        return checks["database"], report


def create_app(
    definition: ServiceDefinition, settings: ServiceSettings, *, clock: Clock | None = None
) -> FastAPI:
    configure_logging(json=settings.log_json)
    runtime = Runtime(definition, settings, clock or SystemClock())

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await runtime.start()
        if getattr(app.state, "freeze_after_start", False):
            # What was built to serve (modules, routes, schemas, pools: about 120,000
            # objects) is never scanned by the cycle collector again: a full collection of
            # it stalled every request in flight for 50-120 ms (4 in 6,000 requests, seen
            # as the HTTP p99). Later garbage is collected as before.
            gc.collect()
            gc.freeze()
        try:
            yield
        finally:
            await runtime.stop()

    app = FastAPI(
        title=definition.title,
        description=definition.description,
        version="1.0.0",
        lifespan=lifespan,
    )
    app.state.runtime = runtime
    install_error_handlers(app)
    public_limit = (
        TokenBuckets(settings.public_requests_per_second, settings.public_burst)
        if settings.public_requests_per_second > 0
        else None
    )
    app.add_middleware(
        RequestContextMiddleware,
        service=definition.name,
        max_body_bytes=settings.max_body_bytes,
        max_upload_bytes=settings.max_upload_bytes,
        max_json_depth=settings.max_json_depth,
        public_limit=public_limit,
    )
    app.include_router(ops_router())
    app.include_router(audit_router)
    for router in definition.routers:
        app.include_router(router)
    return app


def settings_for(definition: ServiceDefinition) -> ServiceSettings:
    """The `GONGKAI_*` settings of one service process, on its own default port unless
    `GONGKAI_PORT` says otherwise."""
    settings = ServiceSettings(service=definition.name)
    if "port" not in settings.model_fields_set:
        settings = settings.model_copy(update={"port": definition.default_port})
    return settings


def serve(definition: ServiceDefinition) -> None:
    """Run one service in the foreground (`python -m services.<name>.app`)."""
    import uvicorn

    settings = settings_for(definition)
    app = create_app(definition, settings)
    app.state.freeze_after_start = True  # a serving process, not a test's app
    uvicorn.run(
        app,
        host=settings.host,
        port=settings.port,
        log_level="warning",
        access_log=False,  # its lines hold the path and query as sent: shared/http.py logs
        # the client address (rate limits, logs) comes from X-Forwarded-For only when a
        # trusted proxy sent it; otherwise a county's whole public would share one bucket
        proxy_headers=True,
        forwarded_allow_ips=settings.trusted_proxies,
    )
