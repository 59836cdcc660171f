"""Every command handler and policy of the review service, with no server: the real handlers
on the real unit of work, over an in-memory event store and the copies in memory
(tests/support). Who may (R1, R6, R7), who gets 403, what is decided (the events out) and
what is refused with nothing appended. The e2e tests keep the HTTP and PostgreSQL parts."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import date
from typing import Any

import pytest

from services.review import commands as c
from services.review import handlers as h
from services.review.events import DIMENSIONS, SubjectKind
from services.review.policies import subscriptions
from shared.auth import Principal, Role
from shared.errors import Forbidden, GongkaiError, InvalidInput, InvalidState, NotFound
from shared.files import FileCatalog
from shared.unit_of_work import UnitOfWork
from tests.support.memory import Memory, Uploaded
from tests.support.review import MemoryCopies, review_memory


def who(role: Role, org: str | None = None, subject: str | None = None) -> Principal:
    return Principal(subject=subject or f"{role.value}-{org}", role=role, org=org, name="某某")


COMMITTEE = who(Role.TOWNSHIP_COMMITTEE, "t1")  # the committee's own account
HEAD = who(Role.TOWNSHIP_COMMITTEE, "t1", "h1")  # the head the directory names
SECRETARY = who(Role.BRANCH_SECRETARY, "b1", "s1")
MEMBER = who(Role.MEMBER, "b1", "m1")
ROLES: dict[str, Principal] = {
    "township committee's account, a head being named": COMMITTEE,
    "township head": HEAD,
    "township head, by subject": who(Role.TOWNSHIP_COMMITTEE, None, "h1"),
    "committee of another township": who(Role.TOWNSHIP_COMMITTEE, "t2"),
    "township office": who(Role.TOWNSHIP_OFFICE, "t1"),
    "county administrator": who(Role.COUNTY_ADMIN, "c1"),
    "branch secretary": SECRETARY,
    "branch secretary role, not the appointed secretary": who(Role.BRANCH_SECRETARY, "b1", "x"),
    "secretary of another branch": who(Role.BRANCH_SECRETARY, "b2", "s2"),
    "the ordinary member": MEMBER,
    "another member of the branch": who(Role.MEMBER, "b1", "m2"),
    "rater": who(Role.RATER, "t1"),
    "auditor": who(Role.AUDITOR),
    "integration": who(Role.INTEGRATION),
    "public": who(Role.PUBLIC),
}
SUBJECTS = {
    "branch": (SubjectKind.BRANCH, "b1"),
    "leadership-team member": (SubjectKind.MEMBER, "s1"),
    "ordinary member": (SubjectKind.MEMBER, "m1"),
}
MAY_REVIEW = {
    ("township head", "branch"),
    ("township head", "leadership-team member"),
    ("township head, by subject", "branch"),
    ("township head, by subject", "leadership-team member"),
    ("branch secretary", "ordinary member"),
}


def world() -> tuple[Memory, MemoryCopies]:
    """County c1: township t1 (head h1) with branch b1 (secretary s1, members m1 and m2)
    and b2 (secretary s2); township t2 with branch b3. Today 2027-06-15."""
    memory, copies = review_memory()
    d = copies.directory
    d.township("t1", head="h1")
    d.township("t2")
    for branch, township in (("b1", "t1"), ("b2", "t1"), ("b3", "t2")):
        d.branch(branch, township)
    d.member("s1", "b1", leadership_team=True)
    d.secretary("b1", "s1")
    d.member("m1", "b1")
    d.member("m2", "b1")
    d.member("s2", "b2", leadership_team=True)
    d.secretary("b2", "s2")
    return memory, copies


def review(kind: SubjectKind, subject_id: str, **extra: Any) -> c.RecordReview:
    return c.RecordReview.model_validate(
        {
            "subject_kind": kind,
            "subject_id": subject_id,
            "occasion": "organisation_life_meeting",
            "held_on": "2027-06-10",
            "achievements": "节水改造按期推进",
            "shortcomings": "群众参与不够",
            "direction": "多开院坝会",
            "assessments": {
                d.value: {"grade": "qualified", "comment": "较好"} for d in DIMENSIONS[kind]
            },
            **extra,
        }
    )


def correction(kind: SubjectKind, **extra: Any) -> c.CorrectReview:
    fields = review(kind, "x").model_dump(exclude={"subject_kind", "subject_id", "reviewer_name"})
    return c.CorrectReview.model_validate({**fields, "reason": "评语有误", **extra})


async def refused(
    memory: Memory, error: type[GongkaiError], act: Callable[[], Awaitable[Any]]
) -> GongkaiError:
    """The command is refused with `error`, and nothing is appended."""
    before = len(memory.events)
    with pytest.raises(error) as caught:
        await act()
    assert len(memory.events) == before
    return caught.value


def named(error: GongkaiError) -> list[str]:
    """The fields an invalid-input problem names."""
    return [e["field"] for e in error.extra["errors"]]


def data(memory: Memory, index: int = -1) -> dict[str, Any]:
    return memory.events[index].data


# --- leadership reviews (R1–R4) ---------------------------------------------------------

MATRIX = [(role, subject) for role in ROLES for subject in SUBJECTS]


@pytest.mark.parametrize(("role", "subject"), MATRIX, ids=[f"{r} / {s}" for r, s in MATRIX])
async def test_who_may_review_whom(role: str, subject: str) -> None:
    memory, _ = world()
    kind, subject_id = SUBJECTS[subject]
    principal = ROLES[role]

    async def act() -> dict[str, Any]:
        return await h.record_review(memory.as_(principal), review(kind, subject_id), principal)

    if (role, subject) in MAY_REVIEW:
        result = await act()
        assert result["events"] == ["ReviewRecorded"]
        assert memory.types() == ["ReviewRecorded"]
        assert data(memory)["subject_id"] == subject_id
        assert memory.events[0].actor == principal.subject
    else:
        await refused(memory, Forbidden, act)


async def test_until_a_head_is_named_the_committees_account_reviews_for_the_head() -> None:
    memory, _ = world()
    result = await h.record_review(
        memory.as_(who(Role.TOWNSHIP_COMMITTEE, "t2")),
        review(SubjectKind.BRANCH, "b3"),
        who(Role.TOWNSHIP_COMMITTEE, "t2"),
    )
    assert result["events"] == ["ReviewRecorded"]


async def test_a_review_records_the_pledge_status_the_copy_shows_and_its_quarter() -> None:
    memory, copies = world()
    copies.apply(
        "PledgeDrafted",
        {
            "pledge_id": "p1",
            "year": 2027,
            "branch_id": "b1",
            "member_id": None,
            "township_id": "t1",
        },
    )
    copies.apply("PledgeProposed", {"pledge_id": "p1", "items": [{"item_id": i} for i in "xyz"]})
    copies.apply("PledgePublished", {"pledge_id": "p1", "item_ids": ["x", "y", "z"]})
    copies.apply("ItemClosed", {"pledge_id": "p1", "item_id": "y"})
    result = await h.record_review(memory.as_(HEAD), review(SubjectKind.BRANCH, "b1"), HEAD)
    recorded = data(memory)
    assert result["quarter"] == recorded["quarter"] == "2027Q2"
    assert recorded["pledge_status"] == {
        "year": 2027, "pledge_id": "p1", "status": "published",
        "items_total": 3, "items_open": 2, "items_closed": 1,
    }  # fmt: skip
    assert recorded["reviewer_id"] == "h1"
    assert recorded["reviewer_name"] == "某某"
    # a member without a pledge that year: "none", not the branch's pledge
    await h.record_review(memory.as_(SECRETARY), review(SubjectKind.MEMBER, "m1"), SECRETARY)
    assert data(memory)["pledge_status"]["status"] == "none"


async def test_a_former_secretary_no_longer_reviews_the_members() -> None:
    memory, copies = world()
    copies.directory.apply("MemberTransferred", {
        "member_id": "s1", "from_branch_id": "b1", "to_branch_id": "b2", "to_township_id": "t1",
    })  # fmt: skip
    await refused(
        memory,
        Forbidden,
        lambda: h.record_review(memory.as_(SECRETARY), review(SubjectKind.MEMBER, "m1"), SECRETARY),
    )


@pytest.mark.parametrize(
    ("extra", "field"),
    [
        ({"held_on": "2027-06-16"}, "held_on"),  # tomorrow
        ({"held_on": "1999-12-31"}, "held_on"),
        ({"occasion": "ad_hoc", "cadence": "quarterly"}, "cadence"),
        ({"assessments": {"key_work": {"grade": "excellent", "comment": "好"}}}, "assessments"),
    ],
)
async def test_a_review_that_breaks_a_rule_is_refused_naming_the_field(
    extra: dict[str, Any], field: str
) -> None:
    memory, _ = world()
    error = await refused(
        memory,
        InvalidInput,
        lambda: h.record_review(memory.as_(HEAD), review(SubjectKind.BRANCH, "b1", **extra), HEAD),
    )
    assert named(error) == [field]


async def test_a_review_of_an_unknown_or_retired_subject_is_refused() -> None:
    memory, copies = world()
    error = await refused(
        memory,
        InvalidInput,
        lambda: h.record_review(memory.as_(HEAD), review(SubjectKind.BRANCH, "b9"), HEAD),
    )
    assert named(error) == ["subject_id"]
    copies.directory.apply("BranchRetired", {"branch_id": "b1", "reason": "合并"})
    await refused(
        memory,
        InvalidState,
        lambda: h.record_review(memory.as_(HEAD), review(SubjectKind.BRANCH, "b1"), HEAD),
    )


async def test_a_correction_supersedes_and_only_whoever_may_review_now_corrects() -> None:
    memory, copies = world()
    first = await h.record_review(memory.as_(HEAD), review(SubjectKind.BRANCH, "b1"), HEAD)
    review_id = first["id"]
    for stranger in (SECRETARY, COMMITTEE, who(Role.TOWNSHIP_COMMITTEE, "t2")):
        await refused(
            memory,
            Forbidden,
            lambda s=stranger: h.correct_review(
                memory.as_(s), review_id, correction(SubjectKind.BRANCH), s
            ),
        )
    result = await h.correct_review(
        memory.as_(HEAD), review_id, correction(SubjectKind.BRANCH, held_on="2027-04-02"), HEAD
    )
    assert result["events"] == ["ReviewCorrected"]
    corrected = data(memory)
    assert corrected["corrects_review_id"] == review_id == corrected["original_review_id"]
    assert result["version_id"] == corrected["review_id"] != review_id
    assert corrected["reason"] == "评语有误"
    # a new head is named: the former one may no longer correct, the new one may (D3)
    copies.directory.apply(
        "TownshipHeadAppointed", {"township_id": "t1", "person_id": "h2", "name": "新镇长"}
    )
    await refused(
        memory,
        Forbidden,
        lambda: h.correct_review(memory.as_(HEAD), review_id, correction(SubjectKind.BRANCH), HEAD),
    )
    new_head = who(Role.TOWNSHIP_COMMITTEE, "t1", "h2")
    await h.correct_review(
        memory.as_(new_head), review_id, correction(SubjectKind.BRANCH), new_head
    )
    assert memory.types() == ["ReviewRecorded", "ReviewCorrected", "ReviewCorrected"]


async def test_correcting_an_unknown_review_or_into_the_future_is_refused() -> None:
    memory, _ = world()
    await refused(
        memory,
        NotFound,
        lambda: h.correct_review(memory.as_(HEAD), "r-none", correction(SubjectKind.BRANCH), HEAD),
    )
    first = await h.record_review(memory.as_(HEAD), review(SubjectKind.BRANCH, "b1"), HEAD)
    error = await refused(
        memory,
        InvalidInput,
        lambda: h.correct_review(
            memory.as_(HEAD),
            first["id"],
            correction(SubjectKind.BRANCH, held_on="2027-07-01"),
            HEAD,
        ),
    )
    assert named(error) == ["held_on"]


# --- responsible leaders (R1: 创先办安排负责人…普遍开展点评) ------------------------------

OFFICE = who(Role.TOWNSHIP_OFFICE, "t1")
DEPUTY = who(Role.TOWNSHIP_COMMITTEE, "t1", "l1")  # a leader of the township, not its head


async def test_the_office_assigns_leaders_and_an_assigned_leader_reviews_the_branch() -> None:
    memory, copies = world()
    seat = {"person_id": "l1", "role": "township_committee", "org": "t1"}
    copies.apply("PostStarted", seat)  # the deputy sits on the committee (identity's post)
    assign = c.AssignLeader(leader_id="l1", leader_name="王副书记")
    # before the assignment the deputy reviews nobody; the head reviews every branch
    await refused(
        memory,
        Forbidden,
        lambda: h.record_review(memory.as_(DEPUTY), review(SubjectKind.BRANCH, "b1"), DEPUTY),
    )
    for name, principal in ROLES.items():
        if name != "township office":
            await refused(
                memory,
                Forbidden,
                lambda p=principal: h.assign_leader(memory.as_(p), "b1", assign, p),
            )
    await refused(
        memory, NotFound, lambda: h.assign_leader(memory.as_(OFFICE), "b9", assign, OFFICE)
    )
    result = await h.assign_leader(memory.as_(OFFICE), "b1", assign, OFFICE)
    assert result["events"] == ["LeaderAssigned"]
    assert data(memory) | {"assigned_on": None} == {
        "township_id": "t1", "branch_id": "b1", "leader_id": "l1", "leader_name": "王副书记",
        "assigned_on": None,
    }  # fmt: skip
    await refused(
        memory, InvalidState, lambda: h.assign_leader(memory.as_(OFFICE), "b1", assign, OFFICE)
    )
    # the assigned leader reviews the branch, its leadership team and its secretary
    for kind, subject_id in ((SubjectKind.BRANCH, "b1"), (SubjectKind.MEMBER, "s1")):
        await h.record_review(memory.as_(DEPUTY), review(kind, subject_id), DEPUTY)
        assert data(memory)["reviewer_id"] == "l1"
    # not the branch's ordinary members (the secretary's), nor another branch
    for kind, subject_id in ((SubjectKind.MEMBER, "m1"), (SubjectKind.BRANCH, "b2")):
        await refused(
            memory,
            Forbidden,
            lambda k=kind, s=subject_id: h.record_review(memory.as_(DEPUTY), review(k, s), DEPUTY),
        )
    # the head keeps the authority for every branch, assigned or not
    await h.record_review(memory.as_(HEAD), review(SubjectKind.BRANCH, "b1"), HEAD)
    await h.record_review(memory.as_(HEAD), review(SubjectKind.BRANCH, "b2"), HEAD)
    # unassigned: the leader no longer reviews the branch; the reviews made stay
    result = await h.unassign_leader(memory.as_(OFFICE), "b1", "l1", OFFICE)
    assert result["events"] == ["LeaderUnassigned"]
    await refused(
        memory,
        Forbidden,
        lambda: h.record_review(memory.as_(DEPUTY), review(SubjectKind.BRANCH, "b1"), DEPUTY),
    )
    await refused(
        memory, InvalidState, lambda: h.unassign_leader(memory.as_(OFFICE), "b1", "l1", OFFICE)
    )
    assert memory.types().count("ReviewRecorded") == 4


# --- work journal (R6) ------------------------------------------------------------------


def entry(day: str = "2027-06-03", **extra: Any) -> dict[str, Any]:
    return {"recorded_on": day, "work_content": "走访农户", "duty_performance": "按时履职", **extra}


async def write(memory: Memory, member: Principal = MEMBER, **extra: Any) -> dict[str, Any]:
    return await h.record_entry(
        memory.as_(member),
        member.subject,
        "2027-06",
        c.RecordJournalEntry(**entry(**extra)),
        member,
    )


async def test_members_keep_their_own_journal_and_nobody_else_writes_it() -> None:
    memory, _ = world()
    result = await write(memory)
    assert result["events"] == ["JournalEntryRecorded"]
    assert data(memory)["member_id"] == "m1"
    assert data(memory)["month"] == "2027-06"
    assert data(memory)["entered_by"] is None
    for other in (
        ROLES["another member of the branch"],
        ROLES["secretary of another branch"],
        ROLES["branch secretary role, not the appointed secretary"],
        HEAD,
        who(Role.TOWNSHIP_OFFICE, "t1"),
    ):
        await refused(
            memory,
            Forbidden,
            lambda o=other: h.record_entry(
                memory.as_(o), "m1", "2027-06", c.RecordJournalEntry(**entry()), o
            ),
        )


async def test_the_secretary_enters_a_paper_journal_on_the_members_behalf() -> None:
    """R6: a member who keeps the journal on paper; the branch secretary enters it, recorded
    as entered on the member's behalf: the secretary the actor, the member named."""
    memory, _ = world()
    result = await h.record_entry(
        memory.as_(SECRETARY), "m1", "2027-06", c.RecordJournalEntry(**entry()), SECRETARY
    )
    assert result["events"] == ["JournalEntryRecorded"]
    recorded = memory.events[-1]
    assert (recorded.actor, recorded.data["member_id"], recorded.data["entered_by"]) == (
        "s1",
        "m1",
        "s1",
    )
    correction = c.CorrectJournalEntry(**entry(reason="抄录有误"))
    await h.correct_entry(
        memory.as_(SECRETARY), "m1", "2027-06", result["id"], correction, SECRETARY
    )
    assert data(memory)["entered_by"] == "s1"
    # the secretary's own journal is the secretary's as a member, not "on behalf"
    await refused(
        memory,
        Forbidden,
        lambda: h.record_entry(
            memory.as_(SECRETARY), "s1", "2027-06", c.RecordJournalEntry(**entry()), SECRETARY
        ),
    )


