"""Handlers and policies without servers: an in-memory event store behind the real
`UnitOfWork`, the read ports handed in by the factories the handlers ask for, and a copy of
the directory kept from the pledge service's directory events as shared/directory.py keeps
it in PostgreSQL (the same events, the same effects, D2/D3).

`Memory` stands where the service's `CommandExecutor` stands: `unit()` for a handler called
directly, `execute()` for one run as the API runs it (all or nothing), and `unit(conn,
context)` for a policy, which the subscription runner hands a connection it never uses here.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, tzinfo
from typing import Any

from pydantic import BaseModel

from shared.auth import Principal
from shared.clock import FixedClock
from shared.envelope import EventEnvelope
from shared.events import EventRegistry
from shared.eventstore import CommandContext, InMemoryEventStore
from shared.files import PDF, StoredFile
from shared.unit_of_work import UnitOfWork


async def no_projection(conn: Any, envelope: EventEnvelope) -> None:
    return None


class Memory:
    def __init__(
        self,
        service: str,
        registry: EventRegistry,
        ports: dict[Callable[..., Any], Any] | None = None,
        *,
        now: datetime = datetime(2027, 6, 15, 9, 0, tzinfo=UTC),
        local_timezone: tzinfo = UTC,
        project: Callable[[Any, EventEnvelope], Awaitable[None]] = no_projection,
    ) -> None:
        self.clock = FixedClock(now)
        self.store = InMemoryEventStore(f"/gongkai/{service}", self.clock)
        self.registry = registry
        self.ports = ports or {}
        self.local_timezone = local_timezone
        self.project = project

    def unit(self, conn: Any = None, context: CommandContext | None = None) -> UnitOfWork:
        return UnitOfWork(
            None,
            self.store,
            self.registry,
            self.project,
            context or CommandContext(actor="test", role="test"),
            self.local_timezone,
            ports=dict(self.ports),
        )

    def as_(self, who: Principal) -> UnitOfWork:
        """A unit of work for a command `who` gives."""
        return self.unit(context=CommandContext(actor=who.subject, role=who.role.value))

    async def execute(
        self, work: Callable[[UnitOfWork], Awaitable[Any]], *, context: CommandContext, **_: Any
    ) -> Any:
        """As `CommandExecutor.execute`: the work's events are kept only if it succeeds."""
        mark, heads = len(self.store.log), dict(self.store._heads)
        try:
            result = await work(self.unit(context=context))
        except BaseException:
            del self.store.log[mark:]
            self.store._heads = heads
            raise
        return result.model_dump(mode="json") if isinstance(result, BaseModel) else result

    @property
    def events(self) -> list[EventEnvelope]:
        return list(self.store.log)

    def types(self, after: int = 0) -> list[str]:
        return [e.type for e in self.store.log[after:]]


# --- the directory copy (shared/directory.py), in memory -------------------------------


@dataclass
class CopiedTownship:
    township_id: str
    county_id: str
    name: str
    head_id: str | None = None
    head_name: str | None = None


@dataclass
class CopiedBranch:
    branch_id: str
    township_id: str
    county_id: str
    name: str
    kind: str
    secretary_id: str | None = None
    active: bool = True


@dataclass
class CopiedMember:
    member_id: str
    branch_id: str
    township_id: str
    name: str
    post: str
    leadership_team: bool
    active: bool = True


@dataclass
class DirectoryCopy:
    """dir_townships, dir_branches and dir_members, changed by the same directory events
    as `project_directory` changes them."""

    townships: dict[str, CopiedTownship] = field(default_factory=dict)
    branches: dict[str, CopiedBranch] = field(default_factory=dict)
    members: dict[str, CopiedMember] = field(default_factory=dict)

    def apply(self, event_type: str, d: dict[str, Any]) -> None:
        match event_type:
            case "TownshipEstablished":
                self.townships.setdefault(
                    d["township_id"], CopiedTownship(d["township_id"], d["county_id"], d["name"])
                )
            case "TownshipHeadAppointed":
                t = self.townships[d["township_id"]]
                t.head_id, t.head_name = d["person_id"], d["name"]
            case "BranchEstablished":
                self.branches.setdefault(
                    d["branch_id"],
                    CopiedBranch(
                        d["branch_id"], d["township_id"], d["county_id"], d["name"], d["kind"]
                    ),
                )
            case "BranchSecretaryAppointed":
                self.branches[d["branch_id"]].secretary_id = d["member_id"]
            case "BranchMoved":
                self.branches[d["branch_id"]].township_id = d["to_township_id"]
                for m in self.members.values():
                    if m.branch_id == d["branch_id"]:
                        m.township_id = d["to_township_id"]
            case "BranchRetired":
                self.branches[d["branch_id"]].active = False
            case "MemberEnrolled":
                self.members.setdefault(
                    d["member_id"],
                    CopiedMember(
                        d["member_id"],
                        d["branch_id"],
                        d["township_id"],
                        d["name"],
                        d["post"],
                        d["leadership_team"],
                    ),
                )
            case "MemberPostAssigned":
                m = self.members[d["member_id"]]
                m.post, m.leadership_team = d["post"], d["leadership_team"]
            case "MemberTransferred":
                m = self.members[d["member_id"]]
                m.branch_id, m.township_id = d["to_branch_id"], d["to_township_id"]
                source = self.branches.get(d["from_branch_id"])
                if source is not None and source.secretary_id == d["member_id"]:
                    source.secretary_id = None
            case "MemberRetired":
                self.members[d["member_id"]].active = False
                for b in self.branches.values():
                    if b.secretary_id == d["member_id"]:
                        b.secretary_id = None
            case _:
                raise ValueError(f"{event_type} is not a directory event")

    # building a directory in a test, event by event, as the pledge service publishes it

    def township(self, township_id: str, county_id: str = "c1", head: str | None = None) -> None:
        self.apply(
            "TownshipEstablished",
            {"township_id": township_id, "county_id": county_id, "name": f"{township_id}镇"},
        )
        if head is not None:
            self.apply(
                "TownshipHeadAppointed",
                {"township_id": township_id, "person_id": head, "name": f"{head}镇长"},
            )

    def branch(self, branch_id: str, township_id: str, kind: str = "village") -> None:
        county_id = self.townships[township_id].county_id
        self.apply(
            "BranchEstablished",
            {
                "branch_id": branch_id,
                "township_id": township_id,
                "county_id": county_id,
                "name": f"{branch_id}支部",
                "kind": kind,
            },
        )

    def member(self, member_id: str, branch_id: str, *, leadership_team: bool = False) -> None:
        self.apply(
            "MemberEnrolled",
            {
                "member_id": member_id,
                "branch_id": branch_id,
                "township_id": self.branches[branch_id].township_id,
                "name": f"{member_id}同志",
                "post": "委员" if leadership_team else "党员",
                "leadership_team": leadership_team,
            },
        )

    def secretary(self, branch_id: str, member_id: str) -> None:
        self.apply("BranchSecretaryAppointed", {"branch_id": branch_id, "member_id": member_id})


class Uploaded:
    """The files port (shared.files.FileCatalog) in memory: (sha256, uploader) pairs, each a
    10-byte PDF."""

    def __init__(self, *files: tuple[str, str]) -> None:
        self.files = set(files)

    async def uploaded(self, sha256: str, by: str) -> StoredFile | None:
        return StoredFile(sha256, 10, PDF, False) if (sha256, by) in self.files else None
