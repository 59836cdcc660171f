"""Commands, as the API receives them: imperative, validated, no unknown fields."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from pydantic import BeforeValidator, Field

from services.pledge.events import BranchKind, Evidence, OpinionChannel
from shared.events import ID_PATTERN, Command, Part
from shared.files import Attachments
from shared.text import Line, Lines

Id = Annotated[str, Field(pattern=ID_PATTERN)]
Name = Annotated[Line, Field(min_length=1, max_length=100)]
Text = Annotated[Lines, Field(min_length=1, max_length=4000)]
Note = Annotated[Lines, Field(min_length=1, max_length=2000)]
Year = Annotated[int, Field(ge=2000, le=2100)]


def _some_items(value: object) -> object:
    """A proposal of no item, said as the pledger reads it (not "too short")."""
    if isinstance(value, list) and not value:
        raise ValueError("至少填写一项承诺事项：请填写第1项的名称、内容、目标和时限。")
    return value


def _percent(value: object) -> object:
    """A percentage out of range, said with its range (not "does not fit")."""
    if isinstance(value, int) and not isinstance(value, bool) and not 0 <= value <= 100:
        raise ValueError(f"完成百分比须在 0 到 100 之间（填的是 {value}）：请填写 0–100 的整数。")
    return value


class EstablishCounty(Command):
    county_id: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_]{1,40}$")]
    name: Name


class SetPledgeCalendar(Command):
    year: Year
    drafting_deadline: date
    publication_deadline: date | None = None  # default: 16 days after drafting (March 31)


class ConfigureCategories(Command):
    kind: BranchKind
    categories: Annotated[tuple[Name, ...], Field(min_length=1, max_length=30)]


class EstablishTownship(Command):
    name: Name


class AppointTownshipHead(Command):
    person_id: Id
    name: Name


class EstablishBranch(Command):
    township_id: Id
    name: Name
    kind: BranchKind
    village: Name | None = None


class AppointSecretary(Command):
    member_id: Id


class MoveBranch(Command):
    township_id: Id


class Retire(Command):
    reason: Note


class EnrolMember(Command):
    branch_id: Id
    name: Name
    post: Name
    duties: Text
    leadership_team: bool = False


class AssignPost(Command):
    post: Name
    duties: Text
    leadership_team: bool = False


class TransferMember(Command):
    branch_id: Id


class DraftPledge(Command):
    year: Year
    branch_id: Id
    member_id: Id | None = None  # None: the branch pledges


class RecordOpinion(Command):
    channel: OpinionChannel
    gathered_on: date
    summary: Text


# One item of a proposal or resubmission, as the pledger writes it: a part of those commands,
# not one itself, validated as they are (frozen, no unknown fields). A comment, not a
# docstring: the request's JSON schema stays as it was.
class ProposedItem(Part):
    title: Annotated[Line, Field(min_length=2, max_length=200)]
    description: Text
    category: Name
    target: Annotated[Lines, Field(min_length=2, max_length=500)]
    due_date: date
    shaped_by: Annotated[tuple[Id, ...], Field(max_length=50)] = ()  # opinion ids


class ProposePledge(Command):
    basis: Annotated[Lines, Field(min_length=2, max_length=1000)]
    items: Annotated[
        list[ProposedItem], BeforeValidator(_some_items), Field(min_length=1, max_length=30)
    ]


class ReviewItem(Command):
    shows_advanced_standard: bool
    matches_wishes: bool
    feasible: bool
    decision: Annotated[str, Field(pattern="^(approve|return)$")]
    guidance: Annotated[Lines | None, Field(max_length=2000)] = None


class ResubmitPledge(Command):
    note: Note
    items: Annotated[dict[Id, ProposedItem], Field(min_length=1, max_length=30)]


class ReportedEvidence(Part):
    """Evidence of progress, as the pledger gives it (P8)."""

    description: Text
    url: Annotated[Line, Field(max_length=2000)] | None = None

    def value(self) -> Evidence:
        return Evidence(description=self.description, url=self.url)


class ReportProgress(Command):
    summary: Text
    percent: Annotated[int, BeforeValidator(_percent), Field(ge=0, le=100)]
    evidence: Annotated[tuple[ReportedEvidence, ...], Field(max_length=20)] = ()
    files: Attachments = ()  # uploaded first (POST /v1/files), by their hashes


class RecordNote(Command):
    note: Note


class RecordFollowUp(RecordNote):
    files: Attachments = ()  # uploaded first (POST /v1/files), by their hashes


class ReportDone(Command):
    summary: Text
    files: Attachments = ()  # uploaded first (POST /v1/files), by their hashes


class PushQuarter(Command):
    quarter: Annotated[str, Field(pattern=r"^\d{4}Q[1-4]$")]
    assessment: Text
    next_steps: Text
