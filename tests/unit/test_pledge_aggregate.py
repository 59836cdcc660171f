"""The pledge's rules, with no I/O (P1–P11)."""

from __future__ import annotations

from datetime import date

import pytest

from services.pledge.aggregates import (
    DEFAULT_CATEGORIES,
    County,
    Pledge,
    Pledger,
    PledgeStatus,
    default_publication_deadline,
)
from services.pledge.commands import ProposedItem
from services.pledge.events import (
    REGISTRY,
    BranchKind,
    ImplementationVerified,
    ItemClosed,
    OpinionChannel,
    PledgeApproved,
    PledgeReturned,
    PledgerKind,
    ProblemSolvedConfirmed,
    Verdict,
)
from shared.errors import InvalidInput, InvalidState

CATEGORIES = DEFAULT_CATEGORIES[BranchKind.VILLAGE]
TODAY = date(2027, 1, 10)
BRANCH = Pledger(PledgerKind.BRANCH, "b-1", "village", None, "红沙梁村党支部", "t-1", "minqin")


def draft(
    title: str = "压沙造林500亩", category: str = "治沙造林", **extra: object
) -> ProposedItem:
    return ProposedItem(
        title=title,
        description="措施",
        category=category,
        target="成活率85%",
        due_date=date(2027, 10, 1),
        **extra,
    )  # type: ignore[arg-type]


def replayed(pledge: Pledge) -> Pledge:
    """The same pledge rebuilt from all its events (`pending` holds every event since the
    draft): decisions must not depend on anything but the events."""
    return Pledge.replay(pledge.stream_id, pledge.partition, pledge.pending)


def proposed(*titles: str) -> tuple[Pledge, list[str]]:
    pledge = Pledge.draft(2027, BRANCH)
    item_ids = pledge.propose("实施方案", [draft(t) for t in titles], CATEGORIES, TODAY)
    return pledge, item_ids


def approve_all(pledge: Pledge, item_ids: list[str]) -> None:
    for item_id in item_ids:
        pledge.review_item(
            item_id,
            shows_advanced_standard=True,
            matches_wishes=True,
            feasible=True,
            approve=True,
            guidance=None,
        )


def published(*titles: str) -> tuple[Pledge, list[str]]:
    pledge, item_ids = proposed(*titles)
    approve_all(pledge, item_ids)
    pledge.publish()
    return pledge, item_ids


def test_one_pledge_per_pledger_and_year_by_its_id() -> None:
    assert Pledge.draft(2027, BRANCH).pledge_id == Pledge.id_for(2027, BRANCH) == "p2027-b-1"
    member = Pledger(PledgerKind.MEMBER, "b-1", "village", "m-9", "李秀英", "t-1", "minqin")
    assert Pledge.draft(2027, member).pledge_id == "p2027-m-9"


def test_items_must_use_the_branch_kinds_categories_and_known_opinions() -> None:
    pledge = Pledge.draft(2027, BRANCH)
    with pytest.raises(InvalidInput) as error:
        pledge.propose("方案", [draft(category="提升机关效能")], CATEGORIES, TODAY)
    assert error.value.extra["errors"][0]["field"] == "items.0.category"
    with pytest.raises(InvalidInput):
        pledge.propose("方案", [draft(shaped_by=("nope",))], CATEGORIES, TODAY)
    opinion = pledge.record_opinion(OpinionChannel.SUGGESTION_BOX, TODAY, "希望治沙")
    pledge.propose("方案", [draft(shaped_by=(opinion,))], CATEGORIES, TODAY)
    assert pledge.status is PledgeStatus.UNDER_REVIEW


def test_past_due_dates_are_refused() -> None:
    pledge = Pledge.draft(2027, BRANCH)
    late = draft().model_copy(update={"due_date": date(2026, 12, 1)})
    with pytest.raises(InvalidInput):
        pledge.propose("方案", [late], CATEGORIES, TODAY)


def test_approval_needs_all_three_criteria_and_a_return_needs_guidance() -> None:
    pledge, [item] = proposed("压沙造林")
    with pytest.raises(InvalidInput):
        pledge.review_item(
            item,
            shows_advanced_standard=True,
            matches_wishes=False,
            feasible=True,
            approve=True,
            guidance=None,
        )
    with pytest.raises(InvalidInput):
        pledge.review_item(
            item,
            shows_advanced_standard=True,
            matches_wishes=True,
            feasible=False,
            approve=False,
            guidance=None,
        )


