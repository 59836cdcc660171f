"""Commands, as the API receives them: imperative, validated, no unknown fields.

`Rating` and `ReviewBody` are parts of commands, not commands: plain parts validated the
same way (frozen, no unknown fields, whitespace stripped), so the JSON is the commands'."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from pydantic import Field

from services.review.events import Cadence, Dimension, Grade, Occasion, SubjectKind
from shared.events import ID_PATTERN, Command, Part
from shared.files import Attachments
from shared.text import Line, Lines

Id = Annotated[str, Field(pattern=ID_PATTERN)]
Name = Annotated[Line, Field(min_length=1, max_length=100)]
Text = Annotated[Lines, Field(min_length=1, max_length=4000)]
Note = Annotated[Lines, Field(min_length=1, max_length=2000)]
MONTH_PATTERN = r"^\d{4}-(0[1-9]|1[0-2])$"


class Rating(Part):
    """One dimension's grade and comment (R3)."""

    grade: Grade
    comment: Note


Assessments = Annotated[dict[Dimension, Rating], Field(min_length=1, max_length=10)]


class ReviewBody(Part):
    """What a review says (R2, R3): the part that recording and correcting share."""

    occasion: Occasion
    cadence: Cadence | None = None  # derived from the occasion when not given (R4)
    held_on: date
    achievements: Text
    shortcomings: Text
    direction: Text
    assessments: Assessments
    files: Attachments = ()  # uploaded first (POST /v1/files), by their hashes


class RecordReview(ReviewBody, Command):
    subject_kind: SubjectKind
    subject_id: Id
    reviewer_name: Name | None = None  # defaults to the name in the caller's token


class CorrectReview(ReviewBody, Command):
    reason: Note


class RecordJournalEntry(Command):
    recorded_on: date
    work_content: Text
    duty_performance: Text
    files: Attachments = ()  # uploaded first (POST /v1/files), by their hashes


class CorrectJournalEntry(RecordJournalEntry):
    reason: Note


class EvaluatePresentation(Command):
    presented_on: date
    grade: Grade
    evaluation: Text
    evaluator_name: Name | None = None


class RecordGuidanceVisit(Command):
    branch_id: Id
    cadre_name: Name
    visited_on: date
    summary: Text
    problems_found: Text | None = None
    guidance_given: Text | None = None
    files: Attachments = ()  # uploaded first (POST /v1/files), by their hashes


class AssignLeader(Command):
    """R1: the office assigns a leader of the township to the branch."""

    leader_id: Id  # the person, as their township committee token names them
    leader_name: Name
