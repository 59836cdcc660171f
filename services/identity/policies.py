"""Reactions to the pledge service's directory events: each appointment, enrolment, transfer
and retirement becomes identity's own `PostStarted`/`PostEnded` (so the identity log alone
replays who could do what on any date), inside the subscription runner's transaction. The
directory copy (`directory=True`) is projected before the policy runs, so it already tells
where a township or branch sits; who held a post before comes from identity's own posts.

    TownshipHeadAppointed     the head sits on the township committee; the head before leaves
                              (members the county granted the committee's post stay; a
                              member made head holds the head's seat from then on)
    MemberEnrolled            a member of the branch (a person, registered the first time)
    BranchSecretaryAppointed  the branch's secretary; the secretary before stops being one
    MemberTransferred         member of the new branch; posts at the old branch end
    MemberRetired             every post the directory gave ends
    BranchRetired             every post at the branch ends
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import asyncpg

from services.identity import contracts as k
from services.identity import queries
from services.identity.aggregates import Person
from services.identity.aggregates.person import stream_of
from services.identity.events import PostSource
from shared.auth import Role
from shared.consumed import Consumed, reaction
from shared.envelope import EventEnvelope
from shared.eventstore.base import CommandContext
from shared.subscriptions import Handler, Subscription
from shared.unit_of_work import CommandExecutor, UnitOfWork

DIRECTORY = "directory:pledge"  # the actor of posts the directory decides
UNPLACED = "unplaced"  # the partition of a person whose county the copy does not know


def subscriptions(executor: CommandExecutor) -> list[Subscription]:
    return [Subscription(consumer="identity", source="pledge", handler=on_directory(executor))]


async def _person(uow: UnitOfWork, person_id: str, name: str, township_id: str) -> Person:
    """The directory person, registered the first time the directory names them."""
    person = await uow.load(Person, stream_of(person_id))
    if person is not None:
        person.rename(name, DIRECTORY)
        return person
    place = await uow.port(queries.reads).place(township_id)
    county = place.county_id if place else UNPLACED
    return Person.register(person_id, name, county, PostSource.DIRECTORY, DIRECTORY)


async def _ended_elsewhere(uow: UnitOfWork, role: Role, org: str, keep: str, at: datetime) -> None:
    """Whoever else holds the directory's post (role, org) leaves it: a new one was named. A
    post granted here is not the directory's (the committee's members the county granted
    stay on it when a new head is appointed)."""
    for holder in await uow.port(queries.reads).holders(role.value, org):
        if holder == keep:
            continue
        person = await uow.get(Person, stream_of(holder), "该人员")
        held = person.posts.get((role.value, org))
        if held is not None and held.source is PostSource.GRANT:
            continue
        person.end_post(role, org, at, DIRECTORY, "继任者已任命", source=PostSource.DIRECTORY)
        await uow.save(person)


async def head_appointed(uow: UnitOfWork, e: k.TownshipHeadAppointed, at: datetime) -> None:
    await _ended_elsewhere(uow, Role.TOWNSHIP_COMMITTEE, e.township_id, e.person_id, at)
    person = await _person(uow, e.person_id, e.name, e.township_id)
    held = person.posts.get((Role.TOWNSHIP_COMMITTEE.value, e.township_id))
    if held is not None and held.source is PostSource.GRANT:
        # a member the county granted the seat to becomes the head: the seat is the head's
        # now (the directory's), not revoked by the county, ended by the next head
        person.end_post(
            Role.TOWNSHIP_COMMITTEE,
            e.township_id,
            at,
            DIRECTORY,
            "任乡镇党委书记",
            source=PostSource.DIRECTORY,
        )
    person.start_post(
        Role.TOWNSHIP_COMMITTEE, e.township_id, PostSource.DIRECTORY, at, DIRECTORY, "乡镇党委书记"
    )
    await uow.save(person)


async def member_enrolled(uow: UnitOfWork, e: k.MemberEnrolled, at: datetime) -> None:
    person = await _person(uow, e.member_id, e.name, e.township_id)
    person.start_post(Role.MEMBER, e.branch_id, PostSource.DIRECTORY, at, DIRECTORY, "党员")
    await uow.save(person)


async def secretary_appointed(uow: UnitOfWork, e: k.BranchSecretaryAppointed, at: datetime) -> None:
    await _ended_elsewhere(uow, Role.BRANCH_SECRETARY, e.branch_id, e.member_id, at)
    person = await uow.load(Person, stream_of(e.member_id))
    if person is None:
        return  # never enrolled as a member: the pledge service refuses that anyway
    person.start_post(
        Role.BRANCH_SECRETARY, e.branch_id, PostSource.DIRECTORY, at, DIRECTORY, "支部书记"
    )
    await uow.save(person)


async def member_transferred(uow: UnitOfWork, e: k.MemberTransferred, at: datetime) -> None:
    person = await uow.load(Person, stream_of(e.member_id))
    if person is None:
        return
    person.end_directory_posts(at, DIRECTORY, "组织关系转出", org=e.from_branch_id)
    person.start_post(
        Role.MEMBER, e.to_branch_id, PostSource.DIRECTORY, at, DIRECTORY, "组织关系转入"
    )
    await uow.save(person)


async def member_retired(uow: UnitOfWork, e: k.MemberRetired, at: datetime) -> None:
    person = await uow.load(Person, stream_of(e.member_id))
    if person is None:
        return
    person.end_directory_posts(at, DIRECTORY, e.reason)
    await uow.save(person)


async def branch_retired(uow: UnitOfWork, e: k.BranchRetired, at: datetime) -> None:
    for person_id, _ in await uow.port(queries.reads).posts_at(e.branch_id):
        person = await uow.load(Person, stream_of(person_id))
        if person is not None and person.pending == []:
            person.end_directory_posts(at, DIRECTORY, e.reason, org=e.branch_id)
            await uow.save(person)


REACTIONS: dict[type[Consumed], Any] = {
    k.TownshipHeadAppointed: head_appointed,
    k.MemberEnrolled: member_enrolled,
    k.BranchSecretaryAppointed: secretary_appointed,
    k.MemberTransferred: member_transferred,
    k.MemberRetired: member_retired,
    k.BranchRetired: branch_retired,
}


def on_directory(executor: CommandExecutor) -> Handler:
    """The reaction to every pledge event: the directory's ones change posts, as of the
    moment the directory recorded them (the event's time)."""
    handlers = [_handler(executor, model, react) for model, react in REACTIONS.items()]

    async def handle(conn: asyncpg.Connection, envelope: EventEnvelope) -> None:
        for handler in handlers:
            await handler(conn, envelope)

    return handle


def _handler(executor: CommandExecutor, model: type[Consumed], react: Any) -> Handler:
    async def run(conn: asyncpg.Connection, envelope: EventEnvelope, event: Consumed) -> None:
        context = CommandContext(
            actor=DIRECTORY,
            role="integration",
            correlation_id=envelope.correlationid,
            causation_id=envelope.id,
        )
        await react(executor.unit(conn, context), event, envelope.time)

    return reaction(model, run)
