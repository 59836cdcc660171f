"""What the generated history (gongkai/develop/history.py) is made of: the county's people as
plain records, and one service's HTTP API as they drive it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

from gongkai.develop.demo import bearer
from shared.auth import LocalSigningKey


@dataclass(frozen=True)
class Member:
    member_id: str
    name: str
    post: str
    leadership_team: bool


@dataclass
class Branch:
    township_id: str
    branch_id: str
    name: str
    kind: str
    members: list[Member]  # the first is the secretary

    @property
    def secretary(self) -> Member:
        return self.members[0]


@dataclass
class Township:
    township_id: str
    name: str
    head_id: str
    head_name: str
    branches: list[Branch] = field(default_factory=list)


class Caller:
    """One service's API: a refused command stops the history (the generator broke a rule it
    should keep), and every command sent moves the progress bar."""

    def __init__(
        self, client: httpx.AsyncClient, key: LocalSigningKey, advance: Callable[[], None]
    ) -> None:
        self.http, self.key, self.advance = client, key, advance

    def auth(
        self, role: str, org: str | None, subject: str | None = None, name: str | None = None
    ) -> dict[str, str]:
        return bearer(self.key, role, org, subject, name)

    async def post(self, path: str, body: dict[str, Any] | None, who: dict[str, str]) -> Any:
        response = await self.http.post(path, json=body, headers=who)
        if response.status_code >= 400:
            raise RuntimeError(f"POST {path}: {response.status_code} {response.text}")
        self.advance()
        return response.json()

    async def get(self, path: str) -> httpx.Response:
        return await self.http.get(path)
