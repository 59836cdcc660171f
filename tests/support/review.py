"""The review service's read port (`queries.Copies`) in memory: the directory copy, the
pledge status copy and the committees' seats, kept from the pledge and identity services'
events as its projections keep them."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from services.review import contracts as k
from services.review import queries
from services.review.aggregates import Subject
from services.review.events import REGISTRY, PledgeLedgerStatus, SubjectKind
from shared.envelope import EventEnvelope
from tests.support.memory import DirectoryCopy, Memory


@dataclass
class CopiedPledge:
    pledge_id: str
    year: int
    branch_id: str
    member_id: str | None
    status: str = "drafting"
    items: dict[str, str | None] = field(default_factory=dict)  # item id: ledger status


@dataclass
class MemoryCopies:
    directory: DirectoryCopy = field(default_factory=DirectoryCopy)
    pledges: dict[str, CopiedPledge] = field(default_factory=dict)
    leaders: dict[str, set[str]] = field(default_factory=dict)  # branch id: leader ids (R1)
    seats: set[tuple[str, str]] = field(default_factory=set)  # (township, person) (R1)

    async def find_subject(self, kind: SubjectKind, subject_id: str) -> Subject | None:
        d = self.directory
        if kind is SubjectKind.MEMBER:
            m = d.members.get(subject_id)
            b = None if m is None else d.branches.get(m.branch_id)
            if m is None or b is None:
                return None
            t = d.townships.get(m.township_id)
            return Subject(
                kind=kind,
                subject_id=m.member_id,
                name=m.name,
                branch_id=m.branch_id,
                township_id=m.township_id,
                county_id=b.county_id,
                active=m.active,
                leadership_team=m.leadership_team,
                secretary_id=b.secretary_id,
                head_id=None if t is None else t.head_id,
                leaders=frozenset(self.leaders.get(m.branch_id, ())),
            )
        b = d.branches.get(subject_id)
        if b is None:
            return None
        t = d.townships.get(b.township_id)
        return Subject(
            kind=kind,
            subject_id=b.branch_id,
            name=b.name,
            branch_id=b.branch_id,
            township_id=b.township_id,
            county_id=b.county_id,
            active=b.active,
            secretary_id=b.secretary_id,
            head_id=None if t is None else t.head_id,
            leaders=frozenset(self.leaders.get(b.branch_id, ())),
        )

    async def project(self, conn: Any, envelope: EventEnvelope) -> None:
        """The service's own events, as services/review/projections/leaders.py keeps them."""
        d = envelope.data
        if envelope.type == "LeaderAssigned":
            self.leaders.setdefault(d["branch_id"], set()).add(d["leader_id"])
        elif envelope.type == "LeaderUnassigned":
            self.leaders.get(d["branch_id"], set()).discard(d["leader_id"])

    async def on_committee(self, person_id: str, township_id: str) -> bool:
        return (township_id, person_id) in self.seats

    async def pledge_status(self, subject: Subject, year: int) -> PledgeLedgerStatus:
        member_id = subject.subject_id if subject.kind is SubjectKind.MEMBER else None
        for p in self.pledges.values():
            if p.year != year or p.member_id != member_id:
                continue
            if member_id is None and p.branch_id != subject.branch_id:
                continue
            states = list(p.items.values())
            return PledgeLedgerStatus(
                year=year,
                pledge_id=p.pledge_id,
                status=p.status,
                items_total=len(states),
                items_open=states.count("open"),
                items_closed=states.count("closed"),
            )
        return queries.no_pledge(year)

    def apply(self, event_type: str, data: dict[str, Any]) -> None:
        """A pledge or identity service event, as services/review/projections/pledges.py and
        seats.py apply it."""
        e = k.CONSUMED[event_type].model_validate(data)
        match e:
            case k.PostStarted() if e.role == "township_committee":
                self.seats.add((e.org, e.person_id))
            case k.PostEnded() if e.role == "township_committee":
                self.seats.discard((e.org, e.person_id))
            case k.PledgeDrafted():
                self.pledges.setdefault(
                    e.pledge_id, CopiedPledge(e.pledge_id, e.year, e.branch_id, e.member_id)
                )
            case k.PledgeProposed():  # and PledgeResubmitted
                pledge = self.pledges[e.pledge_id]
                for item in e.items:
                    pledge.items.setdefault(item.item_id, None)
                pledge.status = "under_review"
            case k.PledgeReturned():
                self.pledges[e.pledge_id].status = "returned"
            case k.PledgeApproved():
                self.pledges[e.pledge_id].status = "approved"
            case k.PledgePublished():
                pledge = self.pledges[e.pledge_id]
                pledge.status = "published"
                for item_id in e.item_ids:
                    if item_id in pledge.items:
                        pledge.items[item_id] = "open"
            case k.ItemClosed():
                for pledge in self.pledges.values():
                    if e.item_id in pledge.items:
                        pledge.items[e.item_id] = "closed"


def review_memory(copies: MemoryCopies | None = None) -> tuple[Memory, MemoryCopies]:
    copies = copies or MemoryCopies()
    memory = Memory("review", REGISTRY, {queries.copies: copies}, project=copies.project)
    return memory, copies
