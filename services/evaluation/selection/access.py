"""Who may do what in the annual selection (S1–S3). Pure functions of the caller and the
records."""

from __future__ import annotations

from services.evaluation.selection.aggregates import Selection
from shared.auth import Principal, Role, county_admin, township_committee, township_office


def runs(principal: Principal, selection: Selection) -> bool:
    """The township office runs its selection."""
    return township_office(principal, selection.township_id)


def decides(principal: Principal, selection: Selection) -> bool:
    """层层筛选: the township committee (镇党委) shortlists and decides its selection's stages
    and issues the commendation; the office organises (opens, nominations, scores, notice)."""
    return township_committee(principal, selection.township_id)


def answers_objections(principal: Principal, selection: Selection) -> bool:
    """The township committee or its office answers objections."""
    return township_office(principal, selection.township_id) or principal.is_(
        Role.TOWNSHIP_COMMITTEE, selection.township_id
    )


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
