"""The identity service's ports in memory: `queries.Reads` (where an org sits, from the
directory copy; who holds a post, from the identity events the memory store holds, as the
`posts` read model keeps them) and the credential table (`store.Credentials`). With them the
handlers and the directory policy run with no server."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from services.identity import queries
from services.identity.access import Place
from services.identity.events import REGISTRY
from services.identity.handlers import Secrets
from services.identity.oidc import store
from services.identity.oidc.passwords import Hasher
from services.identity.oidc.store import Credential
from services.identity.policies import on_directory
from shared.envelope import EventEnvelope
from tests.support.memory import DirectoryCopy, Memory


@dataclass
class MemoryReads:
    memory: Memory
    directory: DirectoryCopy = field(default_factory=DirectoryCopy)

    async def place(self, org: str) -> Place | None:
        d = self.directory
        if org in d.townships:
            return Place(d.townships[org].county_id, org)
        if org in d.branches:
            b = d.branches[org]
            return Place(b.county_id, b.township_id)
        if org in d.members:
            m = d.members[org]
            return Place(d.branches[m.branch_id].county_id, m.township_id)
        if any(t.county_id == org for t in d.townships.values()):
            return Place(org)
        return None

    def current(self) -> set[tuple[str, str, str]]:
        """(person, role, org) of every post held now, replayed from the log."""
        held: set[tuple[str, str, str]] = set()
        for e in self.memory.events:
            key = (e.data.get("person_id"), e.data.get("role"), e.data.get("org"))
            if e.type == "PostStarted":
                held.add(key)  # type: ignore[arg-type]
            elif e.type == "PostEnded":
                held.discard(key)  # type: ignore[arg-type]
        return held

    async def holders(self, role: str, org: str) -> list[str]:
        return sorted(p for p, r, o in self.current() if (r, o) == (role, org))

    async def posts_at(self, org: str) -> list[tuple[str, str]]:
        return sorted((p, r) for p, r, o in self.current() if o == org)

    async def townships_of(self, person_id: str) -> set[str]:
        places = [await self.place(o) for p, _, o in self.current() if p == person_id]
        return {p.township_id for p in places if p is not None and p.township_id}

    async def roles_of(self, person_id: str) -> set[str]:
        return {r for p, r, _ in self.current() if p == person_id}


@dataclass
class MemoryCredentials:
    rows: dict[str, Credential] = field(default_factory=dict)
    failures: list[tuple[str, datetime]] = field(default_factory=list)

    async def pepper(self) -> bytes:
        return b"k" * 32

    async def by_login(self, login_hash: str) -> Credential | None:
        return next((c for c in self.rows.values() if c.login_hash == login_hash), None)

    async def of(self, person_id: str) -> Credential | None:
        return self.rows.get(person_id)

    async def save(self, credential: Credential) -> None:
        self.rows[credential.person_id] = credential

    async def address_failures(self, address: str, since: datetime) -> int:
        return sum(1 for a, at in self.failures if a == address and at >= since)

    async def address_failed(self, address: str, at: datetime) -> None:
        self.failures.append((address, at))


@dataclass
class IdentityWorld:
    memory: Memory
    reads: MemoryReads
    credentials: MemoryCredentials
    secrets: Secrets

    async def directory(self, event_type: str, **data: Any) -> None:
        """A directory event of the pledge service: into the copy, then to the policy, as
        the subscription runner hands it (projection first)."""
        self.reads.directory.apply(event_type, data)
        envelope = EventEnvelope(
            id=str(uuid.uuid4()),
            source="/gongkai/pledge",
            type=event_type,
            subject="x",
            time=self.memory.clock.now(),
            streamid="x",
            streamversion=1,
            partition="c1",
            sequence=1,
            schemaversion=1,
            actor="office",
            actorrole="township_office",
            correlationid=str(uuid.uuid4()),
            prevhash="",
            hash="",
            data=data,
        )
        await on_directory(self.memory)(None, envelope)  # type: ignore[arg-type]


def identity_world() -> IdentityWorld:
    memory = Memory("identity", REGISTRY)
    reads = MemoryReads(memory)
    credentials = MemoryCredentials()
    memory.ports = {queries.reads: reads, store.credentials: credentials}
    return IdentityWorld(memory, reads, credentials, Secrets(Hasher("cheapest")))
