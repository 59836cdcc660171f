"""Response models the service's areas share: what the API answers (never a rater id next to a
ballot: E3). Each area's own are in its `schemas.py`."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict


class View(BaseModel):
    model_config = ConfigDict(extra="ignore")


class Accepted(BaseModel):
    model_config = ConfigDict(extra="allow")

    id: str
    events: list[str]


class PersonalView(View):
    """A member of the public's personal data for the office that registered them: masked,
    or 已删除 once erased (A7), or 无法读取 where its sealed bytes no longer open. Never in a
    public page or release."""

    name: str | None
    phone: str | None
    id_number: str | None
    erased: bool
    unreadable: bool = False  # the sealed bytes were altered: shown as 无法读取 (and logged)


class Erasure(View):
    """A rater whose personal data was erased (A7): whose, when, by whom; no personal data."""

    rater_id: str
    erased_at: datetime
    actor: str  # the person who erased it
    actor_role: str  # county_admin, auditor or township_office


class AuditProblem(View):
    # unregistered_rater, repeated_participation, not_a_subject, ballots_differ or urn_not_empty
    problem: str
    rater_id: str | None  # who took part (never what they chose)
    subject_id: str
    detail: str


class MemberCopy(View):
    member_id: str
    name: str
    post: str


class BranchCopy(View):
    branch_id: str
    name: str
    kind: str
    secretary_id: str | None
    members: list[MemberCopy]


class TownshipCopy(View):
    township_id: str
    county_id: str
    name: str
    branches: list[BranchCopy]
