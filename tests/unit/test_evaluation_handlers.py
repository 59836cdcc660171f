"""Every command handler and policy of the evaluation service, with no server: the real
handlers on the real unit of work, over an in-memory event store and the ports in memory
(tests/support/evaluation.py). Who may (E2, E4, E8, A7), who gets 403, what is decided (the
events out) and what is refused with nothing appended. The e2e tests keep the HTTP and
PostgreSQL parts."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from services.evaluation import handlers as shared_handlers
from services.evaluation.checks import commands as kc
from services.evaluation.checks import handlers as kh
from services.evaluation.checks.policies import check_id_for, on_pledge_events
from services.evaluation.ratings import commands as rc
from services.evaluation.ratings import handlers as rh
from services.evaluation.rounds import commands as c
from services.evaluation.rounds import handlers as h
from services.evaluation.selection import commands as sc
from services.evaluation.selection import handlers as sh
from services.evaluation.selection.events import Input, Source
from shared.auth import Principal, Role
from shared.clock import FixedClock
from shared.envelope import EventEnvelope
from shared.errors import Forbidden, GongkaiError, InvalidInput, InvalidState, NotFound
from shared.events import DomainEvent
from shared.eventstore import CommandContext, InMemoryEventStore
from shared.eventstore.base import AppendRequest
from shared.unit_of_work import UnitOfWork
from tests.support.evaluation import EvaluationPorts, evaluation_memory
from tests.support.memory import Memory


def who(role: Role, org: str | None = None, subject: str | None = None) -> Principal:
    return Principal(subject=subject or f"{role.value}-{org}", role=role, org=org, name="某某")


OFFICE = who(Role.TOWNSHIP_OFFICE, "t1")
SECRETARY = who(Role.BRANCH_SECRETARY, "b1", "s1")
ADMIN = who(Role.COUNTY_ADMIN, "c1")
AUDITOR = who(Role.AUDITOR, "c1")  # an auditor's post is held at a county
MEMBER = who(Role.MEMBER, "b1", "m1")
OTHERS: dict[str, Principal] = {
    "office of another township": who(Role.TOWNSHIP_OFFICE, "t2"),
    "township committee": who(Role.TOWNSHIP_COMMITTEE, "t1"),
    "county administrator": ADMIN,
    "administrator of another county": who(Role.COUNTY_ADMIN, "c2"),
    "secretary of another branch": who(Role.BRANCH_SECRETARY, "b2", "s2"),
    "member": MEMBER,
    "rater": who(Role.RATER, "t1"),
    "auditor": AUDITOR,
    "auditor of another county": who(Role.AUDITOR, "c2"),
    "auditor without a county": who(Role.AUDITOR),
    "integration": who(Role.INTEGRATION),
    "public": who(Role.PUBLIC),
}
COMMITTEE = who(Role.TOWNSHIP_COMMITTEE, "t1")
# everyone but the township committee, its office among them (it organises; it does not decide)
NOT_COMMITTEE = {**OTHERS, "township office": OFFICE}
del NOT_COMMITTEE["township committee"]
TODAY = date(2027, 6, 15)


def world() -> tuple[Memory, EvaluationPorts]:
    """County c1: township t1 with branches b1 (secretary s1, members m1, m2), b2 (member
    m4) and a retired b9; township t2 with branch b3 (member m3). County c2: township t3."""
    memory, ports = evaluation_memory()
    d = ports.directory
    d.township("t1", "c1")
    d.township("t2", "c1")
    d.township("t3", "c2")
    for branch_id, township_id in (("b1", "t1"), ("b2", "t1"), ("b9", "t1"), ("b3", "t2")):
        d.branch(branch_id, township_id)
    d.apply("BranchRetired", {"branch_id": "b9"})
    d.member("s1", "b1", leadership_team=True)
    d.secretary("b1", "s1")
    d.member("m1", "b1")
    d.member("m2", "b1")
    d.member("m3", "b3")
    d.member("m4", "b2")
    return memory, ports


def as_(who: Principal) -> CommandContext:
    return CommandContext(actor=who.subject, role=who.role.value)


async def run(
    memory: Memory, principal: Principal, act: Callable[[UnitOfWork], Awaitable[Any]]
) -> Any:
    """As the API runs a command: all or nothing."""
    return await memory.execute(act, context=as_(principal))


async def refused(
    memory: Memory,
    error: type[GongkaiError],
    principal: Principal,
    act: Callable[[UnitOfWork], Awaitable[Any]],
) -> GongkaiError:
    """The command is refused with `error`, and nothing is appended."""
    before = len(memory.events)
    with pytest.raises(error) as caught:
        await run(memory, principal, act)
    assert len(memory.events) == before
    return caught.value


def field_of(error: GongkaiError) -> list[str]:
    return [e["field"] for e in error.extra["errors"]]


def of(memory: Memory, kind: str) -> list[dict[str, Any]]:
    return [e.data for e in memory.events if e.type == kind]


def township_round(**extra: Any) -> c.OpenRound:
    return c.OpenRound.model_validate(
        {"title": "上半年评议", "year": 2027, "half": 1, "township_id": "t1"}
        | {"opens_on": "2027-06-01"}
        | extra
    )


def branch_round(**extra: Any) -> c.OpenRound:
    return c.OpenRound.model_validate(
        {"title": "党员评议", "year": 2027, "half": 1, "branch_id": "b1"}
        | {"opens_on": "2027-06-01"}
        | extra
    )


async def opened(memory: Memory, cmd: c.OpenRound, organiser: Principal) -> str:
    answer = await run(memory, organiser, lambda u: h.open_round(u, cmd, organiser))
    round_id: str = answer["id"]
    return round_id


def raters(*entries: dict[str, Any]) -> c.RegisterRaters:
    return c.RegisterRaters.model_validate({"raters": list(entries)})


# --- the calendar (E4) -------------------------------------------------------------------


async def test_only_the_countys_administrator_sets_its_calendar() -> None:
    m, _ = world()
    cmd = c.SetEvaluationCalendar(
        year=2027, first_round_closes=date(2027, 7, 1), second_round_closes=date(2028, 1, 3)
    )
    for _name, principal in OTHERS.items():
        if principal != ADMIN:
            await refused(
                m, Forbidden, principal, lambda u, p=principal: h.set_calendar(u, "c1", cmd, p)
            )
    await run(m, ADMIN, lambda u: h.set_calendar(u, "c1", cmd, ADMIN))
    assert m.types() == ["EvaluationCalendarSet"]
    await refused(m, InvalidState, ADMIN, lambda u: h.set_calendar(u, "c1", cmd, ADMIN))
    # a round of that half now closes by the county's date, not E4's default
    error = await refused(
        m,
        InvalidInput,
        OFFICE,
        lambda u: h.open_round(u, township_round(closes_on="2027-07-05"), OFFICE),
    )
    assert field_of(error) == ["closes_on"]


# --- rounds (E1–E5) ----------------------------------------------------------------------


async def test_the_township_office_opens_a_round_on_its_active_branches() -> None:
    m, _ = world()
    round_id = await opened(m, township_round(), OFFICE)
    [event] = of(m, "RoundOpened")
    assert event["round_id"] == round_id
    assert (event["township_id"], event["organiser_kind"], event["organiser_id"]) == (
        "t1",
        "township",
        "t1",
    )
    assert [s["subject_id"] for s in event["subjects"]] == ["b1", "b2"]  # not retired b9
    assert event["closes_on"] == "2027-07-10"  # E4's default for the first half
    assert event["scale"]["name"] == "public_satisfaction"


async def test_the_branch_secretary_opens_a_round_on_the_branchs_members() -> None:
    m, _ = world()
    await opened(m, branch_round(subject_ids=["m2", "m1", "m2"]), SECRETARY)
    [event] = of(m, "RoundOpened")
    assert (event["township_id"], event["organiser_kind"], event["organiser_id"]) == (
        "t1",
        "branch",
        "b1",
    )
    assert [s["subject_id"] for s in event["subjects"]] == ["m2", "m1"]
    assert event["scale"]["name"] == "member_appraisal"


@pytest.mark.parametrize("name", [n for n in OTHERS if n != "secretary of another branch"])
async def test_no_one_else_opens_a_round(name: str) -> None:
    m, _ = world()
    principal = OTHERS[name]
    await refused(m, Forbidden, principal, lambda u: h.open_round(u, township_round(), principal))
    await refused(m, Forbidden, principal, lambda u: h.open_round(u, branch_round(), principal))


async def test_opening_a_round_refuses_what_the_directory_copy_does_not_hold() -> None:
    m, _ = world()
    error = await refused(
        m,
        InvalidInput,
        OFFICE,
        lambda u: h.open_round(u, township_round(subject_ids=["b3"]), OFFICE),
    )
    assert field_of(error) == ["subject_ids.0"]  # another township's branch
    error = await refused(
        m,
        InvalidInput,
        OFFICE,
        lambda u: h.open_round(u, township_round(closes_on="2027-07-11"), OFFICE),
    )
    assert field_of(error) == ["closes_on"]
    stranger = who(Role.TOWNSHIP_OFFICE, "t9")
    await refused(
        m, NotFound, stranger, lambda u: h.open_round(u, township_round(township_id="t9"), stranger)
    )
    retired = who(Role.BRANCH_SECRETARY, "b9", "s9")
    await refused(
        m, NotFound, retired, lambda u: h.open_round(u, branch_round(branch_id="b9"), retired)
    )


async def test_the_organiser_registers_raters_members_and_sealed_members_of_the_public() -> None:
    m, ports = world()
    round_id = await opened(m, township_round(), OFFICE)
    cmd = raters(
        {"kind": "township_member", "member_id": "m1"},
        {"kind": "public", "name": "张三", "phone": "13812345678"},
    )
    for principal in OTHERS.values():
        await refused(
            m, Forbidden, principal, lambda u, p=principal: h.register_raters(u, round_id, cmd, p)
        )
    answer = await run(m, OFFICE, lambda u: h.register_raters(u, round_id, cmd, OFFICE))
    member, public = of(m, "RaterRegistered")
    assert answer["rater_ids"] == [member["rater_id"], public["rater_id"]]
    assert (member["rater_id"], member["organisation_id"], member["personal"]) == ("m1", "b1", None)
    assert public["member_id"] is None
    assert "张三" not in str(public)
    assert ports.keys.open(public["personal"]) == {"name": "张三", "phone": "13812345678"}
    # the person's township is now known: whom an erasure concerns (A7)
    assert await ports.reads.public_person_township(public["rater_id"]) == "t1"


async def test_registering_raters_refuses_with_nothing_appended() -> None:
    m, ports = world()
    round_id = await opened(m, township_round(), OFFICE)
    members_round = await opened(m, branch_round(), SECRETARY)
    bad = {
        "m3 is of another township": (
            round_id,
            OFFICE,
            raters({"kind": "cadre"}, {"kind": "cadre", "member_id": "m3"}),
            "raters.1.member_id",
        ),
        "a member's personal data is the directory's": (
            round_id,
            OFFICE,
            raters({"kind": "cadre", "member_id": "m1", "name": "李四"}),
            "raters.0.name",
        ),
        "a branch member of the round's own branch only": (
            members_round,
            SECRETARY,
            raters(
                {"kind": "branch_member", "member_id": "m1"},
                {"kind": "branch_member", "member_id": "m4"},
            ),
            "raters.1.member_id",
        ),
        "a branch's rater does not rate a member": (
            members_round,
            SECRETARY,
            raters({"kind": "cadre"}),
            "raters.0.kind",
        ),
    }
    for rid, principal, cmd, where in bad.values():
        error = await refused(
            m,
            InvalidInput,
            principal,
            lambda u, r=rid, cm=cmd, p=principal: h.register_raters(u, r, cm, p),
        )
        assert field_of(error) == [where]
    assert ports.keys.keys == {}  # nothing sealed for a refused command
    await run(
        m,
        OFFICE,
        lambda u: h.register_raters(
            u, round_id, raters({"kind": "cadre", "member_id": "m1"}), OFFICE
        ),
    )
    await refused(
        m,
        InvalidState,
        OFFICE,
        lambda u: h.register_raters(
            u, round_id, raters({"kind": "cadre", "member_id": "m1"}), OFFICE
        ),
    )
    await refused(
        m,
        NotFound,
        OFFICE,
        lambda u: h.register_raters(u, "r-none", raters({"kind": "cadre"}), OFFICE),
    )


async def registered_round(m: Memory) -> tuple[str, list[str]]:
    round_id = await opened(m, township_round(), OFFICE)
    cmd = raters(
        {"kind": "township_member", "member_id": "m1"}, {"kind": "public"}, {"kind": "public"}
    )
    answer = await run(m, OFFICE, lambda u: h.register_raters(u, round_id, cmd, OFFICE))
    return round_id, answer["rater_ids"]


async def test_a_registered_rater_votes_once_and_the_ballot_names_no_one() -> None:
    m, _ = world()
    round_id, [_, public, _] = await registered_round(m)
    rater = who(Role.RATER, round_id, public)
    ballot = c.CastBallot(grades={"b1": "satisfied", "b2": "dissatisfied"})
    mark = len(m.events)
    # a batch of one: the ballot leaves the urn at once (by default it waits for ten)
    answer = await run(m, rater, lambda u: h.cast_ballot(u, round_id, ballot, rater, batch=1))
    assert answer["events"] == ["RaterParticipated"]  # the ballot: in no answer
    assert m.types(mark) == ["RaterParticipated", "BallotCast"]
    participated, cast = m.events[mark:]
    assert participated.actor == public
    assert cast.actor == "anonymous"
    assert cast.correlationid != participated.correlationid
    assert public not in str(cast.data)
    assert cast.data["grades"] == {
        "b1": "satisfied",
        "b2": "dissatisfied",
    }
    # once only; a member votes as themself; others are not registered
    await refused(m, InvalidState, rater, lambda u: h.cast_ballot(u, round_id, ballot, rater))
    await run(m, MEMBER, lambda u: h.cast_ballot(u, round_id, ballot, MEMBER))
    stranger = who(Role.MEMBER, "b1", "m2")
    await refused(m, Forbidden, stranger, lambda u: h.cast_ballot(u, round_id, ballot, stranger))
    elsewhere = who(Role.RATER, "r-other", public)
    await refused(m, Forbidden, elsewhere, lambda u: h.cast_ballot(u, round_id, ballot, elsewhere))
    await refused(m, Forbidden, OFFICE, lambda u: h.cast_ballot(u, round_id, ballot, OFFICE))
    other = who(Role.RATER, round_id, "rt-x")
    error = await refused(
        m,
        InvalidInput,
        other,
        lambda u: h.cast_ballot(u, round_id, c.CastBallot(grades={"b3": "satisfied"}), other),
    )
    assert field_of(error) == ["grades"]


async def test_the_organiser_enters_a_stack_of_paper_ballots() -> None:
    m, _ = world()
    round_id, [member, p1, p2] = await registered_round(m)
    stack = c.EnterPaperBallots.model_validate(
        {
            "channel": "paper",
            "participants": [p1, p2],
            "ballots": [{"b1": "satisfied"}, {"b1": "dissatisfied"}],
        }
    )
    for principal in OTHERS.values():
        await refused(
            m,
            Forbidden,
            principal,
            lambda u, p=principal: h.enter_paper_ballots(u, round_id, stack, p),
        )
    mark = len(m.events)
    await run(m, OFFICE, lambda u: h.enter_paper_ballots(u, round_id, stack, OFFICE))
    assert m.types(mark) == ["RaterParticipated", "RaterParticipated", "BallotCast", "BallotCast"]
    assert {e.data["entered_by"] for e in m.events[mark : mark + 2]} == {OFFICE.subject}
    assert {e.actor for e in m.events[mark + 2 :]} == {"anonymous"}
    await refused(
        m, InvalidState, OFFICE, lambda u: h.enter_paper_ballots(u, round_id, stack, OFFICE)
    )
    unknown = stack.model_copy(update={"participants": ["rt-none", member]})
    error = await refused(
        m, InvalidInput, OFFICE, lambda u: h.enter_paper_ballots(u, round_id, unknown, OFFICE)
    )
    assert field_of(error) == ["participants.0"]
    mixed = c.EnterPaperBallots.model_validate(
        {
            "channel": "on_site",
            "participants": [member, p1],
            "ballots": [{"b1": "satisfied"}, {"b2": "satisfied"}],
        }
    )
    error = await refused(
        m, InvalidInput, OFFICE, lambda u: h.enter_paper_ballots(u, round_id, mixed, OFFICE)
    )
    assert field_of(error) == ["ballots"]


async def test_the_organiser_closes_a_round_and_its_results_are_published() -> None:
    m, _ = world()
    round_id, [_, public, _] = await registered_round(m)
    rater = who(Role.RATER, round_id, public)
    ballot = c.CastBallot(grades={"b1": "satisfied"})
    await run(m, rater, lambda u: h.cast_ballot(u, round_id, ballot, rater))
    for principal in OTHERS.values():
        await refused(m, Forbidden, principal, lambda u, p=principal: h.close_round(u, round_id, p))
    mark = len(m.events)
    await run(m, OFFICE, lambda u: h.close_round(u, round_id, OFFICE))
    # the urn's ballot (fewer than k) is appended at close, before the results are counted
    assert m.types(mark) == ["BallotCast", "RoundClosed", "RoundResultsPublished"]
    closed, published = (e.data for e in m.events[mark + 1 :])
    assert (closed["registered"], closed["participated"]) == (3, 1)
    assert [r["subject_id"] for r in published["results"]] == ["b1", "b2"]
    await refused(m, InvalidState, OFFICE, lambda u: h.close_round(u, round_id, OFFICE))
    await refused(m, InvalidState, rater, lambda u: h.cast_ballot(u, round_id, ballot, rater))


async def test_the_township_office_closes_its_due_rounds() -> None:
    m, _ = world()
    due_round = await opened(m, township_round(closes_on="2027-06-14"), OFFICE)
    await opened(m, township_round(), OFFICE)  # open until July 10
    await opened(m, township_round(township_id="t2"), who(Role.TOWNSHIP_OFFICE, "t2"))
    for principal in OTHERS.values():
        await refused(
            m, Forbidden, principal, lambda u, p=principal: h.close_due_rounds(u, "t1", p)
        )
    await refused(m, NotFound, OFFICE, lambda u: h.close_due_rounds(u, "t9", OFFICE))
    mark = len(m.events)
    answer = await run(m, OFFICE, lambda u: h.close_due_rounds(u, "t1", OFFICE))
    assert answer["closed"] == [due_round]
    assert m.types(mark) == ["RoundClosed", "RoundResultsPublished"]
    assert m.events[mark].data["round_id"] == due_round
    again = await run(m, OFFICE, lambda u: h.close_due_rounds(u, "t1", OFFICE))
    assert again["closed"] == []
    assert len(m.events) == mark + 2


# --- satisfaction checks (E8) ------------------------------------------------------------


async def reported_done(item_id: str = "i1", township_id: str = "t1") -> EventEnvelope:
    """The pledge service's event, as its store would publish it."""

    class ItemReportedDone(DomainEvent):
        pledge_id: str
        item_id: str
        township_id: str
        title: str
        summary: str

    pledge = InMemoryEventStore("/gongkai/pledge", FixedClock(datetime(2027, 6, 15, 8, tzinfo=UTC)))
    [envelope] = await pledge.append(
        AppendRequest(
            "pledge-p1",
            township_id,
            0,
            (
                ItemReportedDone(
                    pledge_id="p1",
                    item_id=item_id,
                    township_id=township_id,
                    title="修缮水渠",
                    summary="已完工",
                ),
            ),
            CommandContext(actor="s1", role="branch_secretary"),
        )
    )
    return envelope


