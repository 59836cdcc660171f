"""Requests to the identity service, named as orders. Credentials are only ever in a
command's body on their way to the table beside the log, never in an event."""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator, Field

from shared.auth import Role
from shared.events import ID_PATTERN, Command
from shared.phone import mobile, plain
from shared.text import Line

Id = Annotated[str, Field(pattern=ID_PATTERN)]
ID_NUMBER = re.compile(r"[0-9]{17}[0-9Xx]")


def valid_login_name(value: str) -> str:
    """A mainland mobile number, as every service takes a phone (shared/phone.py: its 11
    digits, however written), or a resident ID number (17 digits and a check character)."""
    value = plain(value)  # full-width digits as ASCII, the spaces around dropped
    if ID_NUMBER.fullmatch(value):
        return value.upper()
    number = mobile(value)
    if number is None:
        raise ValueError(
            "登录名须为 11 位手机号码（1 开头，第二位 3–9）或 18 位身份证号，例如 13912345678"
        )
    return number


LoginName = Annotated[str, AfterValidator(valid_login_name)]
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
