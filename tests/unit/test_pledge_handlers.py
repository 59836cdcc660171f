"""Every command handler and the policy of the pledge service, with no server: the real
handlers on the real unit of work over an in-memory event store (tests/support/memory.py).
Who may (X1), who gets 403, what is decided (the events out), and what is refused with
nothing appended. The e2e tests keep the HTTP, PostgreSQL and NATS parts."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

import pytest

from services.evaluation.checks.events import (  # as published
    SatisfactionCheckLapsed,
    SatisfactionVerdictReached,
)
from services.pledge import commands as c
from services.pledge import handlers as h
from services.pledge.events import REGISTRY
from services.pledge.policies import subscriptions
from shared.auth import Principal, Role
from shared.envelope import EventEnvelope
from shared.errors import Forbidden, GongkaiError, InvalidInput, InvalidState, NotFound
from shared.eventstore import AppendRequest, CommandContext, InMemoryEventStore
from shared.files import FileCatalog
from tests.support.memory import Memory, Uploaded


def who(role: Role, org: str | None = None, subject: str | None = None) -> Principal:
    return Principal(subject=subject or f"{role.value}-{org}", role=role, org=org)


ADMIN = who(Role.COUNTY_ADMIN, "c1")
OTHER_ADMIN = who(Role.COUNTY_ADMIN, "c2")
AUDITOR = who(Role.AUDITOR)


def named(error: GongkaiError) -> list[str]:
    return [e["field"] for e in error.extra["errors"]]


async def refused(
    memory: Memory, error: type[GongkaiError], act: Callable[[], Awaitable[Any]]
) -> GongkaiError:
    """The command is refused with `error`, and nothing is appended."""
    before = len(memory.events)
    with pytest.raises(error) as caught:
        await act()
    assert len(memory.events) == before
    return caught.value


def last(memory: Memory) -> dict[str, Any]:
    return memory.events[-1].data


@dataclass
class World:
    """County c1 with townships t (its office, committee) and t2, a village branch b with
    secretary s and member m, another branch b2 in t2; county c2 with township t3 and its
    branch b3. All made through the handlers; today 2027-06-15."""

    memory: Memory
    t: str
    t2: str
    t3: str
    b: str
    b2: str
    b3: str
    s: str
    m: str

    def office(self, township: str | None = None) -> Principal:
        return who(Role.TOWNSHIP_OFFICE, township or self.t)

    def committee(self, township: str | None = None) -> Principal:
        return who(Role.TOWNSHIP_COMMITTEE, township or self.t)

    @property
    def secretary(self) -> Principal:
        return who(Role.BRANCH_SECRETARY, self.b, self.s)

    @property
    def member(self) -> Principal:
        return who(Role.MEMBER, self.b, self.m)

    def uow(self, principal: Principal) -> Any:
        return self.memory.as_(principal)


async def world() -> World:
    memory = Memory("pledge", REGISTRY)

    async def run(act: Callable[[Any], Awaitable[dict[str, Any]]], p: Principal) -> str:
        result = await act(memory.as_(p))
        return str(result["id"])

    await h.establish_county(
        memory.as_(ADMIN), c.EstablishCounty(county_id="c1", name="民勤县"), ADMIN
    )
    c2 = who(Role.COUNTY_ADMIN, "c2")
    await h.establish_county(memory.as_(c2), c.EstablishCounty(county_id="c2", name="别县"), c2)
    t = await run(
        lambda u: h.establish_township(u, "c1", c.EstablishTownship(name="甲镇"), ADMIN), ADMIN
    )
    t2 = await run(
        lambda u: h.establish_township(u, "c1", c.EstablishTownship(name="乙镇"), ADMIN), ADMIN
    )
    t3 = await run(
        lambda u: h.establish_township(u, "c2", c.EstablishTownship(name="丙镇"), c2), c2
    )

    def branch(township: str, admin: Principal) -> Callable[[Any], Awaitable[dict[str, Any]]]:
        cmd = c.EstablishBranch(township_id=township, name="村支部", kind="village")
        return lambda u: h.establish_branch(u, cmd, admin)

    b = await run(branch(t, ADMIN), ADMIN)
    b2 = await run(branch(t2, ADMIN), ADMIN)
    b3 = await run(branch(t3, c2), c2)

    def enrol(branch_id: str) -> Callable[[Any], Awaitable[dict[str, Any]]]:
        cmd = c.EnrolMember(branch_id=branch_id, name="张三", post="党员", duties="联系农户")
        return lambda u: h.enrol_member(u, cmd, ADMIN)

    s = await run(enrol(b), ADMIN)
    m = await run(enrol(b), ADMIN)
    await h.appoint_secretary(memory.as_(ADMIN), b, c.AppointSecretary(member_id=s), ADMIN)
    return World(memory, t, t2, t3, b, b2, b3, s, m)


# --- directory ---------------------------------------------------------------------------


async def test_the_directory_is_built_by_its_keepers_and_published_as_events() -> None:
    w = await world()
    assert w.memory.types() == [
        "CountyEstablished",
        "CountyEstablished",
        "TownshipEstablished",
        "TownshipEstablished",
        "TownshipEstablished",
        "BranchEstablished",
        "BranchEstablished",
        "BranchEstablished",
        "MemberEnrolled",
        "MemberEnrolled",
        "BranchSecretaryAppointed",
    ]
    assert last(w.memory) == {"branch_id": w.b, "member_id": w.s}


@pytest.mark.parametrize(
    "principal",
    [OTHER_ADMIN, who(Role.TOWNSHIP_OFFICE, "c1"), AUDITOR, who(Role.PUBLIC)],
    ids=str,
)
async def test_only_the_countys_administrator_establishes_and_configures_it(
    principal: Principal,
) -> None:
    w = await world()
    m = w.memory
    await refused(
        m,
        Forbidden,
        lambda: h.establish_county(
            m.as_(principal), c.EstablishCounty(county_id="c1", name="县"), principal
        ),
    )
    await refused(
        m,
        Forbidden,
        lambda: h.set_calendar(
            m.as_(principal),
            "c1",
            c.SetPledgeCalendar(year=2028, drafting_deadline="2028-03-01"),
            principal,
        ),
    )
    await refused(
        m,
        Forbidden,
        lambda: h.configure_categories(
            m.as_(principal),
            "c1",
            c.ConfigureCategories(kind="village", categories=("水利",)),
            principal,
        ),
    )
    await refused(
        m,
        Forbidden,
        lambda: h.establish_township(
            m.as_(principal), "c1", c.EstablishTownship(name="丁镇"), principal
        ),
    )
    await refused(
        m,
        Forbidden,
        lambda: h.appoint_township_head(
            m.as_(principal), w.t, c.AppointTownshipHead(person_id="h1", name="镇长"), principal
        ),
    )


async def test_county_decisions_and_their_bad_input() -> None:
    w = await world()
    m = w.memory
    await refused(
        m,
        InvalidState,
        lambda: h.establish_county(
            m.as_(ADMIN), c.EstablishCounty(county_id="c1", name="又一县"), ADMIN
        ),
    )
    await refused(
        m,
        NotFound,
        lambda: h.establish_township(m.as_(ADMIN), "c9", c.EstablishTownship(name="镇"), ADMIN),
    )
    error = await refused(
        m,
        InvalidInput,
        lambda: h.set_calendar(
            m.as_(ADMIN),
            "c1",
            c.SetPledgeCalendar(year=2028, drafting_deadline="2029-03-01"),
            ADMIN,
        ),
    )
    assert named(error) == ["drafting_deadline"]
    await h.set_calendar(
        m.as_(ADMIN), "c1", c.SetPledgeCalendar(year=2028, drafting_deadline="2028-03-01"), ADMIN
    )
    assert m.types()[-1] == "PledgeCalendarSet"
    await h.configure_categories(
        m.as_(ADMIN),
        "c1",
        c.ConfigureCategories(kind="village", categories=("水利", "道路")),
        ADMIN,
    )
    assert last(m)["categories"] == ["水利", "道路"]
    await h.appoint_township_head(
        m.as_(ADMIN), w.t, c.AppointTownshipHead(person_id="h1", name="镇长"), ADMIN
    )
    assert last(m) == {"township_id": w.t, "person_id": "h1", "name": "镇长"}


async def test_a_township_keeps_its_own_branches_and_members_only() -> None:
    w = await world()
    m = w.memory
    own, other = w.office(), w.office(w.t2)
    cmd = c.EstablishBranch(township_id=w.t, name="新支部", kind="school")
    for stranger in (other, w.committee(), w.secretary, OTHER_ADMIN):
        await refused(m, Forbidden, lambda s=stranger: h.establish_branch(m.as_(s), cmd, s))
        await refused(
            m,
            Forbidden,
            lambda s=stranger: h.enrol_member(
                m.as_(s), c.EnrolMember(branch_id=w.b, name="李四", post="党员", duties="值班"), s
            ),
        )
        await refused(
            m,
            Forbidden,
            lambda s=stranger: h.retire_member(m.as_(s), w.m, c.Retire(reason="迁出"), s),
        )
    result = await h.establish_branch(m.as_(own), cmd, own)
    assert result["events"] == ["BranchEstablished"]
    assert last(m)["township_id"] == w.t
    assert last(m)["county_id"] == "c1"
    await h.assign_post(
        m.as_(own), w.m, c.AssignPost(post="委员", duties="组织", leadership_team=True), own
    )
    assert last(m)["leadership_team"] is True
    await h.retire_member(m.as_(own), w.m, c.Retire(reason="迁出"), own)
    assert m.types()[-1] == "MemberRetired"
    await refused(
        m, InvalidState, lambda: h.retire_member(m.as_(own), w.m, c.Retire(reason="又迁出"), own)
    )
    error = await refused(
        m,
        InvalidInput,
        lambda: h.appoint_secretary(m.as_(own), w.b, c.AppointSecretary(member_id=w.m), own),
    )
    assert named(error) == ["member_id"]
    await refused(
        m,
        NotFound,
        lambda: h.appoint_secretary(m.as_(own), w.b, c.AppointSecretary(member_id="m-none"), own),
    )
    await refused(m, NotFound, lambda: h.enrol_member(
        m.as_(own), c.EnrolMember(branch_id="b-none", name="李四", post="党员", duties="值班"), own
    ))  # fmt: skip


async def test_only_the_county_moves_a_branch_and_members_transfer_within_the_county() -> None:
    w = await world()
    m = w.memory
    for stranger in (w.office(), OTHER_ADMIN):
        await refused(
            m,
            Forbidden,
            lambda s=stranger: h.move_branch(m.as_(s), w.b2, c.MoveBranch(township_id=w.t), s),
        )
    error = await refused(
        m,
        InvalidInput,
        lambda: h.move_branch(m.as_(ADMIN), w.b2, c.MoveBranch(township_id=w.t3), ADMIN),
    )
    assert named(error) == ["township_id"]
    await h.move_branch(m.as_(ADMIN), w.b2, c.MoveBranch(township_id=w.t), ADMIN)
    moved = m.events[-1]
    assert moved.type == "BranchMoved"
    assert moved.partition == w.t  # the branch's events now belong to its new township
    error = await refused(
        m,
        InvalidInput,
        lambda: h.transfer_member(m.as_(ADMIN), w.m, c.TransferMember(branch_id=w.b3), ADMIN),
    )
    assert named(error) == ["branch_id"]
    await refused(
        m,
        Forbidden,
        lambda: h.transfer_member(
            m.as_(w.office(w.t2)), w.m, c.TransferMember(branch_id=w.b2), w.office(w.t2)
        ),
    )
    await h.transfer_member(m.as_(w.office()), w.m, c.TransferMember(branch_id=w.b2), w.office())
    assert last(m)["to_branch_id"] == w.b2
    await h.retire_branch(m.as_(w.office()), w.b2, c.Retire(reason="合并"), w.office())
    assert m.types()[-1] == "BranchRetired"
    await refused(
        m,
        InvalidState,
        lambda: h.draft_pledge(m.as_(ADMIN), c.DraftPledge(year=2027, branch_id=w.b2), ADMIN),
    )


# --- pledges ----------------------------------------------------------------------------


def item(title: str = "修缮水渠", **extra: Any) -> dict[str, Any]:
    return {
        "title": title,
        "description": "修缮村东水渠两公里",
        "category": "治沙造林",
        "target": "年底前完工",
        "due_date": "2027-11-30",
        **extra,
    }


async def drafted(w: World) -> str:
    result = await h.draft_pledge(
        w.uow(w.secretary), c.DraftPledge(year=2027, branch_id=w.b), w.secretary
    )
    return str(result["id"])


async def test_who_drafts_a_branch_and_a_personal_pledge() -> None:
    w = await world()
    m = w.memory
    branch = c.DraftPledge(year=2027, branch_id=w.b)
    personal = c.DraftPledge(year=2027, branch_id=w.b, member_id=w.m)
    for stranger in (w.member, w.office(), w.committee(), ADMIN, who(Role.BRANCH_SECRETARY, w.b2)):
        await refused(m, Forbidden, lambda s=stranger: h.draft_pledge(m.as_(s), branch, s))
    for stranger in (
        who(Role.MEMBER, w.b, w.s),
        ADMIN,
        w.office(),
        who(Role.BRANCH_SECRETARY, w.b2),
    ):
        await refused(m, Forbidden, lambda s=stranger: h.draft_pledge(m.as_(s), personal, s))
    pledge_id = await drafted(w)
    assert last(m)["pledger_kind"] == "branch"
    assert last(m)["standard"] == "five_good"
    await refused(m, InvalidState, lambda: h.draft_pledge(m.as_(w.secretary), branch, w.secretary))
    result = await h.draft_pledge(m.as_(w.member), personal, w.member)
    assert result["id"] != pledge_id
    assert last(m)["member_id"] == w.m
    assert last(m)["entered_by"] is None
    error = await refused(
        m,
        InvalidInput,
        lambda: h.draft_pledge(
            m.as_(w.member), c.DraftPledge(year=2028, branch_id=w.b2, member_id=w.m), w.member
        ),
    )
    assert named(error) == ["member_id"]
    await refused(
        m,
        NotFound,
        lambda: h.draft_pledge(
            m.as_(w.member), c.DraftPledge(year=2028, branch_id="b-x"), w.member
        ),
    )


async def test_the_secretary_enters_a_members_paper_pledge_on_the_members_behalf() -> None:
    """A member who writes the pledge on paper: the branch secretary drafts, proposes and
    resubmits it, recorded as entered on the member's behalf (the secretary the actor, the
    member named); a branch pledge stays the secretary's own."""
    w = await world()
    m = w.memory
    sec = w.secretary
    personal = c.DraftPledge(year=2027, branch_id=w.b, member_id=w.m)
    pledge_id = (await h.draft_pledge(m.as_(sec), personal, sec))["id"]
    drafted_event = m.events[-1]
    assert drafted_event.actor == sec.subject
    assert (drafted_event.data["member_id"], drafted_event.data["entered_by"]) == (
        w.m,
        sec.subject,
    )
    propose = c.ProposePledge(basis="护林员岗位", items=[item()])
    await h.propose(m.as_(sec), pledge_id, propose, sec)
    assert last(m)["entered_by"] == sec.subject
    other = who(Role.BRANCH_SECRETARY, w.b2)
    await refused(m, Forbidden, lambda: h.propose(m.as_(other), pledge_id, propose, other))
    branch = await drafted(w)
    assert last(m)["entered_by"] is None  # the branch's own pledge is the secretary's
    assert branch != pledge_id