async def opened_check(m: Memory) -> str:
    envelope = await reported_done()
    await on_pledge_events(m)(None, envelope)  # type: ignore[arg-type]
    return check_id_for(envelope)


async def test_an_item_reported_done_opens_its_check_once() -> None:
    m, _ = world()
    envelope = await reported_done()
    react = on_pledge_events(m)  # type: ignore[arg-type]
    await react(None, envelope)  # type: ignore[arg-type]
    await react(None, envelope)  # type: ignore[arg-type]  # redelivered
    [opened] = m.events
    assert opened.type == "SatisfactionCheckOpened"
    assert opened.data["check_id"] == check_id_for(envelope)
    assert (opened.data["item_id"], opened.data["township_id"]) == ("i1", "t1")
    assert (opened.actor, opened.causationid) == ("service:pledge", envelope.id)
    assert opened.data["opens_on"] == envelope.time.date().isoformat()
    other = envelope.model_copy(update={"type": "ItemClosed"})
    await react(None, other)  # type: ignore[arg-type]
    assert len(m.events) == 1


async def test_the_township_office_registers_the_people_an_item_served() -> None:
    m, ports = world()
    check_id = await opened_check(m)
    cmd = kc.RegisterServed.model_validate({"raters": [{"member_id": "m1"}, {"name": "王五"}]})
    for principal in OTHERS.values():
        await refused(
            m, Forbidden, principal, lambda u, p=principal: kh.register_served(u, check_id, cmd, p)
        )
    answer = await run(m, OFFICE, lambda u: kh.register_served(u, check_id, cmd, OFFICE))
    _member, public = of(m, "CheckRaterRegistered")
    assert answer["rater_ids"] == ["m1", public["rater_id"]]
    assert ports.keys.open(public["personal"]) == {"name": "王五"}
    bad = kc.RegisterServed.model_validate({"raters": [{"member_id": "m3"}]})
    error = await refused(
        m, InvalidInput, OFFICE, lambda u: kh.register_served(u, check_id, bad, OFFICE)
    )
    assert field_of(error) == ["raters.0"]
    await refused(m, InvalidState, OFFICE, lambda u: kh.register_served(u, check_id, cmd, OFFICE))
    await refused(m, NotFound, OFFICE, lambda u: kh.register_served(u, "c-none", cmd, OFFICE))


