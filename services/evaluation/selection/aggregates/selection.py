"""The annual selection (S1–S3). Pure; no I/O.

Opened by the township office for its branches or its members; the formula (weights, what a
missing source counts as, how reviews score, quotas per stage: formula.py) is declared and
versioned before the first stage; nominations come up from the branches; each stage scores
the previous stage's shortlist by the composite score (the evidence, with the top N by the
formula's quota as a suggestion), and then the body the stage names decides, per candidate,
advanced or not and why, in its own words (层层筛选 is a decision, not a cut); the final list
goes on public notice; every objection must be answered; then the commendation is issued
around July 1.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

from services.evaluation.rounds.events import SubjectKind
from services.evaluation.selection.aggregates.formula import REVIEW_POINTS, composite
from services.evaluation.selection.events import (
    Awardee,
    Body,
    CandidateNominated,
    CommendationIssued,
    Decision,
    Formula,
    FormulaDeclared,
    Input,
    Level,
    NoticePosted,
    ObjectionAnswered,
    ObjectionFiled,
    ReviewsMeasure,
    Scored,
    SelectionOpened,
    StageDecided,
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
    scored: list[tuple[str, ...]] = field(default_factory=list)  # scored ids per stage
    stages: list[tuple[str, ...]] = field(default_factory=list)  # advanced ids per decided stage
    reasons: dict[str, str] = field(default_factory=dict)  # the latest decision's reason
    suggested: tuple[str, ...] = ()  # the latest scored stage's top N by score
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
        self.level = Level.TOWNSHIP
        self.organisation_id = ""  # the township, county or branch holding it
        self.formula: Formula | None = None
        self.state = SelectionState()
        self.notice_until: date | None = None
        self.finalists: tuple[str, ...] = ()
        self.issued = False

    @staticmethod
    def id_for(
        organisation_id: str, year: int, kind: SubjectKind, level: Level = Level.TOWNSHIP
    ) -> str:
        """S1: once a year for each organisation and kind. The id names them, so the log itself
        refuses a second opening even when two arrive at once (the stream already exists)."""
        if level is Level.TOWNSHIP:
            return f"s-{year}-{kind.value}-{organisation_id}"
        return f"s-{year}-{kind.value}-{level.value}-{organisation_id}"

    @property
    def body(self) -> Body:
        """The body that decides each stage: the branch (its committee, by its secretary), the
        township committee, or the county."""
        return {
            Level.BRANCH: Body.BRANCH,
            Level.TOWNSHIP: Body.TOWNSHIP_COMMITTEE,
            Level.COUNTY: Body.COUNTY,
        }[self.level]

    @classmethod
    def open(cls, opened: SelectionOpened, held: Selection | None = None) -> Selection:
        anniversary = date(opened.year, 7, 1)
        if abs(opened.commendation_on - anniversary) > AROUND_JULY_1:
            raise InvalidInput("commendation is issued around July 1 (S3)", field="commendation_on")
        if opened.level is Level.BRANCH and opened.subject_kind is not SubjectKind.MEMBER:
            raise InvalidInput("a branch selects among its members", field="subject_kind")
        if held is not None:
            raise InvalidState(
                f"the {opened.level.value} selects its {opened.subject_kind.value}s once a year"
                f" (S1): {opened.year}'s selection is {held.selection_id}"
            )
        selection = cls(f"selection-{opened.selection_id}", opened.township_id)
        selection._record(opened)
        return selection

    def declare(self, formula: Formula) -> None:
        if self.state.scored:
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
        if self.state.scored:
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
        """The stage's evidence: every candidate still in the running scored by the formula,
        the top N by its quota marked as a suggestion. Deciding is the body's (`decide`)."""
        formula = self.the_formula
        stage = len(self.state.scored) + 1
        if len(self.state.scored) > len(self.state.stages):
            raise InvalidState(f"stage {stage - 1} is scored and not yet decided")
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
        self._record(
            StageScored(
                selection_id=self.selection_id,
                stage=stage,
                formula_version=formula.version,
                scored_on=today,
                candidates=tuple(
                    Scored(
                        subject_id=c.subject_id,
                        subject_name=c.subject_name,
                        branch_id=c.branch_id,
                        inputs=inputs[c.subject_id],
                        composite=score,
                        rank=rank,
                        suggested=rank <= quota,
                    )
                    for rank, (score, c) in enumerate(scored, start=1)
                ),
            )
        )

    def decide(self, stage: int, body: Body, decisions: list[Decision], today: date) -> None:
        """S2: the body the stage names decides each candidate scored in it, advanced or not,
        with its reason; it may follow the suggestion or not, but says why either way."""
        if body is not self.body:
            raise InvalidState(f"the {self.body.value} decides the stages of this selection")
        if stage != len(self.state.scored) or stage == len(self.state.stages):
            raise InvalidState(
                f"stage {stage} is not waiting for a decision (scored"
                f" {len(self.state.scored)}, decided {len(self.state.stages)})"
            )
        scored = self.state.scored[stage - 1]
        ids = [d.subject_id for d in decisions]
        for index, subject_id in enumerate(ids):
            if subject_id not in scored:
                raise InvalidInput(
                    f"{subject_id} is not a candidate of stage {stage}",
                    field=f"decisions.{index}.subject_id",
                )
            if ids.index(subject_id) != index:
                raise InvalidInput(
                    f"{subject_id} is decided twice", field=f"decisions.{index}.subject_id"
                )
        missing = [s for s in scored if s not in ids]
        if missing:
            raise InvalidInput(
                f"decide every candidate of the stage; undecided: {missing}", field="decisions"
            )
        if not any(d.advanced for d in decisions):
            raise InvalidInput("at least one candidate advances", field="decisions")
        order = {s: i for i, s in enumerate(scored)}
        self._record(
            StageDecided(
                selection_id=self.selection_id,
                stage=stage,
                body=body,
                decided_on=today,
                decisions=tuple(sorted(decisions, key=lambda d: order[d.subject_id])),
            )
        )

    def post_notice(self, today: date) -> None:
        if len(self.state.stages) != len(self.the_formula.quotas):
            raise InvalidState("score and decide every stage before the public notice")
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

    def file_objection(
        self, objection_id: str, subject_id: str, summary: str, today: date, in_person: bool = False
    ) -> None:
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
                in_person=in_person,
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
                nomination_reason=c.reason,
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
                level=self.level,
            )
        )

    def apply(self, event: DomainEvent) -> None:
        match event:
            case SelectionOpened():
                self.selection_id, self.township_id = event.selection_id, event.township_id
                self.year, self.title = event.year, event.title
                self.subject_kind, self.notice_days = event.subject_kind, event.notice_days
                self.commendation_on, self.opened_on = event.commendation_on, event.opened_on
                self.level = event.level
                self.organisation_id = event.organisation_id or event.township_id
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
                self.state.scored.append(tuple(c.subject_id for c in event.candidates))
                self.state.suggested = tuple(c.subject_id for c in event.candidates if c.suggested)
                if event.decided:  # schema 1: the cut was the decision
                    self._decided(event.decided)
            case StageDecided():
                self._decided(event.decisions)
            case NoticePosted():
                self.notice_until, self.finalists = event.notice_until, event.finalists
            case ObjectionFiled():
                self.state.objections[event.objection_id] = Objection(event.subject_id)
            case ObjectionAnswered():
                objection = self.state.objections[event.objection_id]
                objection.answered, objection.upheld = True, event.upheld
            case CommendationIssued():
                self.issued = True

    def _decided(self, decisions: tuple[Decision, ...]) -> None:
        self.state.stages.append(tuple(d.subject_id for d in decisions if d.advanced))
        self.state.reasons.update({d.subject_id: d.reason for d in decisions})