async def test_a_pledge_from_draft_to_closed_items_each_step_by_its_holder() -> None:
    w = await world()
    m = w.memory
    pledge_id = await drafted(w)
    sec, office, committee = w.secretary, w.office(), w.committee()
    opinion = await h.record_opinion(
        m.as_(sec),
        pledge_id,
        c.RecordOpinion(channel="talk", gathered_on="2027-06-01", summary="群众盼修渠"),
        sec,
    )
    await refused(
        m,
        Forbidden,
        lambda: h.record_opinion(
            m.as_(w.member),
            pledge_id,
            c.RecordOpinion(channel="talk", gathered_on="2027-06-01", summary="意见"),
            w.member,
        ),
    )
    propose = c.ProposePledge(
        basis="依据群众意见",
        items=[item(shaped_by=(opinion["opinion_id"],)), item("硬化道路", category="水权管理")],
    )
    error = await refused(
        m,
        InvalidInput,
        lambda: h.propose(
            m.as_(sec),
            pledge_id,
            c.ProposePledge(basis="依据", items=[item(category="无此类")]),
            sec,
        ),
    )
    assert named(error) == ["items.0.category"]
    error = await refused(
        m,
        InvalidInput,
        lambda: h.propose(
            m.as_(sec),
            pledge_id,
            c.ProposePledge(basis="依据", items=[item(due_date="2027-06-01")]),
            sec,
        ),
    )
    assert named(error) == ["items.0.due_date"]
    await refused(m, Forbidden, lambda: h.propose(m.as_(w.member), pledge_id, propose, w.member))
    result = await h.propose(m.as_(sec), pledge_id, propose, sec)
    first, second = result["item_ids"]
    assert result["events"] == ["PledgeProposed"]

    def review(item_id: str, decision: str, guidance: str | None = None) -> c.ReviewItem:
        return c.ReviewItem(
            shows_advanced_standard=True,
            matches_wishes=True,
            feasible=True,
            decision=decision,
            guidance=guidance,
        )

    for stranger in (office, w.committee(w.t2), sec, ADMIN):
        await refused(
            m,
            Forbidden,
            lambda s=stranger: h.review_item(
                m.as_(s), pledge_id, first, review(first, "approve"), s
            ),
        )
    error = await refused(
        m,
        InvalidInput,
        lambda: h.review_item(
            m.as_(committee), pledge_id, first, review(first, "return"), committee
        ),
    )
    assert named(error) == ["guidance"]
    await h.review_item(m.as_(committee), pledge_id, first, review(first, "approve"), committee)
    result = await h.review_item(
        m.as_(committee), pledge_id, second, review(second, "return", "再具体些"), committee
    )
    assert result["events"] == ["ItemReviewed", "PledgeReturned"]
    assert result["status"] == "returned"
    resubmit = c.ResubmitPledge(
        note="已细化", items={second: item("硬化道路三公里", category="水权管理")}
    )
    await refused(
        m, Forbidden, lambda: h.resubmit(m.as_(committee), pledge_id, resubmit, committee)
    )
    error = await refused(
        m,
        InvalidInput,
        lambda: h.resubmit(
            m.as_(sec), pledge_id, c.ResubmitPledge(note="改", items={first: item()}), sec
        ),
    )
    assert named(error) == ["items"]
    assert (await h.resubmit(m.as_(sec), pledge_id, resubmit, sec))["round"] == 2
    result = await h.review_item(
        m.as_(committee), pledge_id, second, review(second, "approve"), committee
    )
    assert result["events"] == ["ItemReviewed", "PledgeApproved"]
    await refused(m, Forbidden, lambda: h.publish(m.as_(w.member), pledge_id, w.member))
    assert (await h.publish(m.as_(sec), pledge_id, sec))["events"] == ["PledgePublished"]

    # fulfilment: the pledger reports, the township office follows up, confirms, verifies
    progress = c.ReportProgress(
        summary="已完成一半", percent=50, evidence=[{"description": "照片"}]
    )
    await refused(
        m, Forbidden, lambda: h.report_progress(m.as_(office), pledge_id, first, progress, office)
    )
    await refused(
        m, InvalidInput, lambda: h.report_progress(m.as_(sec), pledge_id, "i-none", progress, sec)
    )
    assert "report_id" in await h.report_progress(m.as_(sec), pledge_id, first, progress, sec)
    # evidence files: attached by their hashes, recorded with the stored size and type
    photo = "e" * 64
    m.ports[FileCatalog] = Uploaded((photo, sec.subject))
    with_photo = c.ReportProgress(
        summary="水渠修好一段", percent=60, files=[{"sha256": photo, "name": "现场.jpg"}]
    )
    await h.report_progress(m.as_(sec), pledge_id, first, with_photo, sec)
    assert last(m)["files"] == [
        {"sha256": photo, "size": 10, "media_type": "application/pdf", "name": "现场.jpg"}
    ]
    stranger = c.RecordFollowUp(note="现场查看", files=[{"sha256": photo, "name": "x.jpg"}])
    await refused(  # the office did not upload it: a 422 naming the field, nothing appended
        m, InvalidInput, lambda: h.follow_up(m.as_(office), pledge_id, first, stranger, office)
    )
    note = c.RecordFollowUp(note="现场查看")
    await refused(m, Forbidden, lambda: h.follow_up(m.as_(sec), pledge_id, first, note, sec))
    assert "follow_up_id" in await h.follow_up(m.as_(office), pledge_id, first, note, office)
    assert last(m)["files"] == []
    await refused(
        m, InvalidState, lambda: h.confirm_solved(m.as_(office), pledge_id, first, note, office)
    )
    await refused(
        m,
        Forbidden,
        lambda: h.report_done(
            m.as_(office), pledge_id, first, c.ReportDone(summary="完工"), office
        ),
    )
    await h.report_done(m.as_(sec), pledge_id, first, c.ReportDone(summary="完工"), sec)
    await refused(
        m,
        InvalidState,
        lambda: h.report_done(m.as_(sec), pledge_id, first, c.ReportDone(summary="完工"), sec),
    )
    for act in (h.confirm_solved, h.verify_implementation):
        await refused(m, Forbidden, lambda a=act: a(m.as_(sec), pledge_id, first, note, sec))
        await refused(
            m,
            Forbidden,
            lambda a=act: a(m.as_(w.office(w.t2)), pledge_id, first, note, w.office(w.t2)),
        )
        await act(m.as_(office), pledge_id, first, note, office)
    assert m.types()[-2:] == ["ProblemSolvedConfirmed", "ImplementationVerified"]  # no verdict yet

    # the policy: the evaluation service's verdict closes the item (P10c)
    by_type = {s.event_type: s for s in subscriptions(m)}
    assert sorted(by_type) == [
        "SatisfactionCheckExtended",
        "SatisfactionCheckLapsed",
        "SatisfactionVerdictReached",
    ]
    subscription, lapse = by_type["SatisfactionVerdictReached"], by_type["SatisfactionCheckLapsed"]
    assert subscription.source == lapse.source == "evaluation"
    # a check with no ballot: no verdict, the item stays open as not rated (E8)
    assert lapse.handler is not None
    await lapse.handler(None, await lapsed_event(pledge_id, first, w.t))
    assert m.types()[-1] == "SatisfactionNotRated"
    assert m.events[-1].data["open_reasons"] == ["satisfaction_not_rated"]
    assert subscription.handler is not None
    verdict = await verdict_event(pledge_id, first, w.t)
    await subscription.handler(None, verdict)
    assert m.types()[-2:] == ["SatisfactionVerdictRecorded", "ItemClosed"]
    assert m.events[-1].causationid == verdict.id
    assert m.events[-1].actor == "service:evaluation"
    before = len(m.events)
    await subscription.handler(None, verdict)  # closed: ignored
    await subscription.handler(None, await verdict_event("p-none", first, w.t))
    assert len(m.events) == before
    await refused(
        m, InvalidState, lambda: h.report_progress(m.as_(sec), pledge_id, first, progress, sec)
    )

    # each quarter, the township office pushes the pledge forward (P11)
    push = c.PushQuarter(quarter="2027Q2", assessment="进展顺利", next_steps="继续推进")
    await refused(m, Forbidden, lambda: h.push_quarter(m.as_(sec), pledge_id, push, sec))
    await h.push_quarter(m.as_(office), pledge_id, push, office)
    await refused(m, InvalidState, lambda: h.push_quarter(m.as_(office), pledge_id, push, office))
    error = await refused(
        m,
        InvalidInput,
        lambda: h.push_quarter(
            m.as_(office),
            pledge_id,
            c.PushQuarter(quarter="2030Q1", assessment="评", next_steps="步"),
            office,
        ),
    )
    assert named(error) == ["quarter"]


