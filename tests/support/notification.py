"""The notification service's port (`queries.Records`) in memory: its copies of the directory,
the counties and the owners' calendars, its own channels and notices, the releases, and the
channel secrets kept beside the log, changed by the same events as its projections change
the read models (services/notification/projections/).

A branch's activity in a bulletin (pledges, reviews, journals, visits, items) is counted
by the board projections from many services' events; here it is set by the test
(`activity`), and the rest of the bulletin's line comes from the directory copy."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from services.notification import contracts as k
from services.notification import queries
from services.notification.aggregates import branch_record
from services.notification.events import REGISTRY, BranchRecord, CadreGuidance
from services.notification.queries import branch_work
from shared.directory import DIRECTORY_EVENTS
from shared.envelope import EventEnvelope
from tests.support.memory import DirectoryCopy, Memory


@dataclass
class CopiedChannel:
    channel_id: str
    county_id: str
    township_id: str | None
    release_types: tuple[str, ...]
    active: bool = True
    kind: str = "webhook"


@dataclass
class Activity:
    """A branch's counts as the board read models hold them."""

    pledges: int = 0
    reviews: int = 0
    journals: int = 0
    visits: int = 0
    open_items: int = 0
    overdue_items: int = 0


@dataclass
class MemoryRecords:
    directory: DirectoryCopy = field(default_factory=DirectoryCopy)
    counties: set[str] = field(default_factory=set)
    drafting: dict[tuple[str, int], date] = field(default_factory=dict)
    publication: dict[tuple[str, int], date] = field(default_factory=dict)
    rounds: dict[tuple[str, int], tuple[date, date]] = field(default_factory=dict)
    notices: dict[str, queries.NoticeRef] = field(default_factory=dict)
    channels: dict[str, CopiedChannel] = field(default_factory=dict)
    releases: dict[str, queries.Release] = field(default_factory=dict)
    activity: dict[str, Activity] = field(default_factory=dict)  # by branch
    secrets: dict[str, tuple[str, str | None]] = field(default_factory=dict)  # channel_secrets
    phones: dict[str, dict[str, Any]] = field(default_factory=dict)  # contacts, sealed
    keys: dict[str, str] = field(default_factory=dict)  # person_keys (a stand-in "key")

    # --- the port --------------------------------------------------------------------

    async def county_of_township(self, township_id: str) -> str | None:
        township = self.directory.townships.get(township_id)
        return None if township is None else township.county_id

    async def county_exists(self, county_id: str) -> bool:
        return county_id in self.counties

    async def owners_calendars(
        self, county_id: str, year: int
    ) -> tuple[date | None, tuple[date, date] | None, date | None]:
        key = (county_id, year)
        return self.drafting.get(key), self.rounds.get(key), self.publication.get(key)

    async def notice(self, notice_id: str) -> queries.NoticeRef | None:
        return self.notices.get(notice_id)

    async def channel_county(self, channel_id: str) -> str | None:
        channel = self.channels.get(channel_id)
        return None if channel is None else channel.county_id

    async def subscribed_channels(
        self, release_type: str, township_id: str, recipient: str | None = None
    ) -> list[str]:
        county = await self.county_of_township(township_id)
        return sorted(
            c.channel_id
            for c in self.channels.values()
            if c.active
            and release_type in c.release_types
            and (c.kind != "sms" or recipient in self.phones)
            and (
                c.township_id == township_id
                or (c.township_id is None and county is not None and c.county_id == county)
            )
        )

    @staticmethod
    def _line(branch: Any, secretary: Any, counts: Activity, members: int) -> dict[str, Any]:
        """The branch's counts, and its line in words as compile_branches says it (the
        secretary's own pledge and journal, journal entries and ratings: none in memory)."""
        line: dict[str, Any] = {
            "branch_id": branch.branch_id,
            "name": branch.name,
            "secretary": None if secretary is None else secretary.name,
            "pledges": counts.pledges,
            "reviews": counts.reviews,
            "journals": counts.journals,
            "visits": counts.visits,
            "open_items": counts.open_items,
            "overdue_items": counts.overdue_items,
            "members": members,
            "secretary_pledge": None,
            "secretary_journal": 0,
            "journal_entries": 0,
            "ratings": 0,
        }
        return {**line, **branch_work(line), "publicity": []}

    async def compile_township(
        self, township_id: str, period: str, on: date
    ) -> tuple[tuple[CadreGuidance, ...], tuple[str, ...]]:
        """Guidance per cadre and the township's publicity: none kept in memory."""
        return (), ()

    async def compile_branches(
        self, township_id: str, period: str, on: date
    ) -> tuple[BranchRecord, ...]:
        d = self.directory
        lines = []
        for branch in sorted(d.branches.values(), key=lambda b: b.branch_id):
            if branch.township_id != township_id or not branch.active:
                continue
            secretary = d.members.get(branch.secretary_id) if branch.secretary_id else None
            counts = self.activity.get(branch.branch_id, Activity())
            members = [
                m for m in d.members.values() if m.branch_id == branch.branch_id and m.active
            ]
            lines.append(branch_record(self._line(branch, secretary, counts, len(members))))
        return tuple(lines)

    async def person_place(self, person_id: str) -> tuple[str, str] | None:
        d = self.directory
        member = d.members.get(person_id)
        township_id = member.township_id if member is not None and member.active else None
        if township_id is None:
            township_id = next(
                (t.township_id for t in d.townships.values() if t.head_id == person_id), None
            )
        county = None if township_id is None else await self.county_of_township(township_id)
        return None if county is None or township_id is None else (county, township_id)

    async def seal(self, person_id: str, fields: dict[str, str]) -> dict[str, str]:
        """Not encryption (shared/personal.py is tested against PostgreSQL): the envelope's
        shape, the plain text out of sight, and what erasure does to it."""
        self.keys.setdefault(person_id, f"key-{person_id}")
        return {
            "person": person_id,
            "sealed": base64.b64encode(json.dumps(fields).encode()).decode(),
        }

    async def erase(self, person_id: str) -> None:
        self.keys.pop(person_id, None)

    def opened(self, person_id: str) -> dict[str, str] | None:
        """The phone registered for the person, as the delivery pass would open it."""
        envelope = self.phones.get(person_id)
        if envelope is None or envelope["person"] not in self.keys:
            return None
        fields: dict[str, str] = json.loads(base64.b64decode(envelope["sealed"]))
        return fields

    async def release(self, release_id: str) -> queries.Release | None:
        return self.releases.get(release_id)

    async def keep_secret(self, channel_id: str, target: str, secret: str | None) -> None:
        if channel_id in self.secrets:  # the table's primary key
            raise ValueError(f"channel_secrets already holds {channel_id}")
        self.secrets[channel_id] = (target, secret)

    # --- kept from events, as the projections keep the read models -----------------

    async def project(self, conn: Any, envelope: EventEnvelope) -> None:
        """The service's own events as they are appended (`Memory(project=...)`)."""
        self.apply(envelope)

    def apply(self, envelope: EventEnvelope) -> None:
        """An event, own or consumed, as services/notification/projections/ applies it."""
        d, source = envelope.data, envelope.source.rsplit("/", 1)[-1]
        if source == "pledge" and envelope.type in DIRECTORY_EVENTS:
            self.directory.apply(envelope.type, d)
            return
        match envelope.type:
            case "CountyEstablished":
                self.counties.add(k.CountyEstablished.model_validate(d).county_id)
            case "PledgeCalendarSet":
                p = k.PledgeCalendarSet.model_validate(d)
                self.drafting[(p.county_id, p.year)] = p.drafting_deadline
                if p.publication_deadline is not None:
                    self.publication[(p.county_id, p.year)] = p.publication_deadline
            case "EvaluationCalendarSet":
                e = k.EvaluationCalendarSet.model_validate(d)
                self.rounds[(e.county_id, e.year)] = (e.first_round_closes, e.second_round_closes)
            case "NoticeIssued" if source == "notification":
                self.notices[d["notice_id"]] = queries.NoticeRef(
                    stream_id=envelope.streamid,
                    recipient=d["recipient"],
                    township_id=d["township_id"],
                )
            case "ChannelRegistered" if source == "notification":
                self.channels[d["channel_id"]] = CopiedChannel(
                    d["channel_id"],
                    d["county_id"],
                    d["township_id"],
                    tuple(d["release_types"]),
                    kind=d["kind"],
                )
            case "PhoneRegistered" if source == "notification":
                self.phones[d["person_id"]] = d["phone"]
            case "PhoneRemoved" if source == "notification":
                self.phones.pop(d["person_id"], None)
            case "ChannelRetired" if source == "notification":
                self.channels[d["channel_id"]].active = False
            case "BulletinIssued" if source == "notification":
                self.releases.setdefault(
                    envelope.id,
                    queries.Release("bulletin", d["township_id"], d["title"], dict(d)),
                )


def notification_memory(records: MemoryRecords | None = None) -> tuple[Memory, MemoryRecords]:
    records = records or MemoryRecords()
    memory = Memory("notification", REGISTRY, {queries.records: records}, project=records.project)
    return memory, records