async def test_check_ballots_on_the_web_and_on_paper_and_the_verdict() -> None:
    m, _ = world()
    check_id = await opened_check(m)
    cmd = kc.RegisterServed.model_validate({"raters": [{"member_id": "m1"}, {}, {}]})
    [_, p1, p2] = (await run(m, OFFICE, lambda u: kh.register_served(u, check_id, cmd, OFFICE)))[
        "rater_ids"
    ]
    web = kc.CheckBallot(grade="satisfied")
    mark = len(m.events)
    await run(m, MEMBER, lambda u: kh.cast_check_ballot(u, check_id, web, MEMBER, batch=1))
    assert m.types(mark) == ["CheckRaterParticipated", "CheckBallotCast"]
    assert m.events[-1].actor == "anonymous"
    await refused(m, InvalidState, MEMBER, lambda u: kh.cast_check_ballot(u, check_id, web, MEMBER))
    on_behalf = kc.CheckBallot(grade="satisfied", rater_id=p1)
    error = await refused(
        m, InvalidInput, OFFICE, lambda u: kh.cast_check_ballot(u, check_id, on_behalf, OFFICE)
    )
    assert field_of(error) == ["rater_id"]  # a web ballot is cast in person
    paper = kc.CheckBallot(grade="dissatisfied", rater_id=p1, channel="paper")
    for principal in OTHERS.values():
        await refused(
            m,
            Forbidden,
            principal,
            lambda u, p=principal: kh.cast_check_ballot(u, check_id, paper, p),
        )
    await run(m, OFFICE, lambda u: kh.cast_check_ballot(u, check_id, paper, OFFICE))
    assert m.events[-1].data["entered_by"] == OFFICE.subject  # its ballot waits in the urn
    for bad in (
        kc.CheckBallot(grade="satisfied", channel="paper"),
        kc.CheckBallot(grade="satisfied", rater_id="rt-none", channel="paper"),
    ):
        error = await refused(
            m, InvalidInput, OFFICE, lambda u, b=bad: kh.cast_check_ballot(u, check_id, b, OFFICE)
        )
        assert field_of(error) == ["rater_id"]
    rater = who(Role.RATER, check_id, p2)
    await run(m, rater, lambda u: kh.cast_check_ballot(u, check_id, web, rater))
    for principal in OTHERS.values():
        await refused(
            m, Forbidden, principal, lambda u, p=principal: kh.close_check(u, check_id, p)
        )
    answer = await run(m, OFFICE, lambda u: kh.close_check(u, check_id, OFFICE))
    [verdict] = of(m, "SatisfactionVerdictReached")
    assert answer["verdict"] == verdict["verdict"] == "dissatisfied"  # 2 of 3 below 0.8
    assert verdict["ballots"] == 3
    await refused(m, InvalidState, OFFICE, lambda u: kh.close_check(u, check_id, OFFICE))


