"""Contact-point guidance visits by leading cadres (R7), for the supervision bulletin (N4).
Pure; no I/O."""

from __future__ import annotations

from datetime import date

from services.review.aggregates.common import Person, Subject, not_ahead, require_active
from services.review.events import GuidanceVisitRecorded
from shared.aggregate import Aggregate
from shared.events import DomainEvent
from shared.files import FileRef


class Visit(Aggregate):
    def blank(self) -> None:
        self.visit_id = ""

    @classmethod
    def record(
        cls,
        visit_id: str,
        branch: Subject,
        cadre: Person,
        visited_on: date,
        summary: str,
        problems_found: str | None,
        guidance_given: str | None,
        today: date,
        files: tuple[FileRef, ...] = (),
    ) -> Visit:
        require_active(branch)
        not_ahead(visited_on, today, "visited_on")
        visit = cls(f"visit-{visit_id}", branch.township_id)
        visit._record(
            GuidanceVisitRecorded(
                visit_id=visit_id,
                township_id=branch.township_id,
                branch_id=branch.branch_id,
                cadre_id=cadre.person_id,
                cadre_name=cadre.name,
                visited_on=visited_on,
                summary=summary,
                problems_found=problems_found,
                guidance_given=guidance_given,
                files=files,
            )
        )
        return visit

    def apply(self, event: DomainEvent) -> None:
        match event:
            case GuidanceVisitRecorded():
                self.visit_id = event.visit_id
