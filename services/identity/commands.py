"""Requests to the identity service, named as orders. Credentials are only ever in a
command's body on their way to the table beside the log, never in an event."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from shared.auth import Role
from shared.events import ID_PATTERN, Command
from shared.text import Line

Id = Annotated[str, Field(pattern=ID_PATTERN)]
# a mainland mobile number (11 digits from 1) or a resident ID number (17 digits and a check)
LOGIN_PATTERN = r"^(1\d{10}|\d{17}[\dXx])$"
LoginName = Annotated[str, Field(pattern=LOGIN_PATTERN)]
Name = Annotated[Line, Field(min_length=1, max_length=100)]
Reason = Annotated[Line, Field(min_length=1, max_length=200)]


class RegisterPerson(Command):
    """A person the directory does not hold (a county administrator, an office clerk, an
    auditor), registered in a county."""

    name: Name
    county_id: Id


class GrantPost(Command):
    role: Role
    org: Id
    reason: Reason = "任命"


class RevokePost(Command):
    role: Role
    org: Id
    reason: Reason = "免职"


class LockPerson(Command):
    reason: Reason


class IssueActivation(Command):
    """The township office (or the county administrator) gives a person a login name and a
    one-time activation code: shown once, printed, handed over."""

    login_name: LoginName


class FindByLogin(Command):
    """The person a login name (a phone or ID number) belongs to, asked by who manages the
    county's accounts: in a body, never in a URL, so the number is in no log or history."""

    county_id: Id
    login_name: LoginName


class RegisterClient(Command):
    """An integration client (another government system) of a county."""

    name: Name
    county_id: Id
