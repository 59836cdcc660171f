"""Command handlers: read the directory copy, check who may act (R1), let the aggregate
decide, save. One transaction: the authority check sees the copy the append is guarded by.

Plain async functions; the unit of work is their only dependency, and they read the copies
through its port (`queries.copies`), never its connection: tests/unit/test_review_handlers.py
runs every one of them in memory.
"""

from __future__ import annotations

from typing import Any

from services.review import access, queries
from services.review import commands as c
from services.review.aggregates import BranchLeaders, Journal, Person, Review, Subject, Visit
from services.review.events import SubjectKind
from shared.auth import Principal, require
from shared.errors import InvalidState, NotFound
from shared.files import attached
from shared.unit_of_work import UnitOfWork, accepted, new_id


def person(who: Principal, name: str | None) -> Person:
    return Person(who.subject, name or who.name or who.subject)


# --- leadership reviews (R1–R4) --------------------------------------------------------


async def record_review(uow: UnitOfWork, cmd: c.RecordReview, who: Principal) -> dict[str, Any]:
    reads = uow.port(queries.copies)
    subject = await queries.subject(reads, cmd.subject_kind, cmd.subject_id)
    require(
        access.may_review(who, subject),
        "the township's head reviews a branch and its leadership team; the branch secretary"
        " reviews the branch's members (R1)",
    )
    status = await reads.pledge_status(subject, cmd.held_on.year)
    files = await attached(uow, cmd.files, who)
    review = Review.record(
        new_id("r"), subject, person(who, cmd.reviewer_name), cmd, status, uow.today(), files
    )
    await uow.save(review)
    return accepted(review.original_id, uow, quarter=review.content.quarter)


async def correct_review(
    uow: UnitOfWork, review_id: str, cmd: c.CorrectReview, who: Principal
) -> dict[str, Any]:
    review = await uow.get(Review, f"review-{review_id}", "review")
    was = review.content
    subject = await uow.port(queries.copies).find_subject(was.subject_kind, was.subject_id)
    require(
        subject is not None and access.may_review(who, subject),
        "only whoever may review the subject now corrects its review (R1)",
    )
    files = await attached(uow, cmd.files, who)
    new_version = review.correct(person(who, None), cmd, cmd.reason, uow.today(), files)
    await uow.save(review)
    return accepted(review_id, uow, version_id=new_version, quarter=review.content.quarter)


# --- work journal (R6) -----------------------------------------------------------------


async def _journal(uow: UnitOfWork, member_id: str, month: str) -> tuple[Journal, Subject]:
    member = await queries.member(uow.port(queries.copies), member_id)
    journal = await uow.load(Journal, Journal.stream_for(member_id, month))
    return journal or Journal.open(member, month), member


def _journal_writer(who: Principal, member: Subject, why: str) -> str | None:
    """The member (None), or their branch secretary entering the paper journal on the
    member's behalf (the secretary's id, recorded in the event)."""
    if access.writes_journal(who, member):
        return None
    require(
        access.enters_journal_for(who, member),
        f"{why}; the branch secretary enters one kept on paper on the member's behalf",
    )
    return who.subject


async def record_entry(
    uow: UnitOfWork, member_id: str, month: str, cmd: c.RecordJournalEntry, who: Principal
) -> dict[str, Any]:
    journal, member = await _journal(uow, member_id, month)
    entered_by = _journal_writer(who, member, "members keep their own work journal (R6)")
    if not member.active:
        raise InvalidState(f"member {member_id} is retired")
    entry_id = new_id("e")
    journal.record_entry(
        entry_id,
        cmd.recorded_on,
        cmd.work_content,
        cmd.duty_performance,
        uow.today(),
        entered_by,
        await attached(uow, cmd.files, who),
    )
    await uow.save(journal)
    return accepted(entry_id, uow)


async def correct_entry(
    uow: UnitOfWork,
    member_id: str,
    month: str,
    entry_id: str,
    cmd: c.CorrectJournalEntry,
    who: Principal,
) -> dict[str, Any]:
    journal, member = await _journal(uow, member_id, month)
    entered_by = _journal_writer(who, member, "members correct their own journal (R6)")
    new_entry = new_id("e")
    journal.correct_entry(
        entry_id,
        new_entry,
        cmd.recorded_on,
        cmd.work_content,
        cmd.duty_performance,
        cmd.reason,
        uow.today(),
        entered_by,
        await attached(uow, cmd.files, who),
    )
    await uow.save(journal)
    return accepted(new_entry, uow, corrects=entry_id)


async def evaluate_presentation(
    uow: UnitOfWork, member_id: str, month: str, cmd: c.EvaluatePresentation, who: Principal
) -> dict[str, Any]:
    journal, member = await _journal(uow, member_id, month)
    require(
        access.evaluates_presentation(who, member),
        "the branch secretary evaluates members' monthly presentations; the township the"
        " secretary's (R6)",
    )
    journal.evaluate(
        cmd.presented_on, cmd.grade, cmd.evaluation, person(who, cmd.evaluator_name), uow.today()
    )
    await uow.save(journal)
    return accepted(f"{member_id}/{month}", uow)


# --- guidance visits (R7) --------------------------------------------------------------


async def record_visit(
    uow: UnitOfWork, cmd: c.RecordGuidanceVisit, who: Principal
) -> dict[str, Any]:
    reads = uow.port(queries.copies)
    branch = await queries.subject(reads, SubjectKind.BRANCH, cmd.branch_id, "branch_id")
    require(
        access.records_visit(who, branch),
        "leading cadres of the branch's township or county record guidance visits (R7)",
    )
    visit = Visit.record(
        new_id("v"),
        branch,
        Person(who.subject, cmd.cadre_name),
        cmd.visited_on,
        cmd.summary,
        cmd.problems_found,
        cmd.guidance_given,
        uow.today(),
        await attached(uow, cmd.files, who),
    )
    await uow.save(visit)
    return accepted(visit.visit_id, uow)


# --- responsible leaders (R1) -----------------------------------------------------------


async def _leaders(
    uow: UnitOfWork, branch_id: str, who: Principal
) -> tuple[BranchLeaders, Subject]:
    branch = await uow.port(queries.copies).find_subject(SubjectKind.BRANCH, branch_id)
    if branch is None:
        raise NotFound(f"branch {branch_id} not found")
    require(
        access.assigns_leaders(who, branch),
        "the township office assigns the township's leaders to its branches (R1)",
    )
    leaders = await uow.load(BranchLeaders, BranchLeaders.stream_for(branch_id))
    return leaders or BranchLeaders.of(branch), branch


async def assign_leader(
    uow: UnitOfWork, branch_id: str, cmd: c.AssignLeader, who: Principal
) -> dict[str, Any]:
    leaders, branch = await _leaders(uow, branch_id, who)
    leaders.assign(branch, Person(cmd.leader_id, cmd.leader_name), uow.today())
    await uow.save(leaders)
    return accepted(branch_id, uow, leader_id=cmd.leader_id)


async def unassign_leader(
    uow: UnitOfWork, branch_id: str, leader_id: str, who: Principal
) -> dict[str, Any]:
    leaders, _ = await _leaders(uow, branch_id, who)
    leaders.unassign(leader_id, uow.today())
    await uow.save(leaders)
    return accepted(branch_id, uow, leader_id=leader_id)