async def test_the_township_office_closes_its_due_checks() -> None:
    m, _ = world()
    check_id = await opened_check(m)  # opens today, for 14 days
    answer = await run(m, OFFICE, lambda u: kh.close_due_checks(u, "t1", OFFICE))
    assert answer["verdicts"] == {}
    assert m.types() == ["SatisfactionCheckOpened"]
    m.clock.set(datetime(2027, 6, 30, 9, 0, tzinfo=UTC))  # the window ended on the 29th
    for principal in OTHERS.values():
        await refused(
            m, Forbidden, principal, lambda u, p=principal: kh.close_due_checks(u, "t1", p)
        )
    await refused(m, NotFound, OFFICE, lambda u: kh.close_due_checks(u, "t9", OFFICE))
    answer = await run(m, OFFICE, lambda u: kh.close_due_checks(u, "t1", OFFICE))
    assert answer["verdicts"] == {check_id: "lapsed"}  # no ballot: no verdict (E8)
    assert m.types() == ["SatisfactionCheckOpened", "SatisfactionCheckLapsed"]
    again = await run(m, OFFICE, lambda u: kh.close_due_checks(u, "t1", OFFICE))
    assert again["verdicts"] == {}
    # the office reopens it with a later closing date; nobody else may
    later = kc.ExtendCheck(closes_on=date(2027, 7, 10))
    for principal in OTHERS.values():
        await refused(
            m, Forbidden, principal, lambda u, p=principal: kh.extend_check(u, check_id, later, p)
        )
    await run(m, OFFICE, lambda u: kh.extend_check(u, check_id, later, OFFICE))
    assert m.types()[-1] == "SatisfactionCheckExtended"
    assert (await run(m, OFFICE, lambda u: kh.close_due_checks(u, "t1", OFFICE)))[
        "verdicts"
    ] == {}  # open again until July 10


