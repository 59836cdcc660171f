"""Voting from a phone (issue 17), with no server: codes, invitations, the urn's batches and
their order, and the answers to abuse (reuse, a closed round, another round's code, guessing),
on the real handlers over the in-memory event store and ports (tests/support/evaluation.py)."""

from __future__ import annotations

import re
from collections import Counter
from typing import Any

from services.evaluation.rounds import handlers as h
from services.evaluation.voting import commands as vc
from services.evaluation.voting import handlers as vh
from services.evaluation.voting.aggregates import code_hash, masked_name, new_code, normalise
from services.evaluation.voting.aggregates.codes import ALPHABET
from services.evaluation.voting.aggregates.urn import batch_due, shuffled, wait_after
from services.evaluation.voting.events import Scope
from shared.auth import Role
from shared.errors import Forbidden, InvalidInput, InvalidState
from tests.support.memory import Memory
from tests.unit.test_evaluation_handlers import (
    OFFICE,
    OTHERS,
    opened,
    opened_check,
    raters,
    refused,
    run,
    township_round,
    who,
    world,
)

ADDRESS = "203.0.113.7"


# --- codes -------------------------------------------------------------------------------------


def test_a_code_has_80_random_bits_in_four_groups_and_forgives_typing() -> None:
    code = new_code()
    assert re.fullmatch(r"([0-9A-HJKMNP-TV-Z]{4}-){3}[0-9A-HJKMNP-TV-Z]{4}", code)
    assert len(ALPHABET) == 32
    assert 16 * 5 == 80
    assert len({new_code() for _ in range(1000)}) == 1000
    raw = code.replace("-", "")
    typed = " ".join(raw.lower()[i : i + 2] for i in range(0, 16, 2))  # spaces, lower case
    assert normalise(typed) == code
    assert normalise("OIL0-0000-0000-0000") == "0110-0000-0000-0000"  # look-alikes
    assert normalise("0000-0000-0000-000") is None  # too short
    assert normalise("0000-0000-0000-000U") is None  # not in the alphabet
    assert code_hash(code) != code_hash(new_code())
    assert code not in code_hash(code)


def test_a_named_slip_shows_the_name_masked() -> None:
    assert (masked_name("张桂兰"), masked_name("李四"), masked_name(None)) == ("张*兰", "李*", None)


# --- the urn's rules ---------------------------------------------------------------------------


def test_a_batch_is_due_at_k_ballots_and_at_close_whatever_remains() -> None:
    assert not batch_due(9, 10, closing=False)
    assert batch_due(10, 10, closing=False)
    assert batch_due(1, 10, closing=True)
    assert not batch_due(0, 10, closing=True)


def test_the_shuffle_leaves_no_trace_of_the_order() -> None:
    """Where the first voter's ballot ends up is uniform over the batch (a loose bound: a
    failure by chance is far less likely than one in a million)."""
    trials, k = 9000, 9
    where = Counter(shuffled(list(range(k))).index(0) for _ in range(trials))
    assert set(where) == set(range(k))
    assert all(800 <= n <= 1200 for n in where.values()), where


def test_wrong_codes_wait_longer_and_longer() -> None:
    assert [wait_after(n) for n in range(1, 9)] == [0, 0, 0, 0, 1, 2, 4, 8]
    assert wait_after(100) == 3600


# --- invitations -------------------------------------------------------------------------------


async def round_with_raters(m: Memory, n: int) -> tuple[str, list[str]]:
    round_id = await opened(m, township_round(), OFFICE)
    cmd = raters(*[{"kind": "public"} for _ in range(n)])
    answer = await run(m, OFFICE, lambda u: h.register_raters(u, round_id, cmd, OFFICE))
    return round_id, answer["rater_ids"]


async def invite(m: Memory, round_id: str, **cmd: Any) -> list[dict[str, Any]]:
    issue = vc.IssueInvitations(**cmd)
    answer = await run(
        m, OFFICE, lambda u: vh.issue_invitations(u, Scope.ROUND, round_id, issue, OFFICE)
    )
    slips: list[dict[str, Any]] = answer["invitations"]
    return slips


