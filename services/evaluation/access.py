"""Who may do what, by role and place (X1, E2). Pure functions of the caller and the records."""

from __future__ import annotations

from services.evaluation.aggregate import Round
from shared.auth import Principal, Role, county_admin, township_committee, township_office
from shared.errors import Forbidden


def branch_secretary(principal: Principal, branch_id: str) -> bool:
    return principal.is_(Role.BRANCH_SECRETARY, branch_id)


def organises(principal: Principal, organiser_kind: str, organiser_id: str) -> bool:
    """E2: the upper-level organisation organises: the township for its branches (through its
    office), the branch (its secretary) for its members."""
    if organiser_kind == "township":
        return township_office(principal, organiser_id)
    return branch_secretary(principal, organiser_id)


def organiser_of(principal: Principal, round_: Round) -> bool:
    return organises(principal, round_.organiser_kind, round_.organiser_id)


def voter_id(principal: Principal, scope_id: str) -> str:
    """The rater a web ballot is from: a public rater's token is issued for one round or check
    (`org` = its id); a member votes under their own member id."""
    if principal.role is Role.RATER and principal.org == scope_id:
        return principal.subject
    if principal.role is Role.MEMBER:
        return principal.subject
    raise Forbidden("only a rater registered for this round votes here")


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