async def test_a_check_opens_with_the_countys_terms_for_the_year() -> None:
    m, _ = world()
    terms = kc.SetCheckTerms(year=2027, threshold=0.9, window_days=21)
    for principal in (p for p in OTHERS.values() if p is not ADMIN):
        await refused(
            m, Forbidden, principal, lambda u, p=principal: kh.set_check_terms(u, "c1", terms, p)
        )
    await run(m, ADMIN, lambda u: kh.set_check_terms(u, "c1", terms, ADMIN))
    await opened_check(m)
    opened = m.events[-1]
    assert opened.type == "SatisfactionCheckOpened"
    assert opened.data["threshold"] == 0.9
    assert date.fromisoformat(opened.data["closes_on"]) - date.fromisoformat(
        opened.data["opens_on"]
    ) == timedelta(days=21)


# --- erasure of personal data (A7) -------------------------------------------------------


async def test_the_countys_administrator_or_an_auditor_erases_a_member_of_the_public() -> None:
    m, ports = world()
    round_id = await opened(m, township_round(), OFFICE)
    cmd = raters({"kind": "public", "name": "张三"})
    [person] = (await run(m, OFFICE, lambda u: h.register_raters(u, round_id, cmd, OFFICE)))[
        "rater_ids"
    ]
    for name, principal in OTHERS.items():
        if name not in ("county administrator", "auditor"):
            await refused(
                m,
                Forbidden,
                principal,
                lambda u, p=principal: shared_handlers.erase_person(u, person, p),
            )
    assert person in ports.keys.keys
    await refused(m, NotFound, ADMIN, lambda u: shared_handlers.erase_person(u, "rt-none", ADMIN))
    await refused(
        m, NotFound, ADMIN, lambda u: shared_handlers.erase_person(u, "m1", ADMIN)
    )  # a member
    await run(m, ADMIN, lambda u: shared_handlers.erase_person(u, person, ADMIN))
    assert of(m, "PersonalDataErased") == [{"person_id": person}]
    assert person not in ports.keys.keys
    assert ports.keys.erased == [person]
    await refused(
        m, InvalidState, AUDITOR, lambda u: shared_handlers.erase_person(u, person, AUDITOR)
    )


# --- periodic ratings (E6) ---------------------------------------------------------------


def rating(**extra: Any) -> rc.PublishRating:
    return rc.PublishRating.model_validate(
        {
            "level": "township_rates_branches",
            "township_id": "t1",
            "period": "2027-B3",
            "results": [{"subject_id": "b1", "grade": "excellent", "score": 95}],
        }
        | extra
    )


