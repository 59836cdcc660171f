"""R1 tiered authority, R6 and R7 permissions, decided from the directory copy. No I/O."""

from __future__ import annotations

from dataclasses import replace

import pytest

from services.review import access
from services.review.aggregates import Subject
from services.review.events import SubjectKind
from shared.auth import Principal, Role

BRANCH = Subject(
    SubjectKind.BRANCH, "b-1", "支部", "b-1", "t-1", "minqin", True, False, "m-sec", "head-1"
)
LEADER = Subject(
    SubjectKind.MEMBER, "m-lead", "班子", "b-1", "t-1", "minqin", True, True, "m-sec", "head-1"
)
MEMBER = Subject(
    SubjectKind.MEMBER, "m-1", "党员", "b-1", "t-1", "minqin", True, False, "m-sec", "head-1"
)
SECRETARY = Subject(
    SubjectKind.MEMBER, "m-sec", "书记", "b-1", "t-1", "minqin", True, False, "m-sec", "head-1"
)


def who(role: Role, org: str | None, subject: str = "someone") -> Principal:
    return Principal(subject=subject, role=role, org=org)


COMMITTEE = who(Role.TOWNSHIP_COMMITTEE, "t-1")  # the committee's account, not the head
HEAD = who(Role.TOWNSHIP_COMMITTEE, "t-1", "head-1")
HEAD_BY_SUBJECT = who(Role.TOWNSHIP_COMMITTEE, None, "head-1")
THE_SECRETARY = who(Role.BRANCH_SECRETARY, "b-1", "m-sec")
FORMER_SECRETARY = who(Role.BRANCH_SECRETARY, "b-1", "m-old")
OTHERS = [
    who(Role.TOWNSHIP_COMMITTEE, "t-2"),
    who(Role.TOWNSHIP_OFFICE, "t-1"),
    who(Role.COUNTY_ADMIN, "minqin"),
    who(Role.BRANCH_SECRETARY, "b-2", "m-sec"),
    FORMER_SECRETARY,
    who(Role.MEMBER, "b-1", "m-1"),
    who(Role.RATER, "t-1"),
    who(Role.AUDITOR, None),
    who(Role.INTEGRATION, None),
    who(Role.MEMBER, "b-1", "head-1"),  # the head's subject in another role
]


@pytest.mark.parametrize("subject", [BRANCH, LEADER])
def test_the_township_head_reviews_a_branch_and_its_leadership_team(subject: Subject) -> None:
    assert access.may_review(HEAD, subject)
    assert access.may_review(HEAD_BY_SUBJECT, subject)
    assert not access.may_review(THE_SECRETARY, subject)
    assert not access.may_review(COMMITTEE, subject)  # nobody else, once a head is named
    assert not access.may_review(who(Role.TOWNSHIP_COMMITTEE, "t-2", "head-1"), subject)
    for other in OTHERS:
        assert not access.may_review(other, subject), other


@pytest.mark.parametrize("subject", [BRANCH, LEADER])
def test_the_committee_acts_for_the_head_only_while_none_is_named(subject: Subject) -> None:
    headless = replace(subject, head_id=None)
    assert access.may_review(COMMITTEE, headless)
    assert not access.may_review(HEAD_BY_SUBJECT, headless)  # no township on the token
    assert not access.may_review(who(Role.TOWNSHIP_COMMITTEE, "t-2"), headless)


def test_the_secretary_reviews_the_branchs_other_members() -> None:
    assert access.may_review(THE_SECRETARY, MEMBER)
    assert not access.may_review(COMMITTEE, MEMBER)
    for other in OTHERS:
        assert not access.may_review(other, MEMBER), other


def test_nobody_reviews_themself_and_the_secretary_is_reviewed_by_the_township() -> None:
    assert not access.may_review(THE_SECRETARY, SECRETARY)
    assert not access.may_review(who(Role.MEMBER, "b-1", "m-1"), MEMBER)
    assert access.may_review(HEAD, SECRETARY)  # even when not marked leadership team
    assert not access.may_review(COMMITTEE, SECRETARY)


def test_journals_are_kept_by_the_member_and_evaluated_one_tier_up() -> None:
    me = who(Role.MEMBER, "b-1", "m-1")
    assert access.writes_journal(me, MEMBER)
    assert not access.writes_journal(THE_SECRETARY, MEMBER)
    assert access.evaluates_presentation(THE_SECRETARY, MEMBER)
    assert not access.evaluates_presentation(FORMER_SECRETARY, MEMBER)
    assert not access.evaluates_presentation(THE_SECRETARY, SECRETARY)
    assert access.evaluates_presentation(COMMITTEE, SECRETARY)
    assert access.sees_journal(me, MEMBER)
    assert access.sees_journal(THE_SECRETARY, MEMBER)
    assert not access.sees_journal(who(Role.MEMBER, "b-1", "m-2"), MEMBER)


def test_visits_are_recorded_by_township_or_county_cadres() -> None:
    assert access.records_visit(COMMITTEE, BRANCH)
    assert access.records_visit(who(Role.COUNTY_ADMIN, "minqin"), BRANCH)
    assert not access.records_visit(who(Role.COUNTY_ADMIN, "gulang"), BRANCH)
    assert not access.records_visit(THE_SECRETARY, BRANCH)


def test_the_head_as_a_leadership_team_member_is_reviewed_by_the_committee() -> None:
    the_head_as_member = replace(LEADER, subject_id="head-1")
    assert not access.may_review(HEAD, the_head_as_member)  # nobody reviews themself
    assert access.may_review(COMMITTEE, the_head_as_member)
    assert not access.may_review(who(Role.TOWNSHIP_COMMITTEE, "t-2"), the_head_as_member)


def test_who_may_see_the_record_may_see_its_files() -> None:
    public = who(Role.PUBLIC, None, "public")
    visit = {"kind": "visit", "township_id": "t-1", "current": True}
    review = {"kind": "review", "township_id": "t-1", "current": True}
    old_review = {**review, "current": False}
    journal = {"kind": "journal", "township_id": "t-1", "current": True}
    assert access.sees_file_of(public, visit, None, set())
    assert access.sees_file_of(public, review, None, set())
    assert not access.sees_file_of(public, old_review, None, {"minqin"})
    assert access.sees_file_of(who(Role.TOWNSHIP_OFFICE, "t-1"), old_review, None, {"minqin"})
    assert not access.sees_file_of(who(Role.TOWNSHIP_OFFICE, "t-2"), old_review, None, {"minqin"})
    assert not access.sees_file_of(public, journal, MEMBER, set())
    assert access.sees_file_of(who(Role.MEMBER, "b-1", MEMBER.subject_id), journal, MEMBER, set())
    assert access.sees_file_of(THE_SECRETARY, journal, MEMBER, set())
    assert not access.sees_file_of(FORMER_SECRETARY, journal, MEMBER, set())
    # auditors and the county's administrator: of the county the township is in (X1)
    for county_staff in (who(Role.AUDITOR, "minqin"), who(Role.COUNTY_ADMIN, "minqin")):
        assert access.sees_file_of(county_staff, old_review, None, {"minqin"})
        assert access.sees_file_of(county_staff, journal, MEMBER, set())
    for stranger in (who(Role.AUDITOR, "gulang"), who(Role.AUDITOR, None)):
        assert not access.sees_file_of(stranger, old_review, None, {"minqin"})
        assert not access.sees_file_of(stranger, journal, MEMBER, set())
    assert not access.sees_file_of(who(Role.AUDITOR, "minqin"), old_review, None, {None})