async def test_the_organiser_invites_each_rater_once_and_only_a_hash_is_kept() -> None:
    m, ports = world()
    round_id, rater_ids = await round_with_raters(m, 3)
    mark = len(m.events)
    slips = await invite(m, round_id)
    assert sorted(s["rater_id"] for s in slips) == sorted(rater_ids)
    assert m.types(mark) == ["InvitationIssued"] * 3
    log = str([e.data for e in m.events])
    for slip in slips:
        assert slip["code"] not in log
        assert slip["code"].replace("-", "") not in log
        assert ports.voting.invitations[code_hash(slip["code"])]["rater_id"] == slip["rater_id"]
    assert all(slip["code"] not in str(ports.voting.invitations) for slip in slips)
    assert await invite(m, round_id) == []  # again: nobody new to invite, nothing appended
    assert len(m.events) == mark + 3
    issue = vc.IssueInvitations()
    for principal in OTHERS.values():
        await refused(
            m,
            Forbidden,
            principal,
            lambda u, p=principal: vh.issue_invitations(u, Scope.ROUND, round_id, issue, p),
        )
    stranger = vc.IssueInvitations(rater_ids=("rt-nobody",))
    error = await refused(
        m,
        InvalidInput,
        OFFICE,
        lambda u: vh.issue_invitations(u, Scope.ROUND, round_id, stranger, OFFICE),
    )
    assert error.extra["errors"][0]["field"] == "rater_ids.0"


async def test_a_reissued_invitation_kills_the_old_code() -> None:
    m, _ = world()
    round_id, [first, *_] = await round_with_raters(m, 2)
    [old] = await invite(m, round_id, rater_ids=(first,))
    again = vc.ReissueInvitation()
    answer = await run(
        m,
        OFFICE,
        lambda u: vh.reissue_invitation(u, Scope.ROUND, round_id, first, again, OFFICE),
    )
    [new] = answer["invitations"]
    assert new["code"] != old["code"]
    assert m.types(len(m.events) - 1) == ["InvitationReissued"]
    error = await refused(m, InvalidState, OFFICE, lambda u: opened_ballot(u, old["code"]))
    assert "已作废" in error.detail
    view = await run(m, OFFICE, lambda u: opened_ballot(u, new["code"]))
    assert [s["subject_id"] for s in view["subjects"]] == ["b1", "b2"]


def opened_ballot(u: Any, code: str) -> Any:
    return vh.open_ballot(u, vc.OpenBallot(code=code), ADDRESS)


def ballot(code: str, scope_id: str, **grades: str) -> vc.VoteWithCode:
    return vc.VoteWithCode(code=code, scope_id=scope_id, grades=grades)


async def cast(m: Memory, cmd: vc.VoteWithCode, batch: int = 10) -> Any:
    public = who(Role.PUBLIC)
    return await run(m, public, lambda u: vh.vote(u, cmd, ADDRESS, batch))


# --- the urn -------------------------------------------------------------------------------------


async def test_ballots_wait_in_the_urn_and_are_appended_in_batches_of_k() -> None:
    m, ports = world()
    round_id, _ = await round_with_raters(m, 5)
    slips = await invite(m, round_id)
    mark = len(m.events)
    for slip in slips[:2]:
        answer = await cast(m, ballot(slip["code"], round_id, b1="satisfied"), batch=3)
        assert answer == {"id": round_id, "status": "已提交"}  # no receipt
    assert m.types(mark) == ["RaterParticipated"] * 2  # the ballots wait in the urn
    assert len(ports.voting.urn) == 2
    await cast(m, ballot(slips[2]["code"], round_id, b1="dissatisfied"), batch=3)
    assert m.types(mark) == ["RaterParticipated"] * 3 + ["BallotCast"] * 3
    assert {e.actor for e in m.events[-3:]} == {"anonymous"}
    assert len({e.correlationid for e in m.events[-4:]}) == 2  # the batch: not the vote's
    assert ports.voting.urn == []
    await cast(m, ballot(slips[3]["code"], round_id, b1="satisfied", b2="satisfied"), batch=3)
    await run(m, OFFICE, lambda u: h.close_round(u, round_id, OFFICE))
    assert m.types(mark + 7) == ["BallotCast", "RoundClosed", "RoundResultsPublished"]
    assert ports.voting.urn == []
    [results] = [e.data for e in m.events if e.type == "RoundResultsPublished"]
    counts = {r["subject_id"]: r["counts"] for r in results["results"]}
    assert counts["b1"]["satisfied"] == 3
    assert counts["b1"]["dissatisfied"] == 1
    # the invitations expired with the round
    error = await refused(
        m, InvalidState, who(Role.PUBLIC), lambda u: opened_ballot(u, slips[4]["code"])
    )
    assert "已经结束" in error.detail


