"""What voting needs of other parts: the county's SMS channel, as shared/sms.py exposes it
(this Protocol, the same signature, stands in until that module is there). Voting reads no
other service's events of its own: the page shows what the rounds' and checks' read models
hold (the directory copy, the pledge item a check concerns)."""

from __future__ import annotations

from typing import Protocol


class SmsGateway(Protocol):
    async def send(self, phone: str, template: str, params: dict[str, str]) -> None: ...
