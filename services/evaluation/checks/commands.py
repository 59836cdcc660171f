"""Commands of the satisfaction check of a pledge item (E8, P10c), as the API receives them."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from pydantic import Field

from services.evaluation.commands import Id, PersonalData
from services.evaluation.rounds.events import Channel
from shared.events import Command


class ServedPerson(PersonalData):
    """Someone the item served: a member, or a member of the public (optionally with a name
    and contact details, for the office to reach them)."""


class RegisterServed(Command):
    raters: Annotated[list[ServedPerson], Field(min_length=1, max_length=200)]


class CheckBallot(Command):
    grade: Literal["satisfied", "mostly_satisfied", "dissatisfied"]
    rater_id: Id | None = None  # only when an officer enters a paper / on-site ballot
    channel: Channel = Channel.WEB


class ExtendCheck(Command):
    """A later closing date for a check: still open, or lapsed with no ballot (reopened)."""

    closes_on: date


class SetCheckTerms(Command):
    """The county's terms for the year's satisfaction checks (P10c)."""

    year: Annotated[int, Field(ge=2000, le=2100)]
    threshold: Annotated[float, Field(gt=0, le=1)] = 0.8
    window_days: Annotated[int, Field(ge=1, le=366)] = 14
