"""The annual selection (S1–S3). Pure; no I/O.

Opened by the township office for its branches or its members; the formula (weights, what a
missing source counts as, how reviews score, quotas per stage: formula.py) is declared and
versioned before the first stage; nominations come up from the branches; each stage ranks the
previous stage's shortlist by the composite score and keeps every decision with its reason; the
final list goes on public notice; every objection must be answered; then the commendation is
issued around July 1.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

from services.evaluation.rounds.events import SubjectKind
from services.evaluation.selection.aggregates.formula import REVIEW_POINTS, composite
from services.evaluation.selection.events import (
    Awardee,
    CandidateNominated,
    CommendationIssued,
    Formula,
    FormulaDeclared,
    Input,
    NoticePosted,
    ObjectionAnswered,
    ObjectionFiled,
    ReviewsMeasure,
    Scored,
    SelectionOpened,
    StageScored,
)
from shared.aggregate import Aggregate
from shared.errors import InvalidInput, InvalidState
from shared.events import DomainEvent

AROUND_JULY_1 = timedelta(days=15)


@dataclass
class Candidate:
    subject_id: str
    subject_name: str
    branch_id: str
    nominated_by: str
    reason: str


@dataclass
class Objection:
    subject_id: str
    answered: bool = False
    upheld: bool = False


@dataclass
class SelectionState:
    candidates: dict[str, Candidate] = field(default_factory=dict)
    stages: list[tuple[str, ...]] = field(default_factory=list)  # shortlisted ids per stage
    reasons: dict[str, str] = field(default_factory=dict)
    objections: dict[str, Objection] = field(default_factory=dict)


class Selection(Aggregate):
    def blank(self) -> None:
        self.selection_id = ""
        self.township_id = ""
        self.year = 0
        self.title = ""
        self.subject_kind = SubjectKind.BRANCH
        self.notice_days = 7
        self.commendation_on = date.min
        self.opened_on: date | None = None
        self.formula: Formula | None = None
        self.state = SelectionState()
        self.notice_until: date | None = None
        self.finalists: tuple[str, ...] = ()
        self.issued = False

    @staticmethod
    def id_for(township_id: str, year: int, kind: SubjectKind) -> str:
        """S1: once a year for each level and kind. The id names all three, so the log itself
        refuses a second opening even when two arrive at once (the stream already exists)."""
        return f"s-{year}-{kind.value}-{township_id}"

    @classmethod
    def open(cls, opened: SelectionOpened, held: Selection | None = None) -> Selection:
        anniversary = date(opened.year, 7, 1)
        if abs(opened.commendation_on - anniversary) > AROUND_JULY_1:
            raise InvalidInput("commendation is issued around July 1 (S3)", field="commendation_on")
        if held is not None:
            raise InvalidState(
                f"the township selects its {opened.subject_kind.value}s once a year (S1):"
                f" {opened.year}'s selection is {held.selection_id}"
            )
        selection = cls(f"selection-{opened.selection_id}", opened.township_id)
        selection._record(opened)
        return selection

    def declare(self, formula: Formula) -> None:
        if self.state.stages:
            raise InvalidState("the formula is fixed once the first stage is scored (S2)")
        if not formula.quotas or any(q < 1 for q in formula.quotas):
            raise InvalidInput("each stage shortlists at least one", field="quotas")
        if list(formula.quotas) != sorted(formula.quotas, reverse=True):
            raise InvalidInput("each stage shortlists from the previous one", field="quotas")
        if abs(sum(formula.weights.values()) - 1.0) > 1e-9:
            raise InvalidInput("the weights add up to 1", field="weights")
        rule = formula.reviews
        if rule.measure is ReviewsMeasure.GRADES and set(rule.points) != set(REVIEW_POINTS):
            raise InvalidInput(
                f"give points to each review grade: {sorted(REVIEW_POINTS)}", field="review_points"
            )
        window = formula.window
        if window is not None and window.starts_on > window.ends_on:
            raise InvalidInput("the data window ends after it starts", field="window_ends_on")
        if window is not None and window.ends_on - window.starts_on > timedelta(days=731):
            raise InvalidInput("the data window is at most two years", field="window_starts_on")
        version = self.formula.version + 1 if self.formula else 1
        self._record(
            FormulaDeclared(
                selection_id=self.selection_id,
                formula=formula.model_copy(update={"version": version}),
            )
        )

    def nominate(self, candidate: Candidate) -> None:
        if self.state.stages:
            raise InvalidState("nominations closed when the first stage was scored")
        if candidate.subject_id in self.state.candidates:
            raise InvalidState(f"{candidate.subject_name} is already nominated")
        self._record(
            CandidateNominated(
                selection_id=self.selection_id,
                subject_id=candidate.subject_id,
                subject_name=candidate.subject_name,
                branch_id=candidate.branch_id,
                nominated_by=candidate.nominated_by,
                reason=candidate.reason,
            )
        )

    def in_the_running(self) -> list[Candidate]:
        """The previous stage's shortlist (the nominations before the first stage)."""
        if not self.state.stages:
            return list(self.state.candidates.values())
        return [self.state.candidates[s] for s in self.state.stages[-1]]

    @property
    def the_formula(self) -> Formula:
        if self.formula is None:
            raise InvalidState("declare the formula before the first stage (S2)")
        return self.formula

    def score_stage(self, inputs: dict[str, tuple[Input, ...]], today: date) -> None:
        formula = self.the_formula
        stage = len(self.state.stages) + 1
        if stage > len(formula.quotas):
            raise InvalidState("every stage of the formula is scored")
        running = self.in_the_running()
        if not running:
            raise InvalidState("nobody is nominated")
        scored = sorted(
            ((composite(formula, inputs[c.subject_id]), c) for c in running),
            key=lambda pair: (-pair[0], pair[1].subject_id),
        )
        quota = formula.quotas[stage - 1]
        candidates = []
        for rank, (score, c) in enumerate(scored, start=1):
            chosen = rank <= quota
            verdict = "shortlisted" if chosen else "not shortlisted"
            candidates.append(
                Scored(
                    subject_id=c.subject_id,
                    subject_name=c.subject_name,
                    branch_id=c.branch_id,
                    inputs=inputs[c.subject_id],
                    composite=score,
                    rank=rank,
                    shortlisted=chosen,
                    reason=f"{verdict}: rank {rank} of {len(scored)}, composite {score}"
                    f" (formula v{formula.version}, quota {quota})",
                )
            )
        self._record(
            StageScored(
                selection_id=self.selection_id,
                stage=stage,
                formula_version=formula.version,
                scored_on=today,
                candidates=tuple(candidates),
            )
        )

    def post_notice(self, today: date) -> None:
        if len(self.state.stages) != len(self.the_formula.quotas):
            raise InvalidState("score every stage before the public notice")
        if self.notice_until is not None:
            raise InvalidState("the notice is already posted")
        self._record(
            NoticePosted(
                selection_id=self.selection_id,
                posted_on=today,
                notice_until=today + timedelta(days=self.notice_days),
                finalists=self.state.stages[-1],
            )
        )

    def file_objection(self, objection_id: str, subject_id: str, summary: str, today: date) -> None:
        if self.notice_until is None or today > self.notice_until or self.issued:
            raise InvalidState("objections are filed during the public notice period (S3)")
        if subject_id not in self.finalists:
            raise InvalidInput(f"{subject_id} is not on the notice", field="subject_id")
        self._record(
            ObjectionFiled(
                selection_id=self.selection_id,
                objection_id=objection_id,
                subject_id=subject_id,
                summary=summary,
            )
        )

    def answer(self, objection_id: str, answer: str, upheld: bool) -> None:
        objection = self.state.objections.get(objection_id)
        if objection is None:
            raise InvalidInput(f"no objection {objection_id}", field="objection_id")
        if objection.answered:
            raise InvalidState("this objection is already answered")
        self._record(
            ObjectionAnswered(
                selection_id=self.selection_id,
                objection_id=objection_id,
                answer=answer,
                upheld=upheld,
            )
        )

    def issue(self, today: date) -> None:
        if self.notice_until is None or today <= self.notice_until:
            raise InvalidState("the commendation follows the end of the public notice (S3)")
        if any(not o.answered for o in self.state.objections.values()):
            raise InvalidState("every objection must be answered first (S3)")
        if self.issued:
            raise InvalidState("the commendation is already issued")
        if abs(today - self.commendation_on) > AROUND_JULY_1:
            raise InvalidState(f"the commendation is issued around {self.commendation_on}")
        removed = {o.subject_id for o in self.state.objections.values() if o.upheld}
        awardees = tuple(
            Awardee(
                subject_kind=self.subject_kind,
                subject_id=c.subject_id,
                subject_name=c.subject_name,
                branch_id=c.branch_id,
                reason=self.state.reasons[c.subject_id],
            )
            for c in (self.state.candidates[s] for s in self.finalists)
            if c.subject_id not in removed
        )
        self._record(
            CommendationIssued(
                selection_id=self.selection_id,
                township_id=self.township_id,
                year=self.year,
                title=self.title,
                issued_on=today,
                awardees=awardees,
            )
        )

    def apply(self, event: DomainEvent) -> None:
        match event:
            case SelectionOpened():
                self.selection_id, self.township_id = event.selection_id, event.township_id
                self.year, self.title = event.year, event.title
                self.subject_kind, self.notice_days = event.subject_kind, event.notice_days
                self.commendation_on, self.opened_on = event.commendation_on, event.opened_on
            case FormulaDeclared():
                self.formula = event.formula
            case CandidateNominated():
                self.state.candidates[event.subject_id] = Candidate(
                    event.subject_id,
                    event.subject_name,
                    event.branch_id,
                    event.nominated_by,
                    event.reason,
                )
            case StageScored():
                chosen = tuple(c.subject_id for c in event.candidates if c.shortlisted)
                self.state.stages.append(chosen)
                self.state.reasons.update({c.subject_id: c.reason for c in event.candidates})
            case NoticePosted():
                self.notice_until, self.finalists = event.notice_until, event.finalists
            case ObjectionFiled():
                self.state.objections[event.objection_id] = Objection(event.subject_id)
            case ObjectionAnswered():
                objection = self.state.objections[event.objection_id]
                objection.answered, objection.upheld = True, event.upheld
            case CommendationIssued():
                self.issued = True
