"""The evaluation service's ports in memory: `queries.Reads` over the directory copy
(tests/support/memory.py's `DirectoryCopy`) and over the rounds and checks kept from the
service's own events as its projections keep them; `queries.Keys` as a dict of keys; and the
selection's `queries.Inputs` as the inputs a test gives each candidate."""

from __future__ import annotations

import base64
import json
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from services.evaluation import queries
from services.evaluation.events import REGISTRY
from services.evaluation.selection import queries as selection_queries
from services.evaluation.selection.events import Formula, Input
from services.evaluation.voting import queries as voting_queries
from shared.auth import Principal, Role
from shared.envelope import EventEnvelope
from shared.errors import InvalidInput, NotFound
from tests.support.memory import DirectoryCopy, Memory


@dataclass
class Window:
    """A round or a check as `rounds` and `checks` keep what `due` reads."""

    township_id: str
    closes_on: date
    status: str = "open"


@dataclass
class MemoryReads:
    directory: DirectoryCopy = field(default_factory=DirectoryCopy)
    rounds: dict[str, Window] = field(default_factory=dict)
    checks: dict[str, Window] = field(default_factory=dict)
    # (round or check id, rater id, member id) as round_raters and check_raters keep them
    round_raters: list[tuple[str, str, str | None]] = field(default_factory=list)
    check_raters: list[tuple[str, str, str | None]] = field(default_factory=list)

    async def township(self, township_id: str) -> Mapping[str, Any]:
        t = self.directory.townships.get(township_id)
        if t is None:
            raise NotFound("没有找到该乡镇（本服务的名册副本中还没有）：如刚刚新建，请稍后再试。")
        return vars(t).copy()

    async def branch(self, branch_id: str) -> Mapping[str, Any]:
        b = self.directory.branches.get(branch_id)
        if b is None or not b.active:
            raise NotFound("没有找到该支部（本服务的名册副本中还没有）：如刚刚新建，请稍后再试。")
        return vars(b).copy()

    async def branches_of(self, township_id: str) -> list[Mapping[str, Any]]:
        found = self.directory.branches.values()
        return [
            vars(b).copy()
            for b in sorted(found, key=lambda b: b.branch_id)
            if b.township_id == township_id and b.active
        ]

    async def members_of(self, branch_id: str) -> list[Mapping[str, Any]]:
        found = self.directory.members.values()
        return [
            vars(m).copy()
            for m in sorted(found, key=lambda m: m.member_id)
            if m.branch_id == branch_id and m.active
        ]

    async def member_in(self, member_id: str, township_id: str, where: str) -> Mapping[str, Any]:
        m = self.directory.members.get(member_id)
        if m is None or not m.active or m.township_id != township_id:
            raise InvalidInput(
                f"{member_id} 不是本乡镇的在册党员：请从本乡镇的党员中选择。", field=where
            )
        return vars(m).copy()

    async def home_township(self, who: Principal) -> str | None:
        if who.role is Role.MEMBER:
            m = self.directory.members.get(who.subject)
            return m.township_id if m is not None and m.active else None
        if who.role is Role.BRANCH_SECRETARY and who.org is not None:
            b = self.directory.branches.get(who.org)
            return b.township_id if b is not None and b.active else None
        return None

    async def due(self, township_id: str, table: str, today: date) -> list[str]:
        windows = {"rounds": self.rounds, "checks": self.checks}[table]
        return sorted(
            key
            for key, w in windows.items()
            if w.township_id == township_id and w.status == "open" and w.closes_on < today
        )

    async def public_person_township(self, person_id: str) -> str | None:
        for raters, windows in ((self.round_raters, self.rounds), (self.check_raters, self.checks)):
            for scope_id, rater_id, member_id in raters:
                if rater_id == person_id and member_id is None:
                    return windows[scope_id].township_id
        return None

    async def project(self, conn: Any, envelope: EventEnvelope) -> None:
        """An event of this service, as its projections change what the reads above read."""
        d = envelope.data
        match envelope.type:
            case "RoundOpened":
                self.rounds[d["round_id"]] = Window(d["township_id"], _day(d["closes_on"]))
            case "RoundClosed":
                self.rounds[d["round_id"]].status = "closed"
            case "SatisfactionCheckOpened":
                self.checks[d["check_id"]] = Window(d["township_id"], _day(d["closes_on"]))
            case "SatisfactionVerdictReached":
                self.checks[d["check_id"]].status = "closed"
            case "SatisfactionCheckLapsed":
                self.checks[d["check_id"]].status = "lapsed"
            case "SatisfactionCheckExtended":
                self.checks[d["check_id"]].status = "open"
                self.checks[d["check_id"]].closes_on = _day(d["closes_on"])
            case "RaterRegistered":
                self.round_raters.append((d["round_id"], d["rater_id"], d.get("member_id")))
            case "CheckRaterRegistered":
                self.check_raters.append((d["check_id"], d["rater_id"], d.get("member_id")))