def test_a_returned_item_is_revised_and_reviewed_again_every_round_kept() -> None:
    pledge, (first, second) = proposed("压沙造林", "节水滴灌")
    approve_all(pledge, [first])
    pledge.review_item(
        second,
        shows_advanced_standard=True,
        matches_wishes=True,
        feasible=False,
        approve=False,
        guidance="目标过大",
    )
    assert pledge.status is PledgeStatus.RETURNED
    assert isinstance(pledge.pending[-1], PledgeReturned)
    with pytest.raises(InvalidInput):  # must revise exactly the returned items
        pledge.resubmit({first: draft()}, "改", CATEGORIES, TODAY)
    pledge.resubmit({second: draft("节水滴灌300亩")}, "按指导修改", CATEGORIES, TODAY)
    pledge = replayed(pledge)
    assert (pledge.status, pledge.round) == (PledgeStatus.UNDER_REVIEW, 2)
    approve_all(pledge, [second])
    assert pledge.status is PledgeStatus.APPROVED


def test_only_approved_pledges_publish_and_only_published_items_progress() -> None:
    pledge, [item] = proposed("压沙造林")
    with pytest.raises(InvalidState):
        pledge.publish()
    with pytest.raises(InvalidState):
        pledge.report_progress(item, "进展", 10, ())
    approve_all(pledge, [item])
    pledge.publish()
    pledge.report_progress(item, "进展", 10, ())


def test_three_no_pass_closing_rule() -> None:
    pledge, [item] = published("压沙造林")
    with pytest.raises(InvalidState):  # nothing to confirm before the item is reported done
        pledge.confirm_problem_solved(item, "解决")
    pledge.report_done(item, "完成")
    pledge.confirm_problem_solved(item, "解决")
    pledge.verify_implementation(item, "核查到位")
    assert not any(isinstance(e, ItemClosed) for e in pledge.pending)
    assert pledge.items[item].open_reasons() == ["satisfaction_pending"]
    pledge.record_verdict(item, Verdict.DISSATISFIED, 0.4, "c-1", "e-1")
    assert pledge.items[item].open_reasons() == ["public_not_satisfied"]
    assert not pledge.items[item].closed
    pledge.report_done(item, "整改后再次完成")  # a new satisfaction check follows
    pledge.record_verdict(item, Verdict.SATISFIED, 0.9, "c-2", "e-2")
    assert isinstance(pledge.pending[-1], ItemClosed)
    assert replayed(pledge).items[item].closed
    with pytest.raises(InvalidState):
        pledge.report_progress(item, "已关闭", 100, ())


def test_the_events_record_the_open_reasons_where_they_change_p10() -> None:
    """The rule lives in the pledge: its events say why an item is still open after each
    step (the ledger and the board take them from there), and what closed it."""
    pledge, [item] = published("压沙造林")

    def recorded() -> list[str]:
        reasons: list[str] = pledge.pending[-1].model_dump(mode="json")["open_reasons"]
        return reasons

    assert recorded() == [
        "not_reported_done",
        "problem_not_solved",
        "implementation_not_verified",
        "satisfaction_pending",
    ]
    pledge.report_done(item, "完成")
    assert recorded() == [
        "problem_not_solved",
        "implementation_not_verified",
        "satisfaction_pending",
    ]
    pledge.record_verdict(item, Verdict.DISSATISFIED, 0.4, "c-1", "e-1")
    assert recorded() == [
        "problem_not_solved",
        "implementation_not_verified",
        "public_not_satisfied",
    ]
    pledge.confirm_problem_solved(item, "解决")
    assert recorded() == ["implementation_not_verified", "public_not_satisfied"]
    pledge.report_done(item, "整改后再次完成")  # the verdict starts over
    assert recorded() == ["implementation_not_verified", "satisfaction_pending"]
    pledge.record_verdict(item, Verdict.SATISFIED, 0.9, "c-2", "e-2")
    assert recorded() == ["implementation_not_verified"]
    pledge.verify_implementation(item, "核查到位")
    verified, closed = pledge.pending[-2:]
    assert isinstance(verified, ImplementationVerified)
    assert verified.open_reasons == ()
    assert isinstance(closed, ItemClosed)
    assert list(closed.reasons) == ["problem_solved", "implementation_verified", "public_satisfied"]
    assert replayed(pledge).items[item].open_reasons() == []


