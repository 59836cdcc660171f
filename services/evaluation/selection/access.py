"""Who may do what in the annual selection (S1–S3), at each level (township, county,
branch). Pure functions of the caller and the records.

The organiser (the township office; the county's administrator; the branch secretary)
opens it, gathers nominations, scores the stages, posts the notice and records objections
from people who come in person; the deciding body (the township committee; the county; the
branch, by its secretary) decides each stage and issues the commendation."""

from __future__ import annotations

from services.evaluation.access import branch_secretary
from services.evaluation.selection.aggregates import Selection
from services.evaluation.selection.events import Level
from shared.auth import Principal, Role, county_admin, township_committee, township_office


def runs(principal: Principal, selection: Selection) -> bool:
    """The organiser: 创先办 (the township office) organises the township's selection."""
    match selection.level:
        case Level.COUNTY:
            return county_admin(principal, selection.organisation_id)
        case Level.BRANCH:
            return branch_secretary(principal, selection.organisation_id)
    return township_office(principal, selection.township_id)


def decides(principal: Principal, selection: Selection) -> bool:
    """层层筛选: the body that decides the stages and issues the commendation: 镇党委 (the
    township committee) for the township's selection, not its office."""
    match selection.level:
        case Level.COUNTY:
            return county_admin(principal, selection.organisation_id)
        case Level.BRANCH:
            return branch_secretary(principal, selection.organisation_id)
    return township_committee(principal, selection.township_id)


def answers_objections(principal: Principal, selection: Selection) -> bool:
    """The deciding body or the organiser answers objections."""
    return decides(principal, selection) or runs(principal, selection)


def objects(principal: Principal) -> bool:
    """Auditors and integrations read; they do not object."""
    return principal.role not in (Role.AUDITOR, Role.INTEGRATION)


def of_township(who: Principal, township_id: str, county_id: str, home: str | None) -> bool:
    """S3: the township's people (its members and branch secretaries, `home` being the
    township the directory copy places them in), its committee and office, and the county's
    administrator above it. A rater's token is for one round's ballot, not for this."""
    if who.role in (Role.MEMBER, Role.BRANCH_SECRETARY):
        return home == township_id
    return (
        township_committee(who, township_id)
        or township_office(who, township_id)
        or county_admin(who, county_id)
    )


def of_county(who: Principal, county_id: str, home_county: str | None) -> bool:
    """A county selection's notice: the county's people (`home_county` being the county the
    caller's township, or own, is in), the townships' committees and offices, its admin."""
    if who.role is Role.COUNTY_ADMIN:
        return who.org == county_id
    if who.role in (
        Role.MEMBER,
        Role.BRANCH_SECRETARY,
        Role.TOWNSHIP_COMMITTEE,
        Role.TOWNSHIP_OFFICE,
    ):
        return home_county == county_id
    return False