@dataclass
class MemoryKeys:
    """person_keys in memory: made on first use, sealed as shared/personal.py seals."""

    keys: dict[str, bytes] = field(default_factory=dict)
    erased: list[str] = field(default_factory=list)

    async def seal(self, person_id: str, fields: dict[str, str]) -> dict[str, str]:
        key = self.keys.setdefault(person_id, AESGCM.generate_key(bit_length=256))
        nonce = secrets.token_bytes(12)
        plain = json.dumps(fields, ensure_ascii=False, sort_keys=True).encode()
        sealed = AESGCM(key).encrypt(nonce, plain, person_id.encode())
        return {"person": person_id, "sealed": base64.b64encode(nonce + sealed).decode()}

    async def erase(self, person_id: str) -> None:
        self.keys.pop(person_id, None)
        self.erased.append(person_id)

    def open(self, envelope: Mapping[str, Any]) -> dict[str, str] | None:
        key = self.keys.get(envelope["person"])
        if key is None:
            return None
        raw = base64.b64decode(envelope["sealed"])
        opened: dict[str, str] = json.loads(
            AESGCM(key).decrypt(raw[:12], raw[12:], envelope["person"].encode())
        )
        return opened


@dataclass
class MemoryInputs:
    """Each candidate's inputs as the test sets them (the selection's own unit tests hold the
    formula; the e2e tests the reads)."""

    given: dict[str, tuple[Input, ...]] = field(default_factory=dict)
    asked: list[tuple[str, int]] = field(default_factory=list)
    counties: dict[str, list[str]] = field(default_factory=dict)  # county: its townships
    # (county, year, kind): subject id -> township_id, subject_name, branch_id
    winners: dict[tuple[str, int, str], dict[str, dict[str, str]]] = field(default_factory=dict)

    async def inputs_for(self, subject_id: str, year: int, formula: Formula) -> tuple[Input, ...]:
        self.asked.append((subject_id, year))
        return self.given.get(subject_id, ())

    async def county_townships(self, county_id: str) -> list[str]:
        return self.counties.get(county_id, [])

    async def township_winners(
        self, county_id: str, year: int, kind: str
    ) -> dict[str, Mapping[str, Any]]:
        return dict(self.winners.get((county_id, year, kind), {}))


