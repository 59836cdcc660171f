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
from services.review.aggregates import Journal, Person, Review, Subject, Visit
from services.review.events import SubjectKind
from shared.auth import Principal, require
from shared.errors import InvalidState
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
    review = Review.record(
        new_id("r"), subject, person(who, cmd.reviewer_name), cmd, status, uow.today()
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
    new_version = review.correct(person(who, None), cmd, cmd.reason, uow.today())
    await uow.save(review)
    return accepted(review_id, uow, version_id=new_version, quarter=review.content.quarter)


# --- work journal (R6) -----------------------------------------------------------------


async def _journal(uow: UnitOfWork, member_id: str, month: str) -> tuple[Journal, Subject]:
    member = await queries.member(uow.port(queries.copies), member_id)
    journal = await uow.load(Journal, Journal.stream_for(member_id, month))
    return journal or Journal.open(member, month), member


async def record_entry(
    uow: UnitOfWork, member_id: str, month: str, cmd: c.RecordJournalEntry, who: Principal
) -> dict[str, Any]:
    journal, member = await _journal(uow, member_id, month)
    require(access.writes_journal(who, member), "members keep their own work journal (R6)")
    if not member.active:
        raise InvalidState(f"member {member_id} is retired")
    entry_id = new_id("e")
    journal.record_entry(
        entry_id, cmd.recorded_on, cmd.work_content, cmd.duty_performance, uow.today()
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
    require(access.writes_journal(who, member), "members correct their own journal (R6)")
    new_entry = new_id("e")
    journal.correct_entry(
        entry_id,
        new_entry,
        cmd.recorded_on,
        cmd.work_content,
        cmd.duty_performance,
        cmd.reason,
        uow.today(),
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
    )
    await uow.save(visit)
    return accepted(visit.visit_id, uow)
