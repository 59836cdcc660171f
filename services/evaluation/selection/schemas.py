"""Response models of the annual selection (S1–S3)."""

from __future__ import annotations

from datetime import date
from typing import Any

from services.evaluation.schemas import View
from services.evaluation.selection.events import Awardee, Decision, Scored


class CandidateView(View):
    subject_id: str
    subject_name: str
    branch_id: str
    nominated_by: str
    reason: str


class StageView(View):
    stage: int
    formula_version: int
    scored_on: date
    candidates: list[Scored]  # the evidence: composite, its parts, the suggestion
    decided_by: str | None  # the body that decided the stage; None: not yet decided
    decided_on: date | None
    decisions: list[Decision]


class ObjectionView(View):
    objection_id: str
    subject_id: str
    summary: str
    answer: str | None
    upheld: bool | None
    in_person: bool  # recorded by the office for someone who came in person
    # the township that filed a county selection's objection, and its name (this service's
    # copy of the directory); None when recorded in person or filed before it was named
    township_id: str | None = None
    township_name: str | None = None


class SelectionView(View):
    selection_id: str
    level: str  # township, county or branch (S1)
    organisation_id: str  # the township, county or branch holding it
    township_id: str
    year: int
    title: str
    subject_kind: str
    notice_days: int
    commendation_on: date
    formula: dict[str, Any] | None
    candidates: list[CandidateView]
    stages: list[StageView]
    posted_on: date | None
    notice_until: date | None
    finalists: list[str]
    objections: list[ObjectionView]
    issued_on: date | None


class SelectionSummary(View):
    selection_id: str
    level: str
    organisation_id: str
    township_id: str
    year: int
    title: str
    subject_kind: str
    commendation_on: date
    stages_scored: int
    posted_on: date | None
    notice_until: date | None
    issued_on: date | None


class SelectionPage(View):
    total: int
    limit: int
    offset: int
    rows: list[SelectionSummary]


class RecomputedCandidate(View):
    subject_id: str
    recorded: float
    recomputed: float
    inputs_match: bool


class RecomputationView(View):
    selection_id: str
    stage: int
    formula_version: int
    candidates: list[RecomputedCandidate]
    matches: bool


class CommendationView(View):
    selection_id: str
    level: str
    township_id: str
    year: int
    title: str
    issued_on: date
    awardees: list[Awardee]
