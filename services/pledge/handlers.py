"""Command handlers: load aggregates, check who may act, let the aggregate decide, save.

Plain async functions; the unit of work is their only dependency. Routing tables at the end.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Awaitable, Callable
from typing import Any

from services.pledge import access
from services.pledge import commands as c
from services.pledge import queries as q
from services.pledge.aggregates import Branch, County, Member, Pledge, Pledger, Township
from services.pledge.aggregates.roster import KnownBranch, KnownMember, Plan, Scope, plan_roster
from services.pledge.documents.roster_xlsx import SHEETS as ROSTER_SHEETS
from services.pledge.events import BranchKind, PledgerKind
from shared import imports
from shared.auth import Principal, county_admin, require, township_committee, township_office
from shared.errors import ConcurrencyConflict, Forbidden, InvalidInput, InvalidState
from shared.files import attached
from shared.unit_of_work import UnitOfWork, accepted, collector_paused, new_id, new_ids
from shared.workbook import file_sha256, read_upload

# --- directory -------------------------------------------------------------------------


async def establish_county(
    uow: UnitOfWork, cmd: c.EstablishCounty, who: Principal
) -> dict[str, Any]:
    require(county_admin(who, cmd.county_id), "此操作由县管理员办理：请切换到县管理员身份。")
    county = County.establish(cmd.county_id, cmd.name)
    try:
        await uow.save(county)
    except ConcurrencyConflict:
        raise InvalidState(f"县 {cmd.county_id} 已经存在，无需重复创建。") from None
    return accepted(cmd.county_id, uow)


async def _county(uow: UnitOfWork, county_id: str) -> County:
    return await uow.get(County, f"county-{county_id}", "该县")


async def set_calendar(
    uow: UnitOfWork, county_id: str, cmd: c.SetPledgeCalendar, who: Principal
) -> dict[str, Any]:
    county = await _county(uow, county_id)
    require(county_admin(who, county_id), "此操作由县管理员办理：请切换到县管理员身份。")
    county.set_calendar(cmd.year, cmd.drafting_deadline, cmd.publication_deadline)
    await uow.save(county)
    return accepted(county_id, uow)


async def configure_categories(
    uow: UnitOfWork, county_id: str, cmd: c.ConfigureCategories, who: Principal
) -> dict[str, Any]:
    county = await _county(uow, county_id)
    require(county_admin(who, county_id), "此操作由县管理员办理：请切换到县管理员身份。")
    county.configure_categories(cmd.kind, cmd.categories)
    await uow.save(county)
    return accepted(county_id, uow)


async def establish_township(
    uow: UnitOfWork, county_id: str, cmd: c.EstablishTownship, who: Principal
) -> dict[str, Any]:
    await _county(uow, county_id)
    require(county_admin(who, county_id), "此操作由县管理员办理：请切换到县管理员身份。")
    township = Township.establish(new_id("t"), county_id, cmd.name)
    await uow.save(township)
    return accepted(township.township_id, uow)


async def _township(uow: UnitOfWork, township_id: str) -> Township:
    return await uow.get(Township, f"township-{township_id}", "该乡镇")


async def appoint_township_head(
    uow: UnitOfWork, township_id: str, cmd: c.AppointTownshipHead, who: Principal
) -> dict[str, Any]:
    township = await _township(uow, township_id)
    require(county_admin(who, township.county_id), "此操作由县管理员办理：请切换到县管理员身份。")
    township.appoint_head(cmd.person_id, cmd.name)
    await uow.save(township)
    return accepted(township_id, uow)


async def _branch(uow: UnitOfWork, branch_id: str) -> Branch:
    return await uow.get(Branch, f"branch-{branch_id}", "该支部")


async def _member(uow: UnitOfWork, member_id: str) -> Member:
    return await uow.get(Member, f"member-{member_id}", "该党员")


def _keeps(who: Principal, township_id: str, county_id: str) -> None:
    require(
        access.keeps_directory(who, township_id, county_id),
        "支部与党员名册由乡镇创先办（或县管理员）管理：请切换到创先办身份。",
    )


async def establish_branch(
    uow: UnitOfWork, cmd: c.EstablishBranch, who: Principal
) -> dict[str, Any]:
    township = await _township(uow, cmd.township_id)
    _keeps(who, township.township_id, township.county_id)
    branch = Branch.establish(new_id("b"), township, cmd.name, cmd.kind, cmd.village)
    await uow.save(branch)
    return accepted(branch.branch_id, uow)


async def appoint_secretary(
    uow: UnitOfWork, branch_id: str, cmd: c.AppointSecretary, who: Principal
) -> dict[str, Any]:
    branch = await _branch(uow, branch_id)
    _keeps(who, branch.township_id, branch.county_id)
    branch.appoint_secretary(await _member(uow, cmd.member_id))
    await uow.save(branch)
    return accepted(branch_id, uow)


async def move_branch(
    uow: UnitOfWork, branch_id: str, cmd: c.MoveBranch, who: Principal
) -> dict[str, Any]:
    branch = await _branch(uow, branch_id)
    require(
        county_admin(who, branch.county_id),
        "支部在乡镇之间转移由县管理员办理：请联系县管理员。",
    )
    branch.move_to(await _township(uow, cmd.township_id))
    await uow.save(branch)
    return accepted(branch_id, uow)


async def retire_branch(
    uow: UnitOfWork, branch_id: str, cmd: c.Retire, who: Principal
) -> dict[str, Any]:
    branch = await _branch(uow, branch_id)
    _keeps(who, branch.township_id, branch.county_id)
    branch.retire(cmd.reason)
    await uow.save(branch)
    return accepted(branch_id, uow)


async def enrol_member(uow: UnitOfWork, cmd: c.EnrolMember, who: Principal) -> dict[str, Any]:
    branch = await _branch(uow, cmd.branch_id)
    _keeps(who, branch.township_id, branch.county_id)
    member = Member.enrol(new_id("m"), branch, cmd.name, cmd.post, cmd.duties, cmd.leadership_team)
    await uow.save(member)
    return accepted(member.member_id, uow)


async def assign_post(
    uow: UnitOfWork, member_id: str, cmd: c.AssignPost, who: Principal
) -> dict[str, Any]:
    member = await _member(uow, member_id)
    branch = await _branch(uow, member.branch_id)
    _keeps(who, branch.township_id, branch.county_id)
    member.assign_post(cmd.post, cmd.duties, cmd.leadership_team)
    await uow.save(member)
    return accepted(member_id, uow)


async def transfer_member(
    uow: UnitOfWork, member_id: str, cmd: c.TransferMember, who: Principal
) -> dict[str, Any]:
    member = await _member(uow, member_id)
    source = await _branch(uow, member.branch_id)
    target = await _branch(uow, cmd.branch_id)
    _keeps(who, source.township_id, source.county_id)
    if target.county_id != source.county_id:
        raise InvalidInput("党员只能在本县内转移：请选择本县的支部。", field="branch_id")
    member.transfer_to(target)
    await uow.save(member)
    return accepted(member_id, uow)


async def retire_member(
    uow: UnitOfWork, member_id: str, cmd: c.Retire, who: Principal
) -> dict[str, Any]:
    member = await _member(uow, member_id)
    branch = await _branch(uow, member.branch_id)
    _keeps(who, branch.township_id, branch.county_id)
    member.retire(cmd.reason)
    await uow.save(member)
    return accepted(member_id, uow)


# --- roster imports (issue 19) ------------------------------------------------------------

ROSTER_KINDS = {"township": "township_roster", "county": "county_roster"}
FLUSH_EVERY = 2500  # changes staged between two batches (a COPY_CHUNK each)
YIELD_EVERY = 25  # changes decided between two turns of the writes under way
PROGRESS_EVERY = 5000  # changes between two progress reports
BULK_ID_BYTES = 8  # ids made by the thousand: 64 random bits, no collision
Progress = Callable[[int], Awaitable[None]]


def _authorise_roster(who: Principal, kind: str, scope_id: str, county_id: str) -> None:
    """As the owning commands require: the township office (or the county administrator)
    for a township's roster, the county administrator for the county's."""
    require(
        access.keeps_roster(who, kind, scope_id, county_id),
        "乡镇名册由乡镇创先办（或县管理员）导入，全县名册由县管理员导入：请切换到相应身份。",
    )


async def _roster_scope(uow: UnitOfWork, kind: str, scope_id: str) -> tuple[Scope, str]:
    state = await q.roster(uow.conn, kind=kind, scope_id=scope_id)
    scope = Scope(
        kind,
        scope_id,
        state["townships"],
        tuple(
            KnownBranch(
                b["branch_id"],
                b["township_id"],
                b["name"],
                b["kind"],
                b["village"],
                b["secretary_id"],
            )
            for b in state["branches"]
        ),
        tuple(KnownMember(**m) for m in state["members"]),
    )
    return scope, state["county_id"]


async def upload_roster(
    uow: UnitOfWork, kind: str, scope_id: str, data: bytes, file_name: str, who: Principal
) -> dict[str, Any]:
    """Check every row of a roster workbook and keep the preview of what it will do (the
    directory's own events); nothing is appended until it is confirmed. The same file from
    the same importer is the import already made."""
    scope, county_id = await _roster_scope(uow, kind, scope_id)
    _authorise_roster(who, kind, scope_id, county_id)
    sha = file_sha256(data)
    found = await imports.find(uow.conn, ROSTER_KINDS[kind], scope_id, who.subject, sha)
    if found is not None:
        return found.view()
    with collector_paused():  # tens of thousands of rows, all alive until planned
        plan = plan_roster(scope, await asyncio.to_thread(read_upload, data, ROSTER_SHEETS))
    record = await imports.create(
        uow.conn,
        import_id=new_id("imp"),
        kind=ROSTER_KINDS[kind],
        scope_id=scope_id,
        importer=who.subject,
        file_sha256=sha,
        file_name=file_name,
        file=data,
        rows_total=plan.rows,
        preview=plan.preview(),
        errors=[e.as_dict() for e in plan.errors],
        basis=scope.basis(),
        now=uow.store.clock.now(),
    )
    return record.view()


async def confirm_roster(
    uow: UnitOfWork, import_id: str, who: Principal, progress: Progress | None = None
) -> dict[str, Any]:
    """Commit a previewed roster: all its events in this one transaction, or none. A
    committed import confirmed again appends nothing; one whose directory changed since its
    preview is planned again and answered `stale` (to be looked at and confirmed anew)."""
    record = await imports.locked(uow.conn, import_id)
    kind = {v: k for k, v in ROSTER_KINDS.items()}.get(record.kind)
    if kind is None:
        raise InvalidInput("这不是名册导入：请回到名册导入页面重新上传。", field="import_id")
    if record.importer != who.subject:
        raise Forbidden("只有导入人可以确认这次导入。")
    if record.state == "committed":
        return record.view()
    if record.state == "invalid":
        raise InvalidState("文件中有出错的行，整份文件都没有导入：请改正出错的行后重新上传。")
    # the scope's townships locked first, in one order: another import of the same
    # townships (its own file, confirmed at the same time) waits here for this one's end,
    # then plans on what it wrote (answered `stale` if that changed its basis), instead of
    # each holding some townships and waiting for the other's (a deadlock)
    await uow.lock_partitions(
        await q.roster_townships(uow.conn, kind=kind, scope_id=record.scope_id)
    )
    scope, county_id = await _roster_scope(uow, kind, record.scope_id)
    _authorise_roster(who, kind, record.scope_id, county_id)
    data = await imports.file_of(uow.conn, import_id)
    with collector_paused():
        plan = plan_roster(scope, await asyncio.to_thread(read_upload, data, ROSTER_SHEETS))
    if scope.basis() != record.basis:
        errors = [e.as_dict() for e in plan.errors]
        await imports.replan(
            uow.conn, import_id, preview=plan.preview(), errors=errors, basis=scope.basis()
        )
        return {**(await imports.get(uow.conn, import_id)).view(), "stale": True}
    appended = await execute_roster(uow, plan, progress)
    await imports.committed(uow.conn, import_id, appended, uow.store.clock.now())
    return (await imports.get(uow.conn, import_id)).view()


async def execute_roster(uow: UnitOfWork, plan: Plan, progress: Progress | None = None) -> int:
    """The plan's changes, in its order, each decided by its aggregate as one request would
    be; their events appended through the store's bulk path (`UnitOfWork.stage`/`flush`:
    per-township sequence and hash chain as one append each, projected many rows at a time),
    in the plan's order, all in the caller's transaction."""
    townships: dict[str, Township] = {}
    branches: dict[str, Branch] = {}
    members: dict[str, Member] = {}

    async def township(township_id: str) -> Township:
        if township_id not in townships:
            townships[township_id] = await _township(uow, township_id)
        return townships[township_id]

    async def branch(key: str) -> Branch:
        if key not in branches:
            branches[key] = await _branch(uow, key)
        return branches[key]

    async def member(key: str) -> Member:
        if key not in members:
            members[key] = await _member(uow, key)
        return members[key]

    before = len(uow.appended)
    # every township the plan appends to locked first, in one order (confirm_roster has
    # locked its scope's already): see `UnitOfWork.lock_partitions`
    await uow.lock_partitions(plan.townships())
    branch_ids, member_ids = new_ids("b", BULK_ID_BYTES), new_ids("m", BULK_ID_BYTES)
    with collector_paused():  # tens of thousands of objects, all alive until the end
        for done, change in enumerate(plan.changes, start=1):
            d, b_key, m_key = change.data, change.branch or "", change.member or ""
            saved: Branch | Member
            match change.event:
                case "BranchEstablished":
                    saved = branches[b_key] = Branch.establish(
                        next(branch_ids),
                        await township(change.township_id),
                        d["name"],
                        BranchKind(d["kind"]),
                        d["village"],
                    )
                case "BranchMoved":
                    saved = await branch(b_key)
                    saved.move_to(await township(d["to_township_id"]))
                case "BranchRetired":
                    saved = await branch(b_key)
                    saved.retire(d["reason"])
                case "BranchSecretaryAppointed":
                    saved = await branch(b_key)
                    saved.appoint_secretary(await member(m_key))
                case "MemberEnrolled":
                    saved = members[m_key] = Member.enrol(
                        next(member_ids),
                        await branch(b_key),
                        d["name"],
                        d["post"],
                        d["duties"],
                        d["leadership_team"],
                    )
                case "MemberTransferred":
                    saved = await member(m_key)
                    saved.transfer_to(await branch(b_key))
                case "MemberPostAssigned":
                    saved = await member(m_key)
                    saved.assign_post(d["post"], d["duties"], d["leadership_team"])
                case "MemberRetired":
                    saved = await member(m_key)
                    saved.retire(d["reason"])
                case _:
                    raise AssertionError(change.event)
            uow.stage(saved)  # the bulk path: appended and projected many at a time
            if done % FLUSH_EVERY == 0:
                # written while the next changes are decided (the next load or flush, and
                # the command's end, wait for what is still under way)
                await uow.flush(settle=False)
            elif done % YIELD_EVERY == 0:
                await asyncio.sleep(0)  # the writes under way move on
            if progress is not None and done % PROGRESS_EVERY == 0:
                await progress(done)
        await uow.flush()
    return len(uow.appended) - before


# --- pledges ---------------------------------------------------------------------------


async def draft_pledge(uow: UnitOfWork, cmd: c.DraftPledge, who: Principal) -> dict[str, Any]:
    branch = await _branch(uow, cmd.branch_id)
    if not branch.active:
        raise InvalidState(f"支部 {branch.branch_id} 已撤销，不能再办理此事项。")
    name = branch.name
    if cmd.member_id is not None:
        member = await _member(uow, cmd.member_id)
        if member.branch_id != branch.branch_id or not member.active:
            raise InvalidInput(
                "该党员不是本支部的在册党员：请从本支部党员中选择。", field="member_id"
            )
        name = member.name
    pledger = Pledger(
        PledgerKind.MEMBER if cmd.member_id else PledgerKind.BRANCH,
        branch.branch_id,
        branch.kind.value,
        cmd.member_id,
        name,
        branch.township_id,
        branch.county_id,
    )
    entered_by = await _writer(
        uow,
        who,
        pledger,
        "支部的承诺由支部书记起草；党员的承诺由党员本人起草，或由支部书记按党员的纸质承诺代为录入。",
    )
    pledge = Pledge.draft(cmd.year, pledger, entered_by)
    try:
        await uow.save(pledge)
    except ConcurrencyConflict:
        raise InvalidState(
            f"{cmd.year}年的承诺已经存在，无需再起草：请打开已有的承诺继续。",
            pledge_id=pledge.pledge_id,
        ) from None
    return accepted(pledge.pledge_id, uow)


async def _writer(uow: UnitOfWork, who: Principal, pledger: Pledger, why: str) -> str | None:
    """Who writes the pledge: the pledger (None), or the secretary of the member's branch
    now (a member who moved is entered for by her new branch's, no longer her old one's)
    entering a member's pledge from paper on her behalf (the secretary's id, recorded)."""
    if access.speaks_for(who, pledger):
        return None
    if pledger.kind is PledgerKind.MEMBER and pledger.member_id is not None:
        now = await uow.load(Member, f"member-{pledger.member_id}")
        if now is not None:
            pledger = dataclasses.replace(pledger, branch_id=now.branch_id)
    require(access.enters_for(who, pledger), why)
    # her own pledge written with the secretary's hat: hers, on nobody's behalf
    return None if who.subject == pledger.member_id else who.subject


async def _pledge(uow: UnitOfWork, pledge_id: str) -> Pledge:
    return await uow.get(Pledge, f"pledge-{pledge_id}", "该承诺")


def _pledger(pledge: Pledge) -> Pledger:
    assert pledge.pledger is not None
    return pledge.pledger


async def _categories(uow: UnitOfWork, pledge: Pledge) -> tuple[str, ...]:
    county = await _county(uow, _pledger(pledge).county_id)
    return county.categories[BranchKind(_pledger(pledge).branch_kind)]


async def record_opinion(
    uow: UnitOfWork, pledge_id: str, cmd: c.RecordOpinion, who: Principal
) -> dict[str, Any]:
    pledge = await _pledge(uow, pledge_id)
    entered_by = await _writer(
        uow,
        who,
        _pledger(pledge),
        "只有承诺人本人（或支部书记按党员的纸质承诺代为录入）可以记录征求到的意见。",
    )
    opinion_id = pledge.record_opinion(cmd.channel, cmd.gathered_on, cmd.summary, entered_by)
    await uow.save(pledge)
    return accepted(pledge_id, uow, opinion_id=opinion_id)


async def propose(
    uow: UnitOfWork, pledge_id: str, cmd: c.ProposePledge, who: Principal
) -> dict[str, Any]:
    pledge = await _pledge(uow, pledge_id)
    entered_by = await _writer(
        uow,
        who,
        _pledger(pledge),
        "只有承诺人本人（或支部书记按党员的纸质承诺代为录入）可以提交审核。",
    )
    categories = await _categories(uow, pledge)
    item_ids = pledge.propose(cmd.basis, cmd.items, categories, uow.today(), entered_by)
    await uow.save(pledge)
    return accepted(pledge_id, uow, item_ids=item_ids)


async def review_item(
    uow: UnitOfWork, pledge_id: str, item_id: str, cmd: c.ReviewItem, who: Principal
) -> dict[str, Any]:
    pledge = await _pledge(uow, pledge_id)
    require(
        township_committee(who, _pledger(pledge).township_id),
        "只有承诺人所在乡镇的党委可以审核事项。",
    )
    pledge.review_item(
        item_id,
        shows_advanced_standard=cmd.shows_advanced_standard,
        matches_wishes=cmd.matches_wishes,
        feasible=cmd.feasible,
        approve=cmd.decision == "approve",
        guidance=cmd.guidance,
        today=uow.today(),
        drafting_deadline=(await _county(uow, _pledger(pledge).county_id)).drafting_deadline(
            pledge.year
        ),
    )
    await uow.save(pledge)
    return accepted(pledge_id, uow, status=pledge.status.value)


async def resubmit(
    uow: UnitOfWork, pledge_id: str, cmd: c.ResubmitPledge, who: Principal
) -> dict[str, Any]:
    pledge = await _pledge(uow, pledge_id)
    entered_by = await _writer(
        uow,
        who,
        _pledger(pledge),
        "只有承诺人本人（或支部书记按党员的纸质承诺代为录入）可以重新提交。",
    )
    categories = await _categories(uow, pledge)
    pledge.resubmit(cmd.items, cmd.note, categories, uow.today(), entered_by)
    await uow.save(pledge)
    return accepted(pledge_id, uow, round=pledge.round)


async def publish(uow: UnitOfWork, pledge_id: str, who: Principal) -> dict[str, Any]:
    pledge = await _pledge(uow, pledge_id)
    require(
        access.branch_secretary(who, _pledger(pledge).branch_id),
        "支部和党员的承诺由支部书记公开：请切换到支部书记身份。",
    )
    pledge.publish()
    await uow.save(pledge)
    return accepted(pledge_id, uow)


async def report_progress(
    uow: UnitOfWork, pledge_id: str, item_id: str, cmd: c.ReportProgress, who: Principal
) -> dict[str, Any]:
    pledge = await _pledge(uow, pledge_id)
    require(access.speaks_for(who, _pledger(pledge)), "只有承诺人本人可以报告进展。")
    evidence = tuple(e.value() for e in cmd.evidence)
    files = await attached(uow, cmd.files, who)
    report_id = pledge.report_progress(item_id, cmd.summary, cmd.percent, evidence, files)
    await uow.save(pledge)
    return accepted(pledge_id, uow, report_id=report_id)


async def follow_up(
    uow: UnitOfWork, pledge_id: str, item_id: str, cmd: c.RecordFollowUp, who: Principal
) -> dict[str, Any]:
    pledge = await _pledge(uow, pledge_id)
    require(
        township_office(who, _pledger(pledge).township_id),
        "跟进由乡镇创先办办理：请切换到创先办身份。",
    )
    files = await attached(uow, cmd.files, who)
    follow_up_id = pledge.follow_up(item_id, cmd.note, files)
    await uow.save(pledge)
    return accepted(pledge_id, uow, follow_up_id=follow_up_id)


async def report_done(
    uow: UnitOfWork, pledge_id: str, item_id: str, cmd: c.ReportDone, who: Principal
) -> dict[str, Any]:
    pledge = await _pledge(uow, pledge_id)
    entered_by = await _writer(
        uow, who, _pledger(pledge), "只有承诺人本人（或支部书记代党员）可以报告事项完成。"
    )
    files = await attached(uow, cmd.files, who)
    pledge.report_done(item_id, cmd.summary, files, entered_by)
    await uow.save(pledge)
    return accepted(pledge_id, uow)


async def confirm_solved(
    uow: UnitOfWork, pledge_id: str, item_id: str, cmd: c.RecordNote, who: Principal
) -> dict[str, Any]:
    pledge = await _pledge(uow, pledge_id)
    require(
        township_office(who, _pledger(pledge).township_id),
        "问题是否解决由乡镇创先办确认：请切换到创先办身份。",
    )
    pledge.confirm_problem_solved(item_id, cmd.note)
    await uow.save(pledge)
    return accepted(pledge_id, uow)


async def verify_implementation(
    uow: UnitOfWork, pledge_id: str, item_id: str, cmd: c.RecordNote, who: Principal
) -> dict[str, Any]:
    pledge = await _pledge(uow, pledge_id)
    require(
        township_office(who, _pledger(pledge).township_id),
        "落实情况由乡镇创先办核实：请切换到创先办身份。",
    )
    pledge.verify_implementation(item_id, cmd.note)
    await uow.save(pledge)
    return accepted(pledge_id, uow)


async def push_quarter(
    uow: UnitOfWork, pledge_id: str, cmd: c.PushQuarter, who: Principal
) -> dict[str, Any]:
    pledge = await _pledge(uow, pledge_id)
    require(
        township_office(who, _pledger(pledge).township_id),
        "每季度推进由乡镇创先办办理：请切换到创先办身份。",
    )
    pledge.push_quarter(cmd.quarter, cmd.assessment, cmd.next_steps)
    await uow.save(pledge)
    return accepted(pledge_id, uow)