def test_a_log_written_before_the_reasons_reads_as_before() -> None:
    old = {"pledge_id": "p1", "item_id": "p1-i1"}
    closed = REGISTRY.decode("ItemClosed", 1, old)
    assert isinstance(closed, ItemClosed)
    assert list(closed.reasons) == ["problem_solved", "implementation_verified", "public_satisfied"]
    solved = REGISTRY.decode("ProblemSolvedConfirmed", 1, {**old, "note": "解决"})
    assert isinstance(solved, ProblemSolvedConfirmed)
    assert solved.open_reasons is None  # the ledger states them by the rule


def test_a_verdict_first_closes_when_the_office_confirms_last() -> None:
    pledge, [item] = published("压沙造林")
    pledge.report_done(item, "完成")
    pledge.record_verdict(item, Verdict.SATISFIED, 0.95, "c-1", "e-1")
    pledge.verify_implementation(item, "核查到位")
    assert not pledge.items[item].closed
    pledge.confirm_problem_solved(item, "解决")
    assert pledge.items[item].closed


def test_a_check_with_no_ballot_leaves_the_item_open_not_rated_e8() -> None:
    """No ballot, no verdict: the item stays open because it was not rated (未开展满意度测评),
    not because the public was dissatisfied; reported done again, a new check follows."""
    pledge, [item] = published("压沙造林")
    pledge.report_done(item, "完成")
    pledge.confirm_problem_solved(item, "解决")
    pledge.verify_implementation(item, "核查到位")
    assert pledge.record_not_rated(item, "c-1", "e-1")
    assert pledge.pending[-1].model_dump(mode="json")["open_reasons"] == ["satisfaction_not_rated"]
    assert replayed(pledge).items[item].open_reasons() == ["satisfaction_not_rated"]
    assert not pledge.items[item].closed
    # the office reopens the check: the verdict is pending again; then it lapses once more
    assert pledge.record_reopened(item, "c-1", "e-r")
    assert pledge.items[item].open_reasons() == ["satisfaction_pending"]
    assert not pledge.record_reopened(item, "c-1", "e-r2")  # not waiting as not rated
    assert pledge.record_not_rated(item, "c-1", "e-l2")
    pledge.report_done(item, "再次完成，请群众测评")  # allowed: the check had no verdict
    assert pledge.items[item].open_reasons() == ["satisfaction_pending"]
    pledge.record_verdict(item, Verdict.SATISFIED, 0.9, "c-2", "e-2")
    assert pledge.items[item].closed
    assert not pledge.record_not_rated(item, "c-2", "e-3")  # closed: no longer applies


def test_a_pledge_approved_after_the_drafting_deadline_stays_marked_late_p6() -> None:
    deadline = date(2027, 3, 15)
    on_time, [item] = proposed("压沙造林")
    on_time.review_item(
        item,
        shows_advanced_standard=True,
        matches_wishes=True,
        feasible=True,
        approve=True,
        guidance=None,
        today=deadline,
        drafting_deadline=deadline,
    )
    [approved] = [e for e in on_time.pending if isinstance(e, PledgeApproved)]
    assert (approved.late, approved.approved_on) == (False, deadline)
    late, [item] = proposed("压沙造林")
    late.review_item(
        item,
        shows_advanced_standard=True,
        matches_wishes=True,
        feasible=True,
        approve=True,
        guidance=None,
        today=date(2027, 3, 16),
        drafting_deadline=deadline,
    )
    [approved] = [e for e in late.pending if isinstance(e, PledgeApproved)]
    assert approved.late
    assert approved.drafting_deadline == deadline
    # an approval written before the field reads as it was: not marked
    old = REGISTRY.decode("PledgeApproved", 1, {"pledge_id": "p1", "round": 1})
    assert isinstance(old, PledgeApproved)
    assert not old.late


def test_the_publication_deadline_is_the_countys_data_p7() -> None:
    county = County.establish("minqin", "民勤县")
    county.set_calendar(2027, date(2027, 3, 15))
    assert county.pending[-1].model_dump()["publication_deadline"] is None  # the default
    assert default_publication_deadline(date(2027, 3, 15)) == date(2027, 3, 31)
    county.set_calendar(2027, date(2027, 3, 15), date(2027, 4, 10))
    with pytest.raises(InvalidInput, match="不早于定诺截止日期"):
        county.set_calendar(2027, date(2027, 3, 15), date(2027, 3, 1))


def test_quarterly_push_once_per_quarter_in_the_pledge_year() -> None:
    pledge, _ = published("压沙造林")
    pledge.push_quarter("2027Q1", "良好", "加快")
    with pytest.raises(InvalidState):
        pledge.push_quarter("2027Q1", "良好", "加快")
    with pytest.raises(InvalidInput):
        pledge.push_quarter("2025Q1", "良好", "加快")
