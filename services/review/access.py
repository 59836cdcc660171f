"""Who may do what (R1, R6, R7), decided from this service's copy of the directory. Pure."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from services.review.aggregates import Subject
from services.review.events import SubjectKind
from shared.auth import (
    Principal,
    Role,
    auditor_of,
    county_admin,
    township_committee,
    township_office,
)


def township_leadership(who: Principal, subject: Subject) -> bool:
    """The township's leading cadres: its committee's accounts, or the head the directory
    names, identified by the token's subject (journals, visits, presentations)."""
    if who.role is not Role.TOWNSHIP_COMMITTEE:
        return False
    return who.org == subject.township_id or (
        subject.head_id is not None and who.subject == subject.head_id
    )


def township_head(who: Principal, subject: Subject) -> bool:
    """R1: the head of the upper-level organisation files its reviews. Once the directory
    names the township's head, only a committee token whose subject is that person (a former
    head's no longer counts, as with secretaries, D3); until one is named, the committee's
    own account acts for the head, and also when the head is the one reviewed (a member of
    a leadership team in the township), since nobody reviews themself."""
    if who.role is not Role.TOWNSHIP_COMMITTEE:
        return False
    if subject.head_id is not None and subject.head_id != subject.subject_id:
        return who.subject == subject.head_id and who.org in (None, subject.township_id)
    return who.org == subject.township_id


def assigned_leader(who: Principal, subject: Subject) -> bool:
    """R1: a leader of the township the office assigned to the subject's branch, while the
    assignment lasts (a committee token whose subject is that person)."""
    return (
        who.role is Role.TOWNSHIP_COMMITTEE
        and who.org in (None, subject.township_id)
        and who.subject is not None
        and who.subject in subject.leaders
    )


def assigns_leaders(who: Principal, branch: Subject) -> bool:
    """创先办安排负责人: the township office assigns its leaders to branches."""
    return township_office(who, branch.township_id)


def branch_secretary(who: Principal, subject: Subject) -> bool:
    """The branch's current secretary as the copy shows it: the role at the branch, and the
    person appointed (a former secretary's token no longer counts, D3)."""
    return (
        who.role is Role.BRANCH_SECRETARY
        and who.org == subject.branch_id
        and subject.secretary_id is not None
        and who.subject == subject.secretary_id
    )


def reviews_by_township(subject: Subject) -> bool:
    """R1: the township reviews a branch and its leadership team (the secretary always
    belongs to it); the secretary reviews the rest."""
    return (
        subject.kind is SubjectKind.BRANCH
        or subject.leadership_team
        or subject.secretary_id == subject.subject_id
    )


def may_review(who: Principal, subject: Subject) -> bool:
    """R1 tiered authority: the township's head, or a leader assigned to the branch, reviews
    the branch, its leadership team and its secretary; the secretary the other members;
    nobody else may review the subject, and nobody reviews self."""
    if subject.kind is SubjectKind.MEMBER and who.subject == subject.subject_id:
        return False
    if reviews_by_township(subject):
        return township_head(who, subject) or assigned_leader(who, subject)
    return branch_secretary(who, subject)


def writes_journal(who: Principal, member: Subject) -> bool:
    """R6: a member keeps their own journal."""
    return who.role is Role.MEMBER and who.subject == member.subject_id


def enters_journal_for(who: Principal, member: Subject) -> bool:
    """R6: a member who keeps the journal on paper: the branch's secretary enters it on the
    member's behalf (recorded so: the secretary the actor, the member named)."""
    return branch_secretary(who, member) and who.subject != member.subject_id


def evaluates_presentation(who: Principal, member: Subject) -> bool:
    """R6: the branch evaluates at its organisation life meeting, chaired by the secretary;
    the secretary's own presentation is evaluated by the township."""
    if who.subject == member.subject_id:
        return False
    if member.secretary_id == member.subject_id:
        return township_leadership(who, member)
    return branch_secretary(who, member)


def sees_journal(who: Principal, member: Subject) -> bool:
    return (
        who.subject == member.subject_id
        or branch_secretary(who, member)
        or township_leadership(who, member)
        or (who.role is Role.TOWNSHIP_OFFICE and who.org == member.township_id)
        or (who.role is Role.COUNTY_ADMIN and who.org == member.county_id)
        or auditor_of(who, member.county_id)
    )


def records_visit(who: Principal, branch: Subject) -> bool:
    """R7: leading cadres of the township (or of the county) record their visits."""
    return township_leadership(who, branch) or (
        who.role is Role.COUNTY_ADMIN and who.org == branch.county_id
    )


def sees_history(who: Principal, township_id: str | None, counties: Collection[str | None]) -> bool:
    """Superseded versions of reviews are for auditors, the county administrator and the
    staff of the reviews' own township (X1: not another township's, nor another county's:
    `counties` are those the reviews asked for lie in, shared/directory.py `counties_of`);
    the public sees the current version of each (N1)."""
    if who.role in (Role.AUDITOR, Role.COUNTY_ADMIN):
        return bool(counties) and all(
            county is not None and (auditor_of(who, county) or county_admin(who, county))
            for county in counties
        )
    return township_id is not None and (
        township_committee(who, township_id) or township_office(who, township_id)
    )


def sees_file_of(
    who: Principal, use: dict[str, Any], member: Subject | None, counties: Collection[str | None]
) -> bool:
    """Who may see the record may see its files: a visit and a current review are public (the
    board shows them); a superseded review is its history's (`counties`: its township's); a
    journal entry is for whoever sees the member's journal (`member`: the journal's, from
    the copy)."""
    if use["kind"] == "journal":
        return member is not None and sees_journal(who, member)
    if use["kind"] == "review" and not use["current"]:
        return sees_history(who, use["township_id"], counties)
    return True
