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
from shared.errors import InvalidInput, InvalidState, NotFound
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
        "乡镇党委书记点评支部和支部班子，支部书记点评本支部党员（R1）：请切换到相应身份。",
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
    review = await uow.get(Review, f"review-{review_id}", "该点评")
    was = review.content
    subject = await uow.port(queries.copies).find_subject(was.subject_kind, was.subject_id)
    require(
        subject is not None and access.may_review(who, subject),
        "只有现在有权点评该对象的人才能修改点评（R1）。",
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
        f"{why}；党员的纸质纪实可由支部书记代为录入。",
    )
    return who.subject


async def record_entry(
    uow: UnitOfWork, member_id: str, month: str, cmd: c.RecordJournalEntry, who: Principal
) -> dict[str, Any]:
    journal, member = await _journal(uow, member_id, month)
    entered_by = _journal_writer(who, member, "纪实由党员本人记录（R6）")
    if not member.active:
        raise InvalidState(f"党员 {member_id} 已不在册，不能再办理此事项。")
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
    entered_by = _journal_writer(who, member, "纪实由党员本人修改（R6）")
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
        "支部书记评价党员每月的纪实汇报；乡镇评价支部书记的汇报（R6）。请切换到相应身份。",
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
        "联系点指导由本乡镇或本县的领导干部记录（R7）。",
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
        raise NotFound(f"没有找到支部 {branch_id}：请核对后再试。")
    require(
        access.assigns_leaders(who, branch),
        "乡镇创先办安排本乡镇领导联系支部（R1）：请切换到创先办身份。",
    )
    leaders = await uow.load(BranchLeaders, BranchLeaders.stream_for(branch_id))
    return leaders or BranchLeaders.of(branch), branch


async def assign_leader(
    uow: UnitOfWork, branch_id: str, cmd: c.AssignLeader, who: Principal
) -> dict[str, Any]:
    leaders, branch = await _leaders(uow, branch_id, who)
    # the township's leaders: its committee's members, as the identity service seats them
    # (copied as its events arrive), and the head (seated by the directory) in any case
    seated = cmd.leader_id == branch.head_id or await uow.port(queries.copies).on_committee(
        cmd.leader_id, branch.township_id
    )
    if not seated:
        raise InvalidInput("该同志不是本镇党委成员，不能安排为联系领导。", field="leader_id")
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
