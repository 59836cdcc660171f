"""Leadership reviews (R1–R4). Pure; no I/O."""

from __future__ import annotations

from datetime import date
from typing import Any

from services.review.aggregates.common import Person, Subject, not_ahead, quarter_of, require_active
from services.review.commands import ReviewBody
from services.review.events import (
    DIMENSIONS,
    Assessment,
    Cadence,
    Occasion,
    PledgeLedgerStatus,
    ReviewContent,
    ReviewCorrected,
    ReviewRecorded,
    SubjectKind,
)
from shared import zh
from shared.aggregate import Aggregate
from shared.errors import InvalidInput
from shared.events import DomainEvent
from shared.files import FileRef


def _assessments(kind: SubjectKind, body: ReviewBody) -> tuple[Assessment, ...]:
    """R3: exactly the dimensions of the subject's kind, each with a grade and a comment."""
    expected = DIMENSIONS[kind]
    given = set(body.assessments)
    if given != set(expected):
        raise InvalidInput(
            f"{zh.label(kind.value)}点评须且只须评这些方面："
            f"{'、'.join(zh.label(d.value) for d in expected)}。",
            field="assessments",
            missing=sorted(d.value for d in set(expected) - given),
            unexpected=sorted(d.value for d in given - set(expected)),
        )
    return tuple(
        Assessment(
            dimension=d, grade=body.assessments[d].grade, comment=body.assessments[d].comment
        )
        for d in expected
    )


def _written(reviewer: Person, body: ReviewBody, kind: SubjectKind) -> dict[str, Any]:
    """What a reviewer writes, the same in a review and in its correction (R2, R3)."""
    return {
        "reviewer_id": reviewer.person_id,
        "reviewer_name": reviewer.name,
        "occasion": body.occasion,
        "cadence": _cadence(body),
        "quarter": quarter_of(body.held_on),
        "held_on": body.held_on,
        "achievements": body.achievements,
        "shortcomings": body.shortcomings,
        "direction": body.direction,
        "assessments": _assessments(kind, body),
    }


def _cadence(body: ReviewBody) -> Cadence:
    """R4: a review held ad hoc is an ad hoc review; otherwise quarterly unless stated."""
    if body.occasion is Occasion.AD_HOC:
        if body.cadence is Cadence.QUARTERLY:
            raise InvalidInput("不定期点评须选择“不定期”场合。", field="cadence")
        return Cadence.AD_HOC
    return body.cadence or Cadence.QUARTERLY


class Review(Aggregate):
    def blank(self) -> None:
        self.original_id = ""
        self.current: ReviewContent | None = None
        self.versions = 0

    @classmethod
    def record(
        cls,
        review_id: str,
        subject: Subject,
        reviewer: Person,
        body: ReviewBody,
        pledge_status: PledgeLedgerStatus,
        today: date,
        files: tuple[FileRef, ...] = (),
    ) -> Review:
        require_active(subject)
        not_ahead(body.held_on, today, "held_on")
        review = cls(f"review-{review_id}", subject.township_id)
        review._record(
            ReviewRecorded(
                review_id=review_id,
                township_id=subject.township_id,
                branch_id=subject.branch_id,
                subject_kind=subject.kind,
                subject_id=subject.subject_id,
                subject_name=subject.name,
                pledge_status=pledge_status,
                files=files,
                **_written(reviewer, body, subject.kind),
            )
        )
        return review

    @property
    def content(self) -> ReviewContent:
        assert self.current is not None
        return self.current

    def correct(
        self,
        reviewer: Person,
        body: ReviewBody,
        reason: str,
        today: date,
        files: tuple[FileRef, ...] = (),
    ) -> str:
        """A new version that supersedes the current one; the pledge status stays the one
        seen when the review was first recorded (R3)."""
        not_ahead(body.held_on, today, "held_on")
        was = self.content
        new_id = f"{self.original_id}-c{self.versions}"
        self._record(
            ReviewCorrected(
                review_id=new_id,
                corrects_review_id=was.review_id,
                original_review_id=self.original_id,
                reason=reason,
                township_id=was.township_id,
                branch_id=was.branch_id,
                subject_kind=was.subject_kind,
                subject_id=was.subject_id,
                subject_name=was.subject_name,
                pledge_status=was.pledge_status,
                files=files,
                **_written(reviewer, body, was.subject_kind),
            )
        )
        return new_id

    def apply(self, event: DomainEvent) -> None:
        match event:
            case ReviewRecorded():
                self.original_id = event.review_id
                self.current = event
                self.versions = 1
            case ReviewCorrected():
                self.current = event
                self.versions += 1
