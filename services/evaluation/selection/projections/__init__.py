"""The annual selection's projectors (S1–S3), by the event they project: its own, and the
other services' records it scores from (pledges, leadership reviews)."""

from services.evaluation.selection.projections import selection
from shared.projections import Projection, Table

TABLE: Table = {
    "SelectionOpened": selection.selection_opened,
    "FormulaDeclared": selection.formula_declared,
    "CandidateNominated": selection.candidate_nominated,
    "StageScored": selection.stage_scored,
    "StageDecided": selection.stage_decided,
    "NoticePosted": selection.notice_posted,
    "ObjectionFiled": selection.objection_filed,
    "ObjectionAnswered": selection.objection_answered,
    "CommendationIssued": selection.commendation_issued,
    # what the selection scores from (S2)
    ("pledge", "PledgeDrafted"): selection.pledge_drafted,
    ("pledge", "PledgePublished"): selection.pledge_published,
    ("pledge", "ItemClosed"): selection.item_closed,
    ("review", "ReviewRecorded"): selection.review_recorded,
    ("review", "ReviewCorrected"): selection.review_recorded,
}
PROJECTION = Projection("evaluation", TABLE)
