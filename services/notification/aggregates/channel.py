"""An outbound channel (N5): registered for some release types, until it is retired."""

from __future__ import annotations

from services.notification.events import ChannelKind, ChannelRegistered, ChannelRetired
from shared.aggregate import Aggregate
from shared.errors import InvalidState
from shared.events import DomainEvent


class Channel(Aggregate):
    def blank(self) -> None:
        self.county_id = ""
        self.township_id: str | None = None
        self.active = False

    @classmethod
    def register(
        cls,
        channel_id: str,
        county_id: str,
        township_id: str | None,
        kind: ChannelKind,
        name: str,
        shown_as: str,
        signed: bool,
        release_types: tuple[str, ...],
    ) -> Channel:
        channel = cls(f"channel-{channel_id}", township_id or county_id)
        channel._record(
            ChannelRegistered(
                channel_id=channel_id,
                county_id=county_id,
                township_id=township_id,
                kind=kind,
                name=name,
                shown_as=shown_as,
                signed=signed,
                release_types=release_types,
            )
        )
        return channel

    def retire(self) -> None:
        if not self.active:
            raise InvalidState("该推送渠道已停用：请新建渠道。")
        self._record(ChannelRetired(channel_id=self.stream_id.removeprefix("channel-")))

    def apply(self, event: DomainEvent) -> None:
        match event:
            case ChannelRegistered():
                self.county_id = event.county_id
                self.township_id = event.township_id
                self.active = True
            case ChannelRetired():
                self.active = False
