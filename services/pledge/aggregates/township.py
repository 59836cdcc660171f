"""A township of the county (D1), and its head."""

from __future__ import annotations

from services.pledge.events import TownshipEstablished, TownshipHeadAppointed
from shared.aggregate import Aggregate
from shared.events import DomainEvent


class Township(Aggregate):
    def blank(self) -> None:
        self.township_id = ""
        self.county_id = ""
        self.name = ""
        self.head_id: str | None = None

    @classmethod
    def establish(cls, township_id: str, county_id: str, name: str) -> Township:
        township = cls(f"township-{township_id}", township_id)
        township._record(
            TownshipEstablished(township_id=township_id, county_id=county_id, name=name)
        )
        return township

    def appoint_head(self, person_id: str, name: str) -> None:
        self._record(
            TownshipHeadAppointed(township_id=self.township_id, person_id=person_id, name=name)
        )

    def apply(self, event: DomainEvent) -> None:
        match event:
            case TownshipEstablished():
                self.township_id, self.county_id, self.name = (
                    event.township_id,
                    event.county_id,
                    event.name,
                )
            case TownshipHeadAppointed():
                self.head_id = event.person_id
