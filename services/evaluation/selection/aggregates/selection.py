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
from shared import zh
from shared.aggregate import Aggregate
from shared.errors import InvalidInput, InvalidState
from shared.events import DomainEvent

AROUND_JULY_1 = timedelta(days=15)


# who decides a stage, as a refusal names it
BODIES = {
    "branch": "支部",
    "township_committee": "乡镇党委",
    "county": "县委",
    "formula": "评选办法",
}


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
            raise InvalidInput(
                "评选表彰在7月1日前后进行（S3）：请把表彰日期定在7月1日前后。",
                field="commendation_on",
            )
        if opened.level is Level.BRANCH and opened.subject_kind is not SubjectKind.MEMBER:
            raise InvalidInput(
                "支部只在本支部党员中评选：请把评选对象改为党员。", field="subject_kind"
            )
        if held is not None:
            raise InvalidState(
                f"每年只评选一次（S1）：{opened.year}年的评选已是 {held.selection_id}，"
                "请在那次评选中办理。"
            )
        selection = cls(f"selection-{opened.selection_id}", opened.township_id)
        selection._record(opened)
        return selection

    def declare(self, formula: Formula) -> None:
        if self.state.scored:
            raise InvalidState("第一轮计分后评选办法不能再改（S2）。")
        if not formula.quotas or any(q < 1 for q in formula.quotas):
            raise InvalidInput("每一轮至少要入围一个：请调整入围人数。", field="quotas")
        if list(formula.quotas) != sorted(formula.quotas, reverse=True):
            raise InvalidInput("每一轮的入围人数不能多于上一轮：请调整入围人数。", field="quotas")
        if abs(sum(formula.weights.values()) - 1.0) > 1e-9:
            raise InvalidInput("各项权重之和须为1：请调整权重。", field="weights")
        rule = formula.reviews
        if rule.measure is ReviewsMeasure.GRADES and set(rule.points) != set(REVIEW_POINTS):
            raise InvalidInput(
                f"请为每个点评等次给分：{'、'.join(zh.label(g) for g in sorted(REVIEW_POINTS))}。",
                field="review_points",
            )
        window = formula.window
        if window is not None and window.starts_on > window.ends_on:
            raise InvalidInput("数据期间的结束日须晚于开始日：请修改日期。", field="window_ends_on")
        if window is not None and window.ends_on - window.starts_on > timedelta(days=731):
            raise InvalidInput("数据期间最长两年：请缩短期间。", field="window_starts_on")
        version = self.formula.version + 1 if self.formula else 1
        self._record(
            FormulaDeclared(
                selection_id=self.selection_id,
                formula=formula.model_copy(update={"version": version}),
            )
        )

    def nominate(self, candidate: Candidate) -> None:
        if self.state.scored:
            raise InvalidState("第一轮已计分，推荐已截止。")
        if candidate.subject_id in self.state.candidates:
            raise InvalidState("该对象已经被推荐，无需重复推荐。")
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
            raise InvalidState("请先声明评选办法，再进行第一轮计分（S2）。")
        return self.formula

    def score_stage(self, inputs: dict[str, tuple[Input, ...]], today: date) -> None:
        """The stage's evidence: every candidate still in the running scored by the formula,
        the top N by its quota marked as a suggestion. Deciding is the body's (`decide`)."""
        formula = self.the_formula
        stage = len(self.state.scored) + 1
        if len(self.state.scored) > len(self.state.stages):
            raise InvalidState(f"第{stage - 1}轮已计分但还没有决定：请先决定该轮，再计下一轮。")
        if stage > len(formula.quotas):
            raise InvalidState("评选办法的每一轮都已计分，无需再计。")
        running = self.in_the_running()
        if not running:
            raise InvalidState("还没有推荐对象：请先推荐，再计分。")
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
            raise InvalidState(
                f"本次评选各轮由{BODIES.get(self.body.value, self.body.value)}决定："
                "请切换到相应身份。"
            )
        if stage != len(self.state.scored) or stage == len(self.state.stages):
            raise InvalidState(
                f"第{stage}轮不在等待决定（已计分 {len(self.state.scored)} 轮，"
                f"已决定 {len(self.state.stages)} 轮）：请按顺序先计分再决定。"
            )
        scored = self.state.scored[stage - 1]
        ids = [d.subject_id for d in decisions]
        for index, subject_id in enumerate(ids):
            if subject_id not in scored:
                raise InvalidInput(
                    f"{subject_id} 不是第{stage}轮的候选对象：请只决定本轮的候选对象。",
                    field=f"decisions.{index}.subject_id",
                )
            if ids.index(subject_id) != index:
                raise InvalidInput(
                    f"{subject_id} 被决定了两次：每个候选对象只决定一次。",
                    field=f"decisions.{index}.subject_id",
                )
        missing = [s for s in scored if s not in ids]
        if missing:
            raise InvalidInput(
                f"请对本轮每个候选对象作出决定，尚未决定：{'、'.join(map(str, missing))}。",
                field="decisions",
            )
        if not any(d.advanced for d in decisions):
            raise InvalidInput("至少要有一个候选对象晋级：请选择晋级的对象。", field="decisions")
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
            raise InvalidState("请先完成每一轮的计分和决定，再发布公示。")
        if self.notice_until is not None:
            raise InvalidState("公示已经发布，无需重复发布。")
        self._record(
            NoticePosted(
                selection_id=self.selection_id,
                posted_on=today,
                notice_until=today + timedelta(days=self.notice_days),
                finalists=self.state.stages[-1],
            )
        )

    def file_objection(
        self,
        objection_id: str,
        subject_id: str,
        summary: str,
        today: date,
        in_person: bool = False,
        township_id: str | None = None,
    ) -> None:
        if self.notice_until is None or today > self.notice_until or self.issued:
            raise InvalidState("异议须在公示期内提出（S3）：公示期外不能再提。")
        if subject_id not in self.finalists:
            raise InvalidInput(
                f"{subject_id} 不在公示名单上：请选择公示名单上的对象。", field="subject_id"
            )
        self._record(
            ObjectionFiled(
                selection_id=self.selection_id,
                objection_id=objection_id,
                subject_id=subject_id,
                summary=summary,
                in_person=in_person,
                township_id=township_id,
            )
        )

    def answer(self, objection_id: str, answer: str, upheld: bool) -> None:
        objection = self.state.objections.get(objection_id)
        if objection is None:
            raise InvalidInput(
                f"没有编号为 {objection_id} 的异议：请核对后再试。", field="objection_id"
            )
        if objection.answered:
            raise InvalidState("该异议已经答复，无需重复答复。")
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
            raise InvalidState("公示期结束后才能表彰（S3）：请等公示期结束。")
        if any(not o.answered for o in self.state.objections.values()):
            raise InvalidState("请先答复所有异议，再进行表彰（S3）。")
        if self.issued:
            raise InvalidState("表彰已经发布，无需重复发布。")
        if abs(today - self.commendation_on) > AROUND_JULY_1:
            raise InvalidState(f"表彰在 {zh.day(self.commendation_on)} 前后进行：请到时再发布。")
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