async def test_steps_out_of_order_are_refused_with_nothing_appended() -> None:
    w = await world()
    m = w.memory
    pledge_id = await drafted(w)
    await refused(m, InvalidState, lambda: h.publish(m.as_(w.secretary), pledge_id, w.secretary))
    await refused(
        m,
        InvalidState,
        lambda: h.push_quarter(
            m.as_(w.office()),
            pledge_id,
            c.PushQuarter(quarter="2027Q2", assessment="评", next_steps="步"),
            w.office(),
        ),
    )
    await refused(
        m,
        InvalidState,
        lambda: h.resubmit(
            m.as_(w.secretary),
            pledge_id,
            c.ResubmitPledge(note="改", items={"x": item()}),
            w.secretary,
        ),
    )
    await refused(m, NotFound, lambda: h.publish(m.as_(w.secretary), "p-none", w.secretary))


async def lapsed_event(pledge_id: str, item_id: str, township_id: str) -> EventEnvelope:
    """The evaluation service's event for a check that ended with no ballot."""
    evaluation = InMemoryEventStore("/gongkai/evaluation")
    [envelope] = await evaluation.append(
        AppendRequest(
            "satisfaction_check-k0",
            township_id,
            0,
            (
                SatisfactionCheckLapsed(
                    check_id="k0",
                    pledge_id=pledge_id,
                    item_id=item_id,
                    township_id=township_id,
                    closes_on=date(2027, 6, 29),
                ),
            ),
            CommandContext(actor="service:evaluation", role="integration"),
        )
    )
    return envelope