async def test_a_journal_entry_outside_its_month_an_unknown_or_retired_member_is_refused() -> None:
    memory, copies = world()
    error = await refused(memory, InvalidInput, lambda: write(memory, day="2027-05-31"))
    assert named(error) == ["recorded_on"]
    await refused(memory, InvalidInput, lambda: write(memory, day="2027-06-16"))  # tomorrow
    stranger = who(Role.MEMBER, "b1", "m9")
    await refused(memory, NotFound, lambda: write(memory, stranger))
    copies.directory.apply("MemberRetired", {"member_id": "m1", "reason": "迁出"})
    await refused(memory, InvalidState, lambda: write(memory))


async def test_a_member_corrects_a_current_entry_of_their_own() -> None:
    memory, _ = world()
    first = await write(memory)

    def correct(member: Principal, entry_id: str) -> Awaitable[dict[str, Any]]:
        cmd = c.CorrectJournalEntry(**entry("2027-06-04", reason="日期有误"))
        return h.correct_entry(memory.as_(member), "m1", "2027-06", entry_id, cmd, member)

    await refused(memory, InvalidState, lambda: correct(SECRETARY, first["id"]))  # her words
    await refused(
        memory, Forbidden, lambda: correct(ROLES["another member of the branch"], first["id"])
    )
    error = await refused(memory, InvalidInput, lambda: correct(MEMBER, "e-none"))
    assert named(error) == ["entry_id"]
    result = await correct(MEMBER, first["id"])
    assert result["events"] == ["JournalEntryCorrected"]
    assert result["corrects"] == first["id"]
    assert data(memory)["corrects_entry_id"] == first["id"]
    # the corrected version is no longer current
    await refused(memory, InvalidInput, lambda: correct(MEMBER, first["id"]))


