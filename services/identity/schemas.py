"""What the identity service's API returns (response models). No credential is ever in one,
except the activation code, answered once to the office that issued it."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel


class Accepted(BaseModel):
    id: str
    events: list[str]


class ActivationIssued(Accepted):
    name: str
    login_name: str
    activation_code: str  # shown once; only its hash is kept
    expires_at: datetime


class PersonView(BaseModel):
    person_id: str
    name: str
    county_id: str
    source: str
    locked: bool


class PeoplePage(BaseModel):
    items: list[PersonView]
    total: int
    limit: int
    offset: int


class PostView(BaseModel):
    person_id: str
    role: str
    org: str
    source: str
    started_at: datetime
    started_by: str
    reason: str
    ended_at: datetime | None
    ended_by: str | None
    end_reason: str | None


class PostsOn(BaseModel):
    """The posts a person held at a moment (`at`): who could do what, as of any date."""

    person_id: str
    at: datetime
    posts: list[PostView]


class ClientRegistered(BaseModel):
    client_id: str
    client_secret: str  # shown once; only its hash is kept


class CommitteeMember(BaseModel):
    person_id: str
    name: str
    head: bool  # the township's head, as the directory names it


class TownshipCommittee(BaseModel):
    """Who holds the township committee's post now (R1: the leaders of the township)."""

    township_id: str
    county_id: str
    members: list[CommitteeMember]
