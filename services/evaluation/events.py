"""The evaluation service's events, one registry: mass evaluation rounds (E1–E5, E7) and the
calendar (E4), satisfaction checks of pledge items (E8), periodic ratings (E6), the annual
selection (S1–S3), each area's in its own `events.py`, and here the one event of the service
as a whole: the erasure of a person's personal data (A7), who may be a rater in rounds and
checks alike.

The registry also generates the AsyncAPI document. Participation (who voted) and ballots
(what was chosen) are separate events in separate streams (E3): no ballot event carries a
rater id. See docs/ballot-secrecy.md.
"""

from __future__ import annotations

from typing import Any

from services.evaluation.checks import events as checks
from services.evaluation.ratings import events as ratings
from services.evaluation.rounds import events as rounds
from services.evaluation.selection import events as selection
from services.evaluation.voting import events as voting
from shared.events import DomainEvent, EventRegistry

# --- erasure of personal data (A7) -------------------------------------------------------


class PersonalDataErased(DomainEvent):
    """The person's key is destroyed: their sealed data reads as erased everywhere. Carries
    no personal data. Stream `person-<person_id>`."""

    aggregate_type = "person"
    person_id: str


REGISTRY = EventRegistry(
    "evaluation",
    [
        *rounds.EVENTS,
        *checks.EVENTS,
        *ratings.EVENTS,
        PersonalDataErased,
        *selection.EVENTS,
        *voting.EVENTS,
    ],
)


# --- old schema versions ------------------------------------------------------------------
# The log keeps events as they were written (invariant 6): each upcaster below names the model
# of the version it reads (beside the current one, in the area's events.py), so the published
# contract has a schema for every version a log may hold.


@REGISTRY.upcaster("RaterRegistered", 1, reads=rounds.RaterRegisteredV1)
@REGISTRY.upcaster("CheckRaterRegistered", 1, reads=checks.CheckRaterRegisteredV1)
def _rater_registered_v1(data: dict[str, Any]) -> dict[str, Any]:
    return {**data, "personal": None}  # raters registered before A7 carried no personal data


@REGISTRY.upcaster("FormulaDeclared", 1, reads=selection.FormulaDeclaredV1)
def _formula_declared_v1(data: dict[str, Any]) -> dict[str, Any]:
    # formulas declared before the rule existed scored reviews by quarters reviewed (S2: they
    # must still compute as they did)
    rule = {"measure": "quarters_reviewed", "points": {}}
    return {**data, "formula": {**data["formula"], "reviews": rule}}


@REGISTRY.upcaster("FormulaDeclared", 2, reads=selection.FormulaDeclaredV2)
def _formula_declared_v2(data: dict[str, Any]) -> dict[str, Any]:
    # formulas declared before the data window read the selection's calendar year (S2: they
    # must still compute as they did)
    return {**data, "formula": {**data["formula"], "window": None}}


@REGISTRY.upcaster("StageScored", 1, reads=selection.StageScoredV1)
def _stage_scored_v1(data: dict[str, Any]) -> dict[str, Any]:
    # before 层层筛选 was a decision the score cut the list: that cut, with its generated
    # reason, is the stage's decision (the board never shows it)
    candidates, decided = [], []
    for c in data["candidates"]:
        kept = {k: v for k, v in c.items() if k not in ("shortlisted", "reason")}
        candidates.append({**kept, "suggested": c["shortlisted"]})
        decided.append(
            {"subject_id": c["subject_id"], "advanced": c["shortlisted"], "reason": c["reason"]}
        )
    return {**data, "candidates": candidates, "decided": decided}