def presentation(**extra: Any) -> c.EvaluatePresentation:
    return c.EvaluatePresentation.model_validate(
        {"presented_on": "2027-06-12", "grade": "excellent", "evaluation": "述职扎实", **extra}
    )


async def test_the_secretary_evaluates_a_members_presentation_once() -> None:
    memory, _ = world()

    def evaluate(evaluator: Principal, **extra: Any) -> Awaitable[dict[str, Any]]:
        return h.evaluate_presentation(
            memory.as_(evaluator), "m1", "2027-06", presentation(**extra), evaluator
        )

    await refused(memory, InvalidState, lambda: evaluate(SECRETARY))  # no entries yet
    await write(memory)
    for other in (MEMBER, HEAD, ROLES["secretary of another branch"]):
        await refused(memory, Forbidden, lambda o=other: evaluate(o))
    error = await refused(
        memory, InvalidInput, lambda: evaluate(SECRETARY, presented_on="2027-05-30")
    )
    assert named(error) == ["presented_on"]
    result = await evaluate(SECRETARY)
    assert result == {"id": "m1/2027-06", "events": ["MonthlyPresentationEvaluated"]}
    assert data(memory)["evaluator_id"] == "s1"
    assert data(memory)["grade"] == "excellent"
    await refused(memory, InvalidState, lambda: evaluate(SECRETARY))  # evaluated already
    await refused(memory, InvalidState, lambda: write(memory))  # presented: closed


