"""Who may do what, by role and place (X1). Pure functions of the caller and the place."""

from __future__ import annotations

from shared.auth import Principal, Role, county_admin


def township_staff(principal: Principal, township_id: str, county_id: str) -> bool:
    """The township's office and committee, or the county administrator."""
    return (
        principal.is_(Role.TOWNSHIP_OFFICE, township_id)
        or principal.is_(Role.TOWNSHIP_COMMITTEE, township_id)
        or county_admin(principal, county_id)
    )


def inbox_addresses(principal: Principal) -> list[str]:
    """A person's own notices, and those addressed to their office ("<role>:<org>")."""
    return [principal.subject, f"{principal.role}:{principal.org}"]
