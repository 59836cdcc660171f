"""NATS JetStream: connections, one stream per service, and the subject scheme.

Subjects: `<root>.<service>.<partition>.<aggregate>.<EventType>`, root `gongkai` by default,
e.g. `gongkai.pledge.t-1a2b3c4d.pledge.PledgeProposed`. A subscriber filters by any token:
`gongkai.pledge.*.*.PledgePublished`, `gongkai.pledge.t-1a2b3c4d.>`. Stream ids are
`<aggregate>-<id>`, so the aggregate token is the part before the first dash. The stream of
service `pledge` is `GONGKAI_PLEDGE`. Another root lets several installations (or test runs)
share one NATS server.
"""

from __future__ import annotations

import ssl
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import nats
from nats.aio.client import Client as NATS
from nats.js import JetStreamContext
from nats.js.api import StorageType, StreamConfig
from nats.js.errors import NotFoundError

from shared.envelope import EventEnvelope

DUPLICATE_WINDOW_SECONDS = 3600.0  # broker-side de-duplication by Nats-Msg-Id


def aggregate_of(stream_id: str) -> str:
    return stream_id.split("-", 1)[0]


@dataclass(frozen=True)
class Subjects:
    root: str = "gongkai"

    def stream(self, service: str) -> str:
        return f"{self.root.upper()}_{service.upper()}"

    def of(self, service: str, envelope: EventEnvelope) -> str:
        aggregate = aggregate_of(envelope.streamid)
        return f"{self.root}.{service}.{envelope.partition}.{aggregate}.{envelope.type}"

    def matching(
        self, service: str, *, partition: str = "*", aggregate: str = "*", event_type: str = "*"
    ) -> str:
        return f"{self.root}.{service}.{partition}.{aggregate}.{event_type}"

    def all(self, service: str) -> str:
        return f"{self.root}.{service}.>"


SERVICES_INBOX = "_INBOX_gongkai"  # the services' user's reply subjects (nats-accounts.conf)


def inbox_prefix(name: str) -> str:
    """Where a client named `name` receives what it fetches and the API's answers: under the
    services' own prefix, which no subscribing system may listen to (the client library's
    default, `_INBOX.`, is everyone's: a listener there heard every ballot fetched)."""
    token = "".join(c if c.isalnum() or c in "-_" else "-" for c in name)
    return f"{SERVICES_INBOX}.{token}"


def tls_context(
    ca_file: Path | None, cert_file: Path | None = None, key_file: Path | None = None
) -> ssl.SSLContext | None:
    """TLS to the brokers that verifies them by the county's own CA (None: the client's
    default, the system's CAs for `tls://` URLs); with a client certificate where asked."""
    if ca_file is None and cert_file is None:
        return None
    context = ssl.create_default_context(cafile=str(ca_file) if ca_file else None)
    if cert_file is not None:
        context.load_cert_chain(str(cert_file), str(key_file) if key_file else None)
    return context


async def connect(url: str, *, name: str, tls: ssl.SSLContext | None = None) -> NATS:
    """`url` may list several servers of a cluster, comma-separated: any one of them will do."""
    options: dict[str, Any] = {"tls": tls} if tls else {}
    return await nats.connect(
        [server.strip() for server in url.split(",")],
        name=name,
        inbox_prefix=inbox_prefix(name),
        **options,
        max_reconnect_attempts=-1,
        reconnect_time_wait=0.5,
        connect_timeout=5,
        allow_reconnect=True,
    )


async def ensure_stream(
    js: JetStreamContext, service: str, subjects: Subjects, *, replicas: int = 1
) -> None:
    """The service's stream: file storage, kept forever, de-duplicated by event id."""
    name = subjects.stream(service)
    config = StreamConfig(
        name=name,
        subjects=[subjects.all(service)],
        storage=StorageType.FILE,
        max_age=0,
        duplicate_window=DUPLICATE_WINDOW_SECONDS,
        num_replicas=replicas,
    )
    try:
        await js.stream_info(name)
    except NotFoundError:
        await js.add_stream(config)
    else:
        await js.update_stream(config)
