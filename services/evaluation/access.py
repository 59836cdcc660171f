"""Who may do what, by role and place (X1, E2): what the service's areas share. Pure functions
of the caller and the records; each area's own rules are in its `access.py`."""

from __future__ import annotations

from shared.auth import Principal, Role, auditor_of, county_admin, township_office
from shared.errors import Forbidden, NotFound


def branch_secretary(principal: Principal, branch_id: str) -> bool:
    return principal.is_(Role.BRANCH_SECRETARY, branch_id)


def voter_id(principal: Principal, scope_id: str) -> str:
    """The rater a web ballot is from: a public rater's token is issued for one round or check
    (`org` = its id); a member votes under their own member id."""
    if principal.role is Role.RATER and principal.org == scope_id:
        return principal.subject
    if principal.role is Role.MEMBER:
        return principal.subject
    raise Forbidden("只有登记为本轮评议人的人才能在此投票：请使用发给您的评议邀请码。")


def erases(principal: Principal) -> bool:
    """A7: the county's administrator, an auditor or a township office (the one that
    registered the person, who asks it) erases a person's personal data."""
    return principal.role in (Role.COUNTY_ADMIN, Role.AUDITOR, Role.TOWNSHIP_OFFICE)


def erases_in(principal: Principal, county_id: str, township_id: str) -> bool:
    """...of a person of their own county (an auditor's token without one: of none); an
    office, of a person registered in its own township."""
    if principal.role is Role.AUDITOR:
        return auditor_of(principal, county_id)
    if principal.role is Role.TOWNSHIP_OFFICE:
        return township_office(principal, township_id)
    return county_admin(principal, county_id)


def auditors_only(principal: Principal) -> None:
    """E3: the auditor's check of a round or a satisfaction check is for auditors..."""
    if principal.role is not Role.AUDITOR:
        raise Forbidden("此内容只供审计员查看：请切换到审计员身份。")


def audits(principal: Principal, county_id: str | None, missing: NotFound) -> None:
    """...of the county the township holding it is in (X1): another county's is answered as
    one that does not exist (`missing`), so an auditor does not learn that it exists."""
    auditors_only(principal)
    if not auditor_of(principal, county_id):
        raise missing
