"""A phone number a person gives (issue 17's SMS, a rater's, a login name): one rule for every
service, so a number one service takes every other takes too. A mainland mobile number: 11
digits, 1 then 3 to 9; spaces and hyphens are dropped, a leading +86 or 0086 too, and the
number is kept as its 11 digits. New commands only: what stored events hold keeps its meaning
(an event is never validated again when it is read)."""

from __future__ import annotations

import re
import unicodedata
from typing import Annotated

from pydantic import AfterValidator

MOBILE = re.compile(r"(?:\+86|0086)?(1[3-9][0-9]{9})")
PHONE_HINT = "手机号须为 11 位手机号码（1 开头，第二位 3–9），例如 13912345678"


def plain(text: str) -> str:
    """A number as typed, in ASCII: full-width digits and letters (a Chinese input method's
    １３９…) as their ASCII forms (NFKC), the spaces around it dropped."""
    return unicodedata.normalize("NFKC", text).strip()


def mobile(text: str) -> str | None:
    """The 11 ASCII digits of a mainland mobile number written any of the ways people write
    it (full-width digits too), or None when it is none."""
    found = MOBILE.fullmatch(plain(text).replace(" ", "").replace("-", ""))
    return None if found is None else found.group(1)


def valid_phone(value: str) -> str:
    """A command's phone: its 11 digits, or refused with the Chinese hint."""
    number = mobile(value)
    if number is None:
        raise ValueError(PHONE_HINT)
    return number


Phone = Annotated[str, AfterValidator(valid_phone)]
