"""The work journal (R6): a member's entries for a month, their corrections, and the
evaluation the month's presentation got at the organisation life meeting. Pure; no I/O."""

from __future__ import annotations

from datetime import date

from services.review.aggregates.common import Person, Subject, month_of, not_ahead
from services.review.events import (
    Grade,
    JournalEntryCorrected,
    JournalEntryRecorded,
    MonthlyPresentationEvaluated,
)
from shared import zh
from shared.aggregate import Aggregate
from shared.errors import InvalidInput, InvalidState
from shared.events import DomainEvent
from shared.files import FileRef


class Journal(Aggregate):
    """One member's journal for one month: entries, corrections, the month's presentation."""

    def blank(self) -> None:
        self.member_id = ""
        self.month = ""
        self.township_id = ""
        self.branch_id = ""
        self.entries: list[str] = []  # current versions, in recording order
        self.from_paper: set[str] = set()  # current versions a secretary entered (R6)
        self.presented = False

    @staticmethod
    def stream_for(member_id: str, month: str) -> str:
        return f"journal-{member_id}-{month}"

    @classmethod
    def open(cls, member: Subject, month: str) -> Journal:
        journal = cls(cls.stream_for(member.subject_id, month), member.township_id)
        journal.member_id, journal.month = member.subject_id, month
        journal.township_id, journal.branch_id = member.township_id, member.branch_id
        return journal

    def _in_month(self, day: date, today: date, field: str) -> None:
        not_ahead(day, today, field)
        if month_of(day) != self.month:
            raise InvalidInput(
                f"日期 {zh.day(day)} 不在 {zh.period(self.month)}：请填写该月内的日期。",
                field=field,
            )

    def record_entry(
        self,
        entry_id: str,
        recorded_on: date,
        work: str,
        duty: str,
        today: date,
        entered_by: str | None = None,
        files: tuple[FileRef, ...] = (),
    ) -> None:
        """`entered_by`: the branch secretary entering the member's paper journal on the
        member's behalf; None when the member writes it."""
        self._in_month(recorded_on, today, "recorded_on")
        if self.presented:
            raise InvalidState(f"{zh.period(self.month)}的纪实已经汇报过，不能再汇报。")
        self._record(
            JournalEntryRecorded(
                entry_id=entry_id,
                township_id=self.township_id,
                branch_id=self.branch_id,
                member_id=self.member_id,
                month=self.month,
                recorded_on=recorded_on,
                work_content=work,
                duty_performance=duty,
                entered_by=entered_by,
                files=files,
            )
        )

    def correct_entry(
        self,
        entry_id: str,
        new_id: str,
        recorded_on: date,
        work: str,
        duty: str,
        reason: str,
        today: date,
        entered_by: str | None = None,
        files: tuple[FileRef, ...] = (),
    ) -> None:
        if entry_id not in self.entries:
            raise InvalidInput(
                f"{entry_id} 不是 {zh.period(self.month)}的现行纪实：请刷新页面后再试。",
                field="entry_id",
            )
        if entered_by is not None and entry_id not in self.from_paper:
            raise InvalidState(f"{entry_id} 是党员本人写的：由党员本人修改，支部书记不能代改。")
        self._in_month(recorded_on, today, "recorded_on")
        self._record(
            JournalEntryCorrected(
                entry_id=new_id,
                corrects_entry_id=entry_id,
                township_id=self.township_id,
                branch_id=self.branch_id,
                member_id=self.member_id,
                month=self.month,
                recorded_on=recorded_on,
                work_content=work,
                duty_performance=duty,
                reason=reason,
                entered_by=entered_by,
                files=files,
            )
        )

    def evaluate(
        self, presented_on: date, grade: Grade, evaluation: str, evaluator: Person, today: date
    ) -> None:
        not_ahead(presented_on, today, "presented_on")
        if presented_on < date(int(self.month[:4]), int(self.month[5:]), 1):
            raise InvalidInput("汇报须在该月开始之后：请修改汇报日期。", field="presented_on")
        if not self.entries:
            raise InvalidState(f"{zh.period(self.month)}还没有纪实可以汇报：请先记录纪实。")
        if self.presented:
            raise InvalidState(f"{zh.period(self.month)}的纪实已经评价过，无需重复评价。")
        self._record(
            MonthlyPresentationEvaluated(
                township_id=self.township_id,
                branch_id=self.branch_id,
                member_id=self.member_id,
                month=self.month,
                presented_on=presented_on,
                entry_ids=tuple(self.entries),
                grade=grade,
                evaluation=evaluation,
                evaluator_id=evaluator.person_id,
                evaluator_name=evaluator.name,
            )
        )

    def apply(self, event: DomainEvent) -> None:
        match event:
            case JournalEntryRecorded():
                self.member_id, self.month = event.member_id, event.month
                self.township_id, self.branch_id = event.township_id, event.branch_id
                self.entries.append(event.entry_id)
                if event.entered_by is not None:
                    self.from_paper.add(event.entry_id)
            case JournalEntryCorrected():
                index = self.entries.index(event.corrects_entry_id)
                self.entries[index] = event.entry_id
                self.from_paper.discard(event.corrects_entry_id)
                if event.entered_by is not None:
                    self.from_paper.add(event.entry_id)
            case MonthlyPresentationEvaluated():
                self.presented = True