async def test_the_appended_order_carries_no_trace_of_the_order_of_voting() -> None:
    """360 raters vote in 40 rounds of the same nine distinct ballots, in the same order; in
    each batch of nine the first voter's ballot lands anywhere (a loose bound)."""
    m, _ = world()
    k, batches = 9, 40
    round_id, _ = await round_with_raters(m, k * batches)
    slips = await invite(m, round_id)
    grades = ["satisfied", "mostly_satisfied", "dissatisfied"]
    distinct = [{"b1": a, "b2": b} for a in grades for b in grades]
    for index, slip in enumerate(slips):
        await cast(m, ballot(slip["code"], round_id, **distinct[index % k]), batch=k)
    appended = [e.data["grades"] for e in m.events if e.type == "BallotCast"]
    assert len(appended) == k * batches
    where = Counter(appended[i : i + k].index(distinct[0]) for i in range(0, len(appended), k))
    assert len(where) >= 5, where  # identity order would put it at 0 every time
    assert max(where.values()) <= 15, where


async def test_a_round_may_set_its_own_k() -> None:
    m, _ = world()
    round_id = await opened(m, township_round(urn_batch=2), OFFICE)
    cmd = raters({"kind": "public"}, {"kind": "public"})
    await run(m, OFFICE, lambda u: h.register_raters(u, round_id, cmd, OFFICE))
    [first, second] = await invite(m, round_id)
    mark = len(m.events)
    await cast(m, ballot(first["code"], round_id, b1="satisfied"), batch=10)
    assert m.types(mark) == ["RaterParticipated"]
    await cast(m, ballot(second["code"], round_id, b1="satisfied"), batch=10)
    assert m.types(mark) == ["RaterParticipated"] * 2 + ["BallotCast"] * 2  # k = 2, not 10


# --- abuse -------------------------------------------------------------------------------------


async def test_abuse_gets_a_clear_answer_in_chinese_and_appends_nothing() -> None:
    m, ports = world()
    round_id, _ = await round_with_raters(m, 2)
    other_round = await opened(m, township_round(title="另一轮评议"), OFFICE)
    slips = await invite(m, round_id)
    public = who(Role.PUBLIC)
    code = slips[0]["code"]
    await cast(m, ballot(code, round_id, b1="satisfied"))
    # once per subject per code
    error = await refused(
        m,
        InvalidState,
        public,
        lambda u: vh.vote(u, ballot(code, round_id, b1="satisfied"), ADDRESS, 10),
    )
    assert "已经投过" in error.detail
    # the other subject may still be voted on with the same code
    await cast(m, ballot(code, round_id, b2="dissatisfied"))
    error = await refused(m, InvalidState, public, lambda u: opened_ballot(u, code))
    assert "已经投过" in error.detail
    # a code of another round
    cmd = ballot(slips[1]["code"], other_round, b1="satisfied")
    error = await refused(m, InvalidState, public, lambda u: vh.vote(u, cmd, ADDRESS, 10))
    assert "不是本次评议" in error.detail
    # a wrong code: refused, counted against the address; after five, a growing wait
    wrong = ballot(new_code(), round_id, b1="satisfied")
    for _ in range(5):
        await refused(m, vh.WrongCode, public, lambda u: vh.vote(u, wrong, ADDRESS, 10))
        await run(m, public, lambda u: vh.record_wrong_code(u, ADDRESS))
    right = ballot(slips[1]["code"], round_id, b1="satisfied")
    error = await refused(m, vh.TooManyAttempts, public, lambda u: vh.vote(u, right, ADDRESS, 10))
    assert "秒后再试" in error.detail
    assert error.status == 429
    assert all(ADDRESS not in key for key in ports.voting.attempts)  # hashed
    # another address is not held up; after the wait the right code votes
    await run(m, public, lambda u: vh.vote(u, right, "198.51.100.1", 10))
    # a closed round
    await run(m, OFFICE, lambda u: h.close_round(u, round_id, OFFICE))
    error = await refused(m, InvalidState, public, lambda u: vh.vote(u, right, "198.51.100.2", 10))
    assert "结束" in error.detail


