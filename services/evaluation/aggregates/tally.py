"""Scales (E7) and results (E5): counts per grade, satisfaction rate and score per subject.

Pure. The same functions compute results live from the read model's counts and from the
ballot events, so the two agree by construction (the property test checks it).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from services.evaluation.rounds.events import Grade, Scale, Subject, SubjectResult

PUBLIC_SATISFACTION = Scale(
    name="public_satisfaction",  # 满意 / 基本满意 / 不满意
    grades=(
        Grade(grade="satisfied", label="满意", score=100, satisfied=True),
        Grade(grade="mostly_satisfied", label="基本满意", score=80, satisfied=True),
        Grade(grade="dissatisfied", label="不满意", score=0, satisfied=False),
    ),
)

MEMBER_APPRAISAL = Scale(
    name="member_appraisal",  # 优秀 / 合格 / 基本合格 / 不合格
    grades=(
        Grade(grade="excellent", label="优秀", score=100, satisfied=True),
        Grade(grade="qualified", label="合格", score=85, satisfied=True),
        Grade(grade="basically_qualified", label="基本合格", score=60, satisfied=False),
        Grade(grade="unqualified", label="不合格", score=0, satisfied=False),
    ),
)

DEFAULT_SCALES = {s.name: s for s in (PUBLIC_SATISFACTION, MEMBER_APPRAISAL)}


def summarise(scale: Scale, counts: Mapping[str, int]) -> tuple[dict[str, int], float, float]:
    """Counts per grade (every grade of the scale, zeros included), satisfaction rate (share
    of ballots with a grade that counts as satisfied) and score (mean of the grades' scores)."""
    full = {g.grade: int(counts.get(g.grade, 0)) for g in scale.grades}
    total = sum(full.values())
    if total == 0:
        return full, 0.0, 0.0
    satisfied = sum(full[g.grade] for g in scale.grades if g.satisfied)
    points = sum(full[g.grade] * g.score for g in scale.grades)
    return full, round(satisfied / total, 4), round(points / total, 2)


def count(ballots: Iterable[Mapping[str, str]]) -> dict[str, dict[str, int]]:
    """subject id -> grade -> number of ballots."""
    counts: dict[str, dict[str, int]] = {}
    for ballot in ballots:
        for subject_id, grade in ballot.items():
            per_subject = counts.setdefault(subject_id, {})
            per_subject[grade] = per_subject.get(grade, 0) + 1
    return counts


def results(
    subjects: Iterable[Subject], scale: Scale, counts: Mapping[str, Mapping[str, int]]
) -> list[SubjectResult]:
    out = []
    for subject in subjects:
        per_grade, rate, score = summarise(scale, counts.get(subject.subject_id, {}))
        out.append(
            SubjectResult(
                subject_kind=subject.subject_kind,
                subject_id=subject.subject_id,
                subject_name=subject.subject_name,
                branch_id=subject.branch_id,
                counts=per_grade,
                satisfaction_rate=rate,
                score=score,
            )
        )
    return out