@dataclass
class MemoryVoting:
    """Voting's tables beside the log in memory (voting/queries.py): invitations by code hash,
    the urn as a list, failed attempts; and what the page shows of each round or check, kept
    from the events as the read models keep it."""

    invitations: dict[str, dict[str, Any]] = field(default_factory=dict)
    urn: list[tuple[str, str, dict[str, str]]] = field(default_factory=list)
    attempts: dict[str, tuple[int, datetime]] = field(default_factory=dict)
    views: dict[str, dict[str, Any]] = field(default_factory=dict)
    raters_of: dict[str, list[dict[str, Any]]] = field(default_factory=dict)

    async def lock(self, scope_id: str) -> None:
        """One command at a time in memory: nothing to wait for."""

    async def invitation(self, code_hash: str) -> dict[str, Any] | None:
        found = self.invitations.get(code_hash)
        return None if found is None else dict(found)

    async def add_invitation(
        self, code_hash: str, scope: str, scope_id: str, rater_id: str
    ) -> None:
        assert code_hash not in self.invitations
        self.invitations[code_hash] = {
            "scope": scope,
            "scope_id": scope_id,
            "rater_id": rater_id,
            "state": "live",
        }

    async def replace_invitations(self, scope_id: str, rater_id: str) -> None:
        for row in self.invitations.values():
            if (row["scope_id"], row["rater_id"], row["state"]) == (scope_id, rater_id, "live"):
                row["state"] = "replaced"

    async def expire_invitations(self, scope_id: str) -> None:
        for row in self.invitations.values():
            if row["scope_id"] == scope_id:
                row["state"] = "expired"

    async def put_in_urn(self, scope: str, scope_id: str, grades: dict[str, str]) -> None:
        self.urn.append((scope, scope_id, dict(grades)))

    async def urn_size(self, scope_id: str) -> int:
        return sum(1 for _, s, _ in self.urn if s == scope_id)

    async def take_from_urn(self, scope_id: str) -> list[dict[str, str]]:
        taken = [g for _, s, g in self.urn if s == scope_id]
        self.urn = [row for row in self.urn if row[1] != scope_id]
        return taken

    async def blocked_until(self, key: str) -> datetime | None:
        found = self.attempts.get(key)
        return None if found is None else found[1]

    async def failures(self, key: str) -> int:
        return self.attempts.get(key, (0, None))[0]  # type: ignore[return-value]

    async def record_failure(self, key: str, now: datetime, blocked_until: datetime) -> None:
        self.attempts[key] = (self.attempts.get(key, (0, now))[0] + 1, blocked_until)

    async def raters(self, scope: str, scope_id: str) -> list[dict[str, Any]]:
        return [dict(r) for r in self.raters_of.get(scope_id, [])]

    async def scope_view(self, scope: str, scope_id: str) -> dict[str, Any]:
        return json.loads(json.dumps(self.views[scope_id], default=str))

    async def project(self, conn: Any, envelope: EventEnvelope) -> None:
        d = envelope.data
        match envelope.type:
            case "RoundOpened" | "SatisfactionCheckOpened":
                scope_id = d.get("round_id") or d["check_id"]
                subjects = [
                    {
                        "subject_id": s["subject_id"],
                        "name": s["subject_name"],
                        "post": "",
                        "detail": "",
                    }
                    for s in d.get("subjects", [])
                ] or [{"subject_id": "item", "name": d["title"], "post": "", "detail": ""}]
                self.views[scope_id] = {
                    "scope": "round" if "round_id" in d else "check",
                    "scope_id": scope_id,
                    "title": d["title"],
                    "township": d["township_id"],
                    "status": "open",
                    "closes_on": d["closes_on"],
                    "grades": [
                        {"grade": g["grade"], "label": g["label"]} for g in d["scale"]["grades"]
                    ],
                    "subjects": subjects,
                }
            case "RaterRegistered" | "CheckRaterRegistered":
                scope_id = d.get("round_id") or d["check_id"]
                self.raters_of.setdefault(scope_id, []).append(
                    {
                        "rater_id": d["rater_id"],
                        "member_id": d.get("member_id"),
                        "name": None,
                        "phone": None,
                    }
                )


@dataclass
class EvaluationPorts:
    reads: MemoryReads = field(default_factory=MemoryReads)
    keys: MemoryKeys = field(default_factory=MemoryKeys)
    inputs: MemoryInputs = field(default_factory=MemoryInputs)
    voting: MemoryVoting = field(default_factory=MemoryVoting)

    async def project(self, conn: Any, envelope: EventEnvelope) -> None:
        await self.reads.project(conn, envelope)
        await self.voting.project(conn, envelope)

    @property
    def directory(self) -> DirectoryCopy:
        return self.reads.directory


def evaluation_memory(ports: EvaluationPorts | None = None) -> tuple[Memory, EvaluationPorts]:
    ports = ports or EvaluationPorts()
    memory = Memory(
        "evaluation",
        REGISTRY,
        {
            queries.reads: ports.reads,
            queries.keys: ports.keys,
            selection_queries.inputs: ports.inputs,
            voting_queries.voting: ports.voting,
        },
        project=ports.project,
    )
    return memory, ports


def _day(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(value)
