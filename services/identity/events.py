"""The identity service's events: people, the posts they hold (one "hat" each), locks, and
that a credential was set or reset (never the credential: it lives in a table beside the log).

Every post a person holds starts with `PostStarted` and ends with `PostEnded`, whether the
directory decided it (the pledge service's appointments, transfers and retirements, turned
into these by services/identity/policies.py) or a person entitled to grant it here: the
identity log alone replays who could do what on any date. `PostEnded`, `PersonLocked` and
`PersonUnlocked` carry `person_id` and `at`: every service refuses a token issued before
them (docs/services/identity.md, "Revocation").
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from shared.events import DomainEvent, EventRegistry


class PostSource(StrEnum):
    DIRECTORY = "directory"  # from the pledge service's directory events
    GRANT = "grant"  # granted here by the person entitled to


class CredentialKind(StrEnum):
    LOGIN_NAME = "login_name"
    ACTIVATION_CODE = "activation_code"
    PASSWORD = "password"  # noqa: S105 (a kind of credential, not one)
    TOTP = "totp"


class PersonEvent(DomainEvent):
    aggregate_type = "person"
    person_id: str


class PersonRegistered(PersonEvent):
    name: str
    county_id: str
    source: PostSource
    by: str


class PersonRenamed(PersonEvent):
    name: str
    by: str


class PostStarted(PersonEvent):
    role: str
    org: str
    at: datetime
    source: PostSource
    by: str
    reason: str


class PostEnded(PersonEvent):
    role: str
    org: str
    at: datetime
    source: PostSource
    by: str
    reason: str


class PersonLocked(PersonEvent):
    at: datetime
    by: str
    reason: str
    until: datetime | None = None  # a brute-force lock ends by itself


class PersonUnlocked(PersonEvent):
    at: datetime
    by: str


class CredentialSet(PersonEvent):
    """That a credential was set or reset, and by whom: never the credential itself."""

    kind: CredentialKind
    at: datetime
    by: str


class UpstreamLinked(PersonEvent):
    """The person signed in at the county's own provider (`issuer`), matched by an attribute
    it verified (`phone` or `id_number`): the link, not the attribute (its subject there
    only as a hash)."""

    issuer: str
    subject_hash: str
    attribute: str
    at: datetime


REGISTRY = EventRegistry(
    "identity",
    [
        PersonRegistered,
        PersonRenamed,
        PostStarted,
        PostEnded,
        PersonLocked,
        PersonUnlocked,
        CredentialSet,
        UpstreamLinked,
    ],
)