async def verdict_event(pledge_id: str, item_id: str, township_id: str) -> EventEnvelope:
    """The evaluation service's event, as its store would publish it."""
    evaluation = InMemoryEventStore("/gongkai/evaluation")
    [envelope] = await evaluation.append(
        AppendRequest(
            "satisfaction_check-k1",
            township_id,
            0,
            (
                SatisfactionVerdictReached(
                    check_id="k1",
                    pledge_id=pledge_id,
                    item_id=item_id,
                    township_id=township_id,
                    verdict="satisfied",
                    satisfaction_rate=0.9,
                    ballots=10,
                    threshold=0.8,
                ),
            ),
            CommandContext(actor="service:evaluation", role="integration"),
        )
    )
    return envelope


async def test_the_secretary_records_the_opinions_gathered_on_the_members_behalf() -> None:
    """Issue 18: a member with no phone; the branch's secretary records the opinions she
    gathered, recorded as entered on her behalf (the secretary the actor); another branch's
    secretary may not; the member's own opinion is hers (None), and an opinion written
    before the field reads as the pledger's own."""
    w = await world()
    m = w.memory
    sec = w.secretary
    personal = c.DraftPledge(year=2027, branch_id=w.b, member_id=w.m)
    pledge_id = (await h.draft_pledge(m.as_(sec), personal, sec))["id"]
    opinion = c.RecordOpinion(channel="talk", gathered_on="2027-06-01", summary="群众盼修渠")
    result = await h.record_opinion(m.as_(sec), pledge_id, opinion, sec)
    assert result["events"] == ["OpinionRecorded"]
    assert m.events[-1].actor == sec.subject
    assert last(m)["entered_by"] == sec.subject
    for stranger in (who(Role.BRANCH_SECRETARY, w.b2), w.office(), w.committee()):
        error = await refused(
            m, Forbidden, lambda s=stranger: h.record_opinion(m.as_(s), pledge_id, opinion, s)
        )
        assert "代为录入" in str(error)
    await h.record_opinion(m.as_(w.member), pledge_id, opinion, w.member)
    assert last(m)["entered_by"] is None
    old = {k: v for k, v in last(m).items() if k != "entered_by"}
    assert REGISTRY.decode("OpinionRecorded", 1, old).entered_by is None  # type: ignore[attr-defined]