async def test_the_people_an_item_served_vote_with_a_code_and_the_verdict_follows() -> None:
    from services.evaluation.checks import commands as kc
    from services.evaluation.checks import handlers as kh

    m, ports = world()
    check_id = await opened_check(m)
    cmd = kc.RegisterServed.model_validate({"raters": [{}, {}]})
    await run(m, OFFICE, lambda u: kh.register_served(u, check_id, cmd, OFFICE))
    issue = vc.IssueInvitations()
    answer = await run(
        m, OFFICE, lambda u: vh.issue_invitations(u, Scope.CHECK, check_id, issue, OFFICE)
    )
    mark = len(m.events)
    for slip in answer["invitations"]:
        await cast(m, ballot(slip["code"], check_id, item="satisfied"))
    assert m.types(mark) == ["CheckRaterParticipated"] * 2  # fewer than k: wait until close
    verdict = await run(m, OFFICE, lambda u: kh.close_check(u, check_id, OFFICE))
    assert verdict["verdict"] == "satisfied"
    assert m.types(mark + 2) == ["CheckBallotCast"] * 2 + ["SatisfactionVerdictReached"]
    assert ports.voting.urn == []


# --- SMS -----------------------------------------------------------------------------------------


class RecordingSms:
    """The county's SMS channel (shared/sms.py's SmsGateway) as a list of what was sent."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, str, dict[str, str]]] = []

    async def send(
        self, phone: str, template: str, params: dict[str, str], *, sign_name: str | None = None
    ) -> None:
        self.sent.append((phone, template, params))


async def test_the_link_goes_by_sms_to_raters_with_a_phone_where_the_county_has_sms() -> None:
    m, ports = world()
    round_id, [with_phone, without] = await round_with_raters(m, 2)
    [first, _] = ports.voting.raters_of[round_id]
    first["phone"] = "13912345678"  # as the port opens it from the sealed personal data
    issue = vc.IssueInvitations(by_sms=True)
    answer = await run(
        m, OFFICE, lambda u: vh.issue_invitations(u, Scope.ROUND, round_id, issue, OFFICE, sms=True)
    )
    by_rater = {s["rater_id"]: s for s in answer["invitations"]}
    assert (by_rater[with_phone]["by_sms"], by_rater[without]["by_sms"]) == (True, False)
    [issued] = [
        e.data for e in m.events if e.data.get("rater_id") == with_phone and "by_sms" in e.data
    ]
    assert issued["by_sms"] is True
    assert "13912345678" not in str([e.data for e in m.events])  # the phone: not in an event
    sms = RecordingSms()
    slip = by_rater[with_phone]
    await vh.send_invitation(sms, slip["phone"], answer["view"], "https://gk.example", slip["code"])
    [(phone, template, params)] = sms.sent
    assert (phone, template) == ("13912345678", "vote_invitation")
    assert params["link"] == f"https://gk.example/vote#{slip['code']}"
    # without an SMS channel nothing is marked for SMS
    round_id, _ = await round_with_raters(m, 1)
    answer = await run(
        m, OFFICE, lambda u: vh.issue_invitations(u, Scope.ROUND, round_id, issue, OFFICE)
    )
    assert [s["by_sms"] for s in answer["invitations"]] == [False]


# --- the state cache the ballots load through --------------------------------------------------


async def test_a_cached_round_reads_only_what_was_appended_since_and_only_from_its_own_log() -> (
    None
):
    from services.evaluation.rounds.aggregates import Round
    from shared.unit_of_work import StateCache

    cache = StateCache(size=2)
    m, _ = world()
    round_id, [first, second] = await round_with_raters(m, 2)
    stream = f"round-{round_id}"
    loaded = await m.unit().load(Round, stream, cache)
    assert loaded is not None
    assert set(loaded.raters) == {first, second}
    loaded.raters.clear()  # a command changing what it loaded leaves the cache as it was
    slips = await invite(m, round_id)
    await cast(m, ballot(slips[0]["code"], round_id, b1="satisfied"))
    again = await m.unit().load(Round, stream, cache)
    assert again is not None
    assert set(again.raters) == {first, second}
    voted = [r for r, rater in again.raters.items() if rater.voted_on]
    assert len(voted) == 1
    assert again.version == len(await m.store.read_stream(stream))
    # the same stream id in another log (another database): read there, not from the cache
    other, _ = world()
    assert await other.unit().load(Round, stream, cache) is None
    for n in range(3):  # at most `size` states are kept
        cache.keep(f"s-{n}", "e", again)
    assert len(cache) == 2
