"""A member of the public whose personal data the log holds sealed (A7). Pure."""

from __future__ import annotations

from services.evaluation.events import PersonalDataErased
from shared.aggregate import Aggregate
from shared.errors import InvalidState
from shared.events import DomainEvent


class Person(Aggregate):
    """A member of the public whose personal data the log holds sealed (A7): erased once.
    One stream per person: `person-<person_id>`, in the township's partition."""

    def blank(self) -> None:
        self.erased = False

    def erase(self, person_id: str) -> None:
        if self.erased:
            raise InvalidState(f"人员 {person_id} 的个人信息已经删除，无需再次删除。")
        self._record(PersonalDataErased(person_id=person_id))

    def apply(self, event: DomainEvent) -> None:
        match event:
            case PersonalDataErased():
                self.erased = True