async def test_the_township_rates_its_branches_and_the_secretary_the_members() -> None:
    m, _ = world()
    members = rating(
        level="branch_rates_members",
        township_id=None,
        branch_id="b1",
        period="2027-05",
        results=[{"subject_id": "m1", "grade": "qualified", "score": 80}],
    )
    for principal in NOT_COMMITTEE.values():  # the committee rates branches, not its office
        await refused(
            m, Forbidden, principal, lambda u, p=principal: rh.publish_rating(u, rating(), p)
        )
    for principal in OTHERS.values():
        await refused(
            m, Forbidden, principal, lambda u, p=principal: rh.publish_rating(u, members, p)
        )
    await run(m, COMMITTEE, lambda u: rh.publish_rating(u, rating(), COMMITTEE))
    await run(m, SECRETARY, lambda u: rh.publish_rating(u, members, SECRETARY))
    branches, people = of(m, "RatingResultsPublished")
    assert (branches["township_id"], branches["branch_id"]) == ("t1", None)
    assert [(r["subject_id"], r["subject_name"]) for r in branches["results"]] == [("b1", "b1支部")]
    assert (people["township_id"], people["branch_id"]) == ("t1", "b1")
    assert [(r["subject_id"], r["subject_name"]) for r in people["results"]] == [("m1", "m1同志")]


async def test_a_rating_refuses_with_nothing_appended() -> None:
    m, _ = world()
    other = rating(results=[{"subject_id": "b3", "grade": "excellent", "score": 95}])
    error = await refused(
        m, InvalidInput, COMMITTEE, lambda u: rh.publish_rating(u, other, COMMITTEE)
    )
    assert field_of(error) == ["results.0.subject_id"]  # another township's branch
    stranger = who(Role.TOWNSHIP_COMMITTEE, "t9")
    await refused(
        m, NotFound, stranger, lambda u: rh.publish_rating(u, rating(township_id="t9"), stranger)
    )
    await run(m, COMMITTEE, lambda u: rh.publish_rating(u, rating(), COMMITTEE))
    await refused(m, InvalidState, COMMITTEE, lambda u: rh.publish_rating(u, rating(), COMMITTEE))


# --- the annual selection (S1–S3) --------------------------------------------------------


async def selection_with_candidates(m: Memory, ports: EvaluationPorts) -> str:
    cmd = sc.OpenSelection(township_id="t1", year=2027, title="年度评选", subject_kind="branch")
    selection_id: str = (await run(m, OFFICE, lambda u: sh.open_selection(u, cmd, OFFICE)))["id"]
    formula = sc.DeclareFormula.model_validate(
        {"weights": {"ratings": 1.0}, "when_missing": "zero", "quotas": [1]}
    )
    await run(m, OFFICE, lambda u: sh.declare_formula(u, selection_id, formula, OFFICE))
    b1 = sc.Nominate(subject_id="b1", reason="成绩突出")
    b2 = sc.Nominate(subject_id="b2", reason="进步明显")
    await run(m, SECRETARY, lambda u: sh.nominate(u, selection_id, b1, SECRETARY))
    await run(m, OFFICE, lambda u: sh.nominate(u, selection_id, b2, OFFICE))
    ports.inputs.given = {
        "b1": (Input(source=Source.RATINGS, value=90.0, evidence=("rt-1",)),),
        "b2": (Input(source=Source.RATINGS, value=70.0, evidence=("rt-2",)),),
    }
    return selection_id


async def test_the_township_office_runs_its_selection() -> None:
    m, _ = world()
    cmd = sc.OpenSelection(township_id="t1", year=2027, title="年度评选", subject_kind="branch")
    for principal in OTHERS.values():
        await refused(m, Forbidden, principal, lambda u, p=principal: sh.open_selection(u, cmd, p))
    stranger = who(Role.TOWNSHIP_OFFICE, "t9")
    elsewhere = cmd.model_copy(update={"township_id": "t9"})
    await refused(m, NotFound, stranger, lambda u: sh.open_selection(u, elsewhere, stranger))
    await run(m, OFFICE, lambda u: sh.open_selection(u, cmd, OFFICE))
    assert m.types() == ["SelectionOpened"]
    await refused(m, InvalidState, OFFICE, lambda u: sh.open_selection(u, cmd, OFFICE))


async def test_nominations_come_from_the_subjects_secretary_or_the_township() -> None:
    m, ports = world()
    selection_id = await selection_with_candidates(m, ports)
    nominated = of(m, "CandidateNominated")
    assert [(n["subject_id"], n["nominated_by"]) for n in nominated] == [
        ("b1", "branch"),
        ("b2", "township"),
    ]
    b2 = sc.Nominate(subject_id="b2", reason="进步明显")
    await refused(m, Forbidden, SECRETARY, lambda u: sh.nominate(u, selection_id, b2, SECRETARY))
    await refused(m, InvalidState, OFFICE, lambda u: sh.nominate(u, selection_id, b2, OFFICE))
    b3 = sc.Nominate(subject_id="b3", reason="进步明显")
    error = await refused(
        m, InvalidInput, OFFICE, lambda u: sh.nominate(u, selection_id, b3, OFFICE)
    )
    assert field_of(error) == ["subject_id"]
    b9 = sc.Nominate(subject_id="b9", reason="进步明显")
    await refused(m, NotFound, OFFICE, lambda u: sh.nominate(u, selection_id, b9, OFFICE))


