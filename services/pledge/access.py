"""Who may do what, by role and place (X1). Pure functions of the caller and the records."""

from __future__ import annotations

from typing import Any

from services.pledge.aggregates import Pledger
from services.pledge.events import PledgerKind
from shared.auth import (
    Principal,
    Role,
    auditor_of,
    county_admin,
    township_committee,
    township_office,
)


def keeps_directory(principal: Principal, township_id: str, county_id: str) -> bool:
    """The township office keeps its township's directory; the county admin any township's."""
    return township_office(principal, township_id) or county_admin(principal, county_id)


def oversees_township(principal: Principal, township_id: str, county_id: str) -> bool:
    """The township's committee and office, the county's administrator and auditors: who read
    the township's reports and its roll."""
    return (
        township_office(principal, township_id)
        or township_committee(principal, township_id)
        or county_admin(principal, county_id)
        or auditor_of(principal, county_id)
    )


def speaks_for(principal: Principal, pledger: Pledger) -> bool:
    """A branch pledge is the secretary's to write; a personal pledge only the member's."""
    if pledger.kind is PledgerKind.BRANCH:
        return principal.is_(Role.BRANCH_SECRETARY, pledger.branch_id)
    return principal.role is Role.MEMBER and principal.subject == pledger.member_id


def enters_for(principal: Principal, pledger: Pledger) -> bool:
    """A member's pledge written on paper: the branch secretary enters it on the member's
    behalf (recorded so: the secretary the actor, the member named)."""
    return pledger.kind is PledgerKind.MEMBER and branch_secretary(principal, pledger.branch_id)


def branch_secretary(principal: Principal, branch_id: str) -> bool:
    return principal.is_(Role.BRANCH_SECRETARY, branch_id)


def sees_unpublished(principal: Principal, pledger: Pledger) -> bool:
    return (
        speaks_for(principal, pledger)
        or branch_secretary(principal, pledger.branch_id)
        or township_committee(principal, pledger.township_id)
        or township_office(principal, pledger.township_id)
        or county_admin(principal, pledger.county_id)
        or auditor_of(principal, pledger.county_id)
    )


def pledger_of(row: Any) -> Pledger:
    """The pledger of a pledge as the read models hold it (a row of `pledges`)."""
    return Pledger(
        PledgerKind(row["pledger_kind"]),
        row["branch_id"],
        "",
        row["member_id"],
        row["pledger_name"],
        row["township_id"],
        row["county_id"],
    )


def sees_pledge(principal: Principal, row: Any) -> bool:
    """The public sees published pledges only (X1)."""
    return row["status"] == "published" or sees_unpublished(principal, pledger_of(row))


def keeps_roster(principal: Principal, kind: str, scope_id: str, county_id: str) -> bool:
    """A township's roster is its office's (or the county administrator's); the county's
    roster, the county administrator's."""
    if kind == "township":
        return keeps_directory(principal, scope_id, county_id)
    return county_admin(principal, county_id)
