"""The parts of commands that the service's areas share: ids, names, years, and a member of the
public's personal data, which rounds and satisfaction checks both register (A7). Each area's
commands are in its own `commands.py`: imperative, validated, no unknown fields."""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator, Field

from shared.events import ID_PATTERN, Part
from shared.phone import Phone
from shared.phone import valid_phone as valid_phone  # the rule, where its tests import it
from shared.text import Line

Id = Annotated[str, Field(pattern=ID_PATTERN)]
Name = Annotated[Line, Field(min_length=1, max_length=100)]
Title = Annotated[Line, Field(min_length=2, max_length=200)]
Year = Annotated[int, Field(ge=2000, le=2100)]
GradeName = Annotated[str, Field(pattern=r"^[a-z][a-z_]{0,39}$")]
ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
ID_CHECK = "10X98765432"  # GB 11643: the check character for sum(weights * digits) mod 11


def valid_id_number(value: str) -> str:
    """A resident ID number (GB 11643): 17 digits and the check character (0-9 or X)."""
    number = value.upper()
    if not re.fullmatch(r"\d{17}[\dX]", number):
        raise ValueError("身份证号须为 17 位数字加 1 位校验码（0-9 或 X）")
    total = sum(int(d) * w for d, w in zip(number, ID_WEIGHTS, strict=False))
    if ID_CHECK[total % 11] != number[-1]:
        raise ValueError("身份证号的校验码不对（GB 11643）：请核对后重新填写")
    return number


class PersonalData(Part):
    """A member of the public's personal data, only sealed in the log (A7); a member's is the
    directory's. A part of the commands that register people, not a command itself: as strict
    as one (frozen, no unknown fields, whitespace stripped)."""

    member_id: Id | None = None  # a member in the directory; None: someone outside it
    name: Name | None = None
    phone: Phone | None = None  # the one rule for every phone (shared/phone.py)
    id_number: Annotated[str, AfterValidator(valid_id_number)] | None = None

    def personal(self) -> dict[str, str]:
        fields = {"name": self.name, "phone": self.phone, "id_number": self.id_number}
        return {k: v for k, v in fields.items() if v is not None}