async def test_a_stage_is_scored_from_the_inputs_port_and_the_selection_runs_to_its_end() -> None:
    m, ports = world()
    selection_id = await selection_with_candidates(m, ports)
    for principal in OTHERS.values():
        await refused(
            m, Forbidden, principal, lambda u, p=principal: sh.score_stage(u, selection_id, p)
        )
    await run(m, OFFICE, lambda u: sh.score_stage(u, selection_id, OFFICE))
    assert sorted(ports.inputs.asked) == [("b1", 2027), ("b2", 2027)]
    [stage] = of(m, "StageScored")
    assert [(s["subject_id"], s["rank"], s["suggested"]) for s in stage["candidates"]] == [
        ("b1", 1, True),
        ("b2", 2, False),
    ]
    assert stage["candidates"][0]["inputs"][0]["evidence"] == ["rt-1"]
    await refused(m, InvalidState, OFFICE, lambda u: sh.score_stage(u, selection_id, OFFICE))
    await refused(m, InvalidState, OFFICE, lambda u: sh.post_notice(u, selection_id, OFFICE))
    # the township committee decides the stage, per candidate, with its reasons
    decision = sc.DecideStage.model_validate(
        {
            "decisions": [
                {"subject_id": "b1", "advanced": True, "reason": "班子团结，实绩突出"},
                {"subject_id": "b2", "advanced": False, "reason": "进步明显，尚需积累"},
            ]
        }
    )
    for principal in NOT_COMMITTEE.values():
        await refused(
            m,
            Forbidden,
            principal,
            lambda u, p=principal: sh.decide_stage(u, selection_id, 1, decision, p),
        )
    half = sc.DecideStage.model_validate({"decisions": decision.model_dump()["decisions"][:1]})
    error = await refused(
        m, InvalidInput, COMMITTEE, lambda u: sh.decide_stage(u, selection_id, 1, half, COMMITTEE)
    )
    assert field_of(error) == ["decisions"]
    await run(m, COMMITTEE, lambda u: sh.decide_stage(u, selection_id, 1, decision, COMMITTEE))
    [decided] = of(m, "StageDecided")
    assert decided["body"] == "township_committee"
    assert [d["advanced"] for d in decided["decisions"]] == [True, False]
    for principal in OTHERS.values():
        await refused(
            m, Forbidden, principal, lambda u, p=principal: sh.post_notice(u, selection_id, p)
        )
    await run(m, OFFICE, lambda u: sh.post_notice(u, selection_id, OFFICE))
    objection = sc.FileObjection(subject_id="b1", summary="材料不实")
    # the township's people, office, committee and the county object; others do not
    for principal in (
        AUDITOR,
        who(Role.INTEGRATION),
        who(Role.MEMBER, "b3", "m3"),
        who(Role.BRANCH_SECRETARY, "b3", "s3"),
        who(Role.TOWNSHIP_OFFICE, "t2"),
        who(Role.COUNTY_ADMIN, "c2"),
        who(Role.RATER, "t1"),
    ):
        await refused(
            m,
            Forbidden,
            principal,
            lambda u, p=principal: sh.file_objection(u, selection_id, objection, p),
        )
    answer = await run(m, MEMBER, lambda u: sh.file_objection(u, selection_id, objection, MEMBER))
    objection_id = answer["objection_id"]
    for principal in (ADMIN, who(Role.TOWNSHIP_COMMITTEE, "t1"), OFFICE):
        await run(
            m, principal, lambda u, p=principal: sh.file_objection(u, selection_id, objection, p)
        )
    off_notice = sc.FileObjection(subject_id="b2", summary="材料不实")
    error = await refused(
        m, InvalidInput, MEMBER, lambda u: sh.file_objection(u, selection_id, off_notice, MEMBER)
    )
    assert field_of(error) == ["subject_id"]
    reply = sc.AnswerObjection(answer="经核实无误", upheld=False)
    for principal in (SECRETARY, MEMBER, ADMIN, who(Role.TOWNSHIP_COMMITTEE, "t2")):
        await refused(
            m,
            Forbidden,
            principal,
            lambda u, p=principal: sh.answer_objection(u, selection_id, objection_id, reply, p),
        )
    committee = who(Role.TOWNSHIP_COMMITTEE, "t1")
    await run(
        m, committee, lambda u: sh.answer_objection(u, selection_id, objection_id, reply, committee)
    )
    await refused(
        m,
        InvalidState,
        OFFICE,
        lambda u: sh.answer_objection(u, selection_id, objection_id, reply, OFFICE),
    )
    for other in [o["objection_id"] for o in of(m, "ObjectionFiled")][1:]:
        await run(
            m, OFFICE, lambda u, o=other: sh.answer_objection(u, selection_id, o, reply, OFFICE)
        )
    await refused(
        m, InvalidState, COMMITTEE, lambda u: sh.issue_commendation(u, selection_id, COMMITTEE)
    )
    m.clock.set(datetime(2027, 7, 1, 9, tzinfo=UTC))
    for principal in NOT_COMMITTEE.values():  # the committee issues it, not its office
        await refused(
            m,
            Forbidden,
            principal,
            lambda u, p=principal: sh.issue_commendation(u, selection_id, p),
        )
    await run(m, COMMITTEE, lambda u: sh.issue_commendation(u, selection_id, COMMITTEE))
    [issued] = of(m, "CommendationIssued")
    assert [a["subject_id"] for a in issued["awardees"]] == ["b1"]
    assert (issued["awardees"][0]["reason"], issued["awardees"][0]["nomination_reason"]) == (
        "班子团结，实绩突出",
        "成绩突出",
    )
    # an objection the office recorded came from someone who came in person
    assert [o["in_person"] for o in of(m, "ObjectionFiled")] == [False, False, False, True]


# --- each level (S1: 各级党组织…每年开展一次) ---------------------------------------------


def decide_all(advanced: list[str], out: tuple[str, ...] = ()) -> sc.DecideStage:
    return sc.DecideStage.model_validate(
        {
            "decisions": [
                {"subject_id": s, "advanced": True, "reason": "实绩突出"} for s in advanced
            ]
            + [{"subject_id": s, "advanced": False, "reason": "尚有差距"} for s in out]
        }
    )