async def test_the_township_evaluates_the_secretarys_own_presentation() -> None:
    memory, _ = world()
    await write(memory, who(Role.MEMBER, "b1", "s1"))  # the secretary writes as a member

    def evaluate(evaluator: Principal) -> Awaitable[dict[str, Any]]:
        return h.evaluate_presentation(
            memory.as_(evaluator), "s1", "2027-06", presentation(), evaluator
        )

    for other in (SECRETARY, MEMBER, who(Role.TOWNSHIP_COMMITTEE, "t2")):
        await refused(memory, Forbidden, lambda o=other: evaluate(o))
    assert (await evaluate(COMMITTEE))["events"] == ["MonthlyPresentationEvaluated"]


# --- guidance visits (R7) ---------------------------------------------------------------


def visit(branch_id: str = "b1", **extra: Any) -> c.RecordGuidanceVisit:
    return c.RecordGuidanceVisit.model_validate(
        {
            "branch_id": branch_id,
            "cadre_name": "王镇长",
            "visited_on": "2027-06-14",
            "summary": "查看节水工程",
            **extra,
        }
    )


@pytest.mark.parametrize("role", list(ROLES))
async def test_who_records_a_guidance_visit(role: str) -> None:
    memory, _ = world()
    principal = ROLES[role]
    allowed = {
        "township committee's account, a head being named",
        "township head",
        "township head, by subject",
        "county administrator",
    }

    async def act() -> dict[str, Any]:
        return await h.record_visit(memory.as_(principal), visit(), principal)

    if role in allowed:
        assert (await act())["events"] == ["GuidanceVisitRecorded"]
        assert data(memory)["cadre_id"] == principal.subject
        assert data(memory)["township_id"] == "t1"
    else:
        await refused(memory, Forbidden, act)


