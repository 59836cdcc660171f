"""Who may do what in the identity service, by role and place. Pure functions of the caller
and the places involved (a `Place`: the county and, below it, the township of an org)."""

from __future__ import annotations

from dataclasses import dataclass

from shared.auth import (
    Principal,
    Role,
    auditor_of,
    county_admin,
    township_committee,
    township_office,
)


@dataclass(frozen=True)
class Place:
    """Where an org sits: a county (township None), a township, a branch or a member."""

    county_id: str
    township_id: str | None = None


def may_register(who: Principal, county_id: str, place: Place | None) -> bool:
    """The county administrator registers anyone in the county; a township's committee or
    office registers people for the township (its clerks)."""
    if county_admin(who, county_id):
        return True
    return (
        place is not None
        and place.county_id == county_id
        and place.township_id is not None
        and (township_committee(who, place.township_id) or township_office(who, place.township_id))
    )


def may_grant(who: Principal, role: Role, org_place: Place | None, person_county: str) -> bool:
    """The county administrator grants every post of the county; a township's committee
    (its head among them) grants its office's clerks."""
    if org_place is None or org_place.county_id != person_county:
        return False
    if county_admin(who, org_place.county_id):
        if role in (Role.COUNTY_ADMIN, Role.AUDITOR):
            return org_place.township_id is None  # a county post is held at the county
        return org_place.township_id is not None  # a township's post at its township
    return (
        role is Role.TOWNSHIP_OFFICE
        and org_place.township_id is not None
        and township_committee(who, org_place.township_id)
    )


def may_lock(who: Principal, person_county: str) -> bool:
    return county_admin(who, person_county)


def may_find_by_login(who: Principal, county_id: str) -> bool:
    """Only who manages the county's accounts looks a person up by phone or ID number."""
    return county_admin(who, county_id)


def may_issue_activation(who: Principal, person_county: str, townships: set[str]) -> bool:
    """The office of a township where the person holds a post (or the county administrator)
    hands out their login name and activation code, and resets it."""
    return county_admin(who, person_county) or any(township_office(who, t) for t in townships)


def may_see_posts(who: Principal, person_id: str, person_county: str) -> bool:
    """A person sees their own posts; the county's administrator and auditors anyone's."""
    return (
        who.subject == person_id
        or county_admin(who, person_county)
        or auditor_of(who, person_county)
    )


def may_see_committee(who: Principal, place: Place) -> bool:
    """Who sits on a township's committee: the township's office (it assigns them to branches,
    R1) and committee, the county's administrator and auditors."""
    township = place.township_id or ""
    return (
        township_office(who, township)
        or township_committee(who, township)
        or county_admin(who, place.county_id)
        or auditor_of(who, place.county_id)
    )