async def test_the_county_selects_from_the_townships_winners() -> None:
    """The county's administrator organises and decides; only the year's winners of the
    county's township selections may be nominated, by their township office or the county."""
    m, ports = world()
    ports.inputs.counties = {"c1": ["t1", "t2"], "c2": ["t3"]}
    ports.inputs.winners[("c1", 2027, "member")] = {
        "m1": {"township_id": "t1", "subject_name": "m1同志", "branch_id": "b1"},
        "m3": {"township_id": "t2", "subject_name": "m3同志", "branch_id": "b3"},
    }
    county = who(Role.COUNTY_ADMIN, "c1")
    cmd = sc.OpenSelection(
        level="county", county_id="c1", year=2027, title="全县优秀党员", subject_kind="member"
    )
    for principal in (OFFICE, COMMITTEE, who(Role.COUNTY_ADMIN, "c2"), SECRETARY):
        await refused(m, Forbidden, principal, lambda u, p=principal: sh.open_selection(u, cmd, p))
    error = await refused(
        m,
        InvalidInput,
        county,
        lambda u: sh.open_selection(u, cmd.model_copy(update={"township_id": "t1"}), county),
    )
    assert field_of(error) == ["township_id"]
    nowhere = cmd.model_copy(update={"county_id": "c9"})
    stranger = who(Role.COUNTY_ADMIN, "c9")
    await refused(m, NotFound, stranger, lambda u: sh.open_selection(u, nowhere, stranger))
    sid = (await run(m, county, lambda u: sh.open_selection(u, cmd, county)))["id"]
    assert sid == "s-2027-member-county-c1"
    [opened] = of(m, "SelectionOpened")
    assert (opened["level"], opened["organisation_id"], opened["township_id"]) == (
        "county",
        "c1",
        "c1",
    )
    formula = sc.DeclareFormula.model_validate(
        {"weights": {"ratings": 1.0}, "when_missing": "zero", "quotas": [1]}
    )
    await refused(m, Forbidden, OFFICE, lambda u: sh.declare_formula(u, sid, formula, OFFICE))
    await run(m, county, lambda u: sh.declare_formula(u, sid, formula, county))
    # m2 won nothing: not a candidate of the county's selection
    m2 = sc.Nominate(subject_id="m2", reason="表现突出")
    error = await refused(m, InvalidInput, county, lambda u: sh.nominate(u, sid, m2, county))
    assert field_of(error) == ["subject_id"]
    m1 = sc.Nominate(subject_id="m1", reason="镇级优秀党员，带头节水")
    await refused(m, Forbidden, SECRETARY, lambda u: sh.nominate(u, sid, m1, SECRETARY))
    await run(m, OFFICE, lambda u: sh.nominate(u, sid, m1, OFFICE))  # m1's township office
    m3 = sc.Nominate(subject_id="m3", reason="镇级优秀党员，调解纠纷")
    await run(m, county, lambda u: sh.nominate(u, sid, m3, county))
    assert [(n["subject_id"], n["nominated_by"]) for n in of(m, "CandidateNominated")] == [
        ("m1", "township"),
        ("m3", "county"),
    ]
    ports.inputs.given = {
        "m1": (Input(source=Source.RATINGS, value=90.0, evidence=("rt-1",)),),
        "m3": (Input(source=Source.RATINGS, value=80.0, evidence=("rt-2",)),),
    }
    await run(m, county, lambda u: sh.score_stage(u, sid, county))
    decision = decide_all(["m3"], ("m1",))  # the county departs from the score, and says why
    for principal in (OFFICE, COMMITTEE, who(Role.COUNTY_ADMIN, "c2")):
        await refused(
            m, Forbidden, principal, lambda u, p=principal: sh.decide_stage(u, sid, 1, decision, p)
        )
    await run(m, county, lambda u: sh.decide_stage(u, sid, 1, decision, county))
    [decided] = of(m, "StageDecided")
    assert decided["body"] == "county"
    assert [(x["subject_id"], x["advanced"]) for x in decided["decisions"]] == [
        ("m1", False),
        ("m3", True),
    ]


async def test_a_branch_holds_its_own_selection_of_members() -> None:
    m, _ = world()
    cmd = sc.OpenSelection(
        level="branch", branch_id="b1", year=2027, title="支部优秀党员", subject_kind="member"
    )
    for principal in (OFFICE, COMMITTEE, who(Role.BRANCH_SECRETARY, "b2", "s2"), MEMBER):
        await refused(m, Forbidden, principal, lambda u, p=principal: sh.open_selection(u, cmd, p))
    branches = cmd.model_copy(update={"subject_kind": "branch"})
    await refused(m, InvalidInput, SECRETARY, lambda u: sh.open_selection(u, branches, SECRETARY))
    sid = (await run(m, SECRETARY, lambda u: sh.open_selection(u, cmd, SECRETARY)))["id"]
    assert sid == "s-2027-member-branch-b1"
    # the township's own member selection of the year is another selection (S1)
    township = sc.OpenSelection(township_id="t1", year=2027, title="镇评选", subject_kind="member")
    await run(m, OFFICE, lambda u: sh.open_selection(u, township, OFFICE))
    formula = sc.DeclareFormula.model_validate(
        {"weights": {"ratings": 1.0}, "when_missing": "zero", "quotas": [1]}
    )
    await run(m, SECRETARY, lambda u: sh.declare_formula(u, sid, formula, SECRETARY))
    m4 = sc.Nominate(subject_id="m4", reason="表现突出")  # of b2, not this branch
    error = await refused(m, InvalidInput, SECRETARY, lambda u: sh.nominate(u, sid, m4, SECRETARY))
    assert field_of(error) == ["subject_id"]
    for member in ("m1", "m2"):
        nomination = sc.Nominate(subject_id=member, reason="群众推荐")
        await run(m, SECRETARY, lambda u, n=nomination: sh.nominate(u, sid, n, SECRETARY))
    await run(m, SECRETARY, lambda u: sh.score_stage(u, sid, SECRETARY))
    decision = decide_all(["m2"], ("m1",))
    await refused(
        m, Forbidden, COMMITTEE, lambda u: sh.decide_stage(u, sid, 1, decision, COMMITTEE)
    )
    await run(m, SECRETARY, lambda u: sh.decide_stage(u, sid, 1, decision, SECRETARY))
    assert of(m, "StageDecided")[-1]["body"] == "branch"