async def test_a_visit_to_an_unknown_or_retired_branch_or_in_the_future_is_refused() -> None:
    memory, copies = world()
    error = await refused(
        memory, InvalidInput, lambda: h.record_visit(memory.as_(HEAD), visit("b9"), HEAD)
    )
    assert named(error) == ["branch_id"]
    error = await refused(
        memory,
        InvalidInput,
        lambda: h.record_visit(memory.as_(HEAD), visit(visited_on=date(2027, 6, 16)), HEAD),
    )
    assert named(error) == ["visited_on"]
    copies.directory.apply("BranchRetired", {"branch_id": "b1", "reason": "合并"})
    await refused(memory, InvalidState, lambda: h.record_visit(memory.as_(HEAD), visit(), HEAD))


async def test_a_visit_journal_entry_and_review_carry_the_files_their_writer_uploaded() -> None:
    memory, _ = world()
    photo = "c" * 64
    memory.ports[FileCatalog] = Uploaded((photo, HEAD.subject))
    attach = {"files": [{"sha256": photo, "name": "座谈会.jpg"}]}
    await h.record_visit(memory.as_(HEAD), visit(**attach), HEAD)
    assert data(memory)["files"] == [
        {"sha256": photo, "size": 10, "media_type": "application/pdf", "name": "座谈会.jpg"}
    ]
    someone = ROLES["county administrator"]
    error = await refused(
        memory, InvalidInput, lambda: h.record_visit(memory.as_(someone), visit(**attach), someone)
    )
    assert named(error) == ["files.0.sha256"]
    await h.record_visit(memory.as_(HEAD), visit(), HEAD)
    assert data(memory)["files"] == []


# --- the unit of work, all or nothing; the policy ---------------------------------------


async def test_a_command_run_as_the_api_runs_it_keeps_nothing_when_refused() -> None:
    memory, _ = world()
    context = memory.as_(HEAD).context

    async def two_reviews(uow: UnitOfWork) -> None:
        await h.record_review(uow, review(SubjectKind.BRANCH, "b1"), HEAD)
        await h.record_review(uow, review(SubjectKind.BRANCH, "b3"), HEAD)  # another township

    with pytest.raises(Forbidden):
        await memory.execute(two_reviews, context=context)
    assert memory.events == []
    with pytest.raises(RuntimeError, match="no database"):
        memory.unit().conn  # noqa: B018 - the handlers above never needed it


def test_the_service_only_keeps_its_copies_of_every_pledge_and_identity_event() -> None:
    """D2/D3: it consumes every pledge event and every identity event (the committees'
    seats, R1) for its copies and decides nothing on them."""
    pledge, identity = subscriptions()
    assert (pledge.consumer, pledge.source) == ("review", "pledge")
    assert (identity.consumer, identity.source) == ("review", "identity")
    for subscription in (pledge, identity):
        assert subscription.handler is None
        assert subscription.complete