async def test_the_secretarys_own_pledge_written_with_her_secretary_hat_is_her_own() -> None:
    """A branch secretary drafting, recording opinions for and proposing her own member
    pledge while wearing the secretary's hat writes as the pledger: not 代为录入 (entered_by
    stays None), where a member's she enters is recorded so."""
    w = await world()
    m, sec = w.memory, w.secretary
    own = c.DraftPledge(year=2027, branch_id=w.b, member_id=w.s)
    pledge_id = (await h.draft_pledge(m.as_(sec), own, sec))["id"]
    assert last(m)["entered_by"] is None
    opinion = c.RecordOpinion(channel="talk", gathered_on="2027-06-01", summary="群众盼修渠")
    await h.record_opinion(m.as_(sec), pledge_id, opinion, sec)
    assert last(m)["entered_by"] is None
    members = c.DraftPledge(year=2027, branch_id=w.b, member_id=w.m)
    await h.draft_pledge(m.as_(sec), members, sec)
    assert last(m)["entered_by"] == sec.subject  # hers to enter, on the member's behalf


async def test_a_member_who_moved_is_entered_for_by_her_new_branchs_secretary() -> None:
    """A member's pledge entered on her behalf: after she transfers to another branch, her
    old branch's secretary may no longer write it, her new branch's may (recorded so)."""
    w = await world()
    m, old = w.memory, w.secretary
    personal = c.DraftPledge(year=2027, branch_id=w.b, member_id=w.m)
    pledge_id = (await h.draft_pledge(m.as_(old), personal, old))["id"]
    await h.move_branch(m.as_(ADMIN), w.b2, c.MoveBranch(township_id=w.t), ADMIN)
    await h.transfer_member(m.as_(w.office()), w.m, c.TransferMember(branch_id=w.b2), w.office())
    opinion = c.RecordOpinion(channel="talk", gathered_on="2027-06-01", summary="群众盼修渠")
    await refused(m, Forbidden, lambda: h.record_opinion(m.as_(old), pledge_id, opinion, old))
    new = who(Role.BRANCH_SECRETARY, w.b2, "s-new")
    await h.record_opinion(m.as_(new), pledge_id, opinion, new)
    assert last(m)["entered_by"] == "s-new"
