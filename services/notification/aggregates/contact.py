"""A person's phone for notices by SMS (N5): registered sealed (A7), replaced, removed."""

from __future__ import annotations

from services.notification.events import PhoneRegistered, PhoneRemoved, Sealed
from shared.aggregate import Aggregate
from shared.errors import InvalidState
from shared.events import DomainEvent


class Contact(Aggregate):
    def blank(self) -> None:
        self.has_phone = False

    def register(self, person_id: str, county_id: str, township_id: str, phone: Sealed) -> None:
        self._record(
            PhoneRegistered(
                person_id=person_id, county_id=county_id, township_id=township_id, phone=phone
            )
        )

    def remove(self, person_id: str) -> None:
        if not self.has_phone:
            raise InvalidState("该人员没有登记手机号：请先登记手机号。")
        self._record(PhoneRemoved(person_id=person_id))

    def apply(self, event: DomainEvent) -> None:
        match event:
            case PhoneRegistered():
                self.has_phone = True
            case PhoneRemoved():
                self.has_phone = False
