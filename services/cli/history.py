"""A generated county with years of history (`gongkai demo --townships N ...`), made through
the services' own HTTP command paths while their clock walks through the years: the pledge
service runs in this process on an injectable clock, against the stack's own database, so
`gongkai up` serves the result afterwards."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import httpx

from services.cli.demo import COUNTY, CRITERIA, ITEMS, bearer
from services.pledge.app import DEFINITION as PLEDGE
from shared.auth import LocalSigningKey
from shared.clock import FixedClock
from shared.embedded import free_port
from shared.runtime import create_app
from shared.settings import ServiceSettings
from shared.testing import serving

SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕"
GIVEN = "建国秀英德明丽华永福桂芳志强海燕国平文军春梅振山玉兰淑贞立新红霞明亮玉珍学军"
PLACES = (
    "红沙梁",
    "苏武",
    "大滩",
    "双茨科",
    "东坝",
    "泉山",
    "西渠",
    "收成",
    "夹河",
    "重兴",
    "薛百",
    "南湖",
    "昌宁",
    "蔡旗",
    "大坝",
    "三雷",
    "东湖",
    "红沙岗",
)
KINDS = ("village", "village", "village", "agency", "school")


@dataclass(frozen=True)
class Scale:
    townships: int
    branches_per_township: int
    members_per_branch: int
    years: int


def _name(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + "".join(rng.sample(GIVEN, 2))


class History:
    """Drives the pledge API as the county's people would, year after year."""

    def __init__(
        self,
        client: httpx.AsyncClient,
        key: LocalSigningKey,
        clock: FixedClock,
        tick: Callable[[], None],
    ) -> None:
        self.http, self.key, self.clock, self.tick = client, key, clock, tick
        self.rng = random.Random(2027)  # the same county every time

    def auth(self, role: str, org: str | None, subject: str | None = None) -> dict[str, str]:
        return bearer(self.key, role, org, subject)

    async def post(self, path: str, body: dict[str, Any] | None, who: dict[str, str]) -> Any:
        response = await self.http.post(path, json=body, headers=who)
        if response.status_code >= 400:
            raise RuntimeError(f"POST {path}: {response.status_code} {response.text}")
        self.tick()
        return response.json()

    async def directory(self, scale: Scale) -> list[dict[str, Any]]:
        admin = self.auth("county_admin", COUNTY[0])
        await self.post("/v1/counties", {"county_id": COUNTY[0], "name": COUNTY[1]}, admin)
        branches = []
        for t in range(scale.townships):
            town_name = (
                PLACES[t % len(PLACES)] + (str(t // len(PLACES)) if t >= len(PLACES) else "") + "镇"
            )
            township = (
                await self.post(f"/v1/counties/{COUNTY[0]}/townships", {"name": town_name}, admin)
            )["id"]
            office = self.auth("township_office", township)
            for b in range(scale.branches_per_township):
                kind = KINDS[b % len(KINDS)]
                name = f"{town_name[:-1]}{b + 1}{'村' if kind == 'village' else '单位'}党支部"
                branch = (
                    await self.post(
                        "/v1/branches",
                        {"township_id": township, "name": name, "kind": kind},
                        office,
                    )
                )["id"]
                members = [
                    (
                        await self.post(
                            "/v1/members",
                            {
                                "branch_id": branch,
                                "name": _name(self.rng),
                                "post": "党员责任岗",
                                "duties": "联系群众, 带头落实承诺",
                                "leadership_team": m < 2,
                            },
                            office,
                        )
                    )["id"]
                    for m in range(scale.members_per_branch)
                ]
                await self.post(
                    f"/v1/branches/{branch}/secretary", {"member_id": members[0]}, office
                )
                branches.append(
                    {"township": township, "branch": branch, "kind": kind, "members": members}
                )
        return branches

    async def year(self, year: int, branches: list[dict[str, Any]]) -> None:
        """Drafting by March, publication, progress through the year, items done by autumn."""
        self.clock.set(datetime(year, 1, 10, 1, tzinfo=UTC))
        published = []
        for b in branches:
            secretary = self.auth("branch_secretary", b["branch"], b["members"][0])
            pledgers = [(None, secretary)] + [
                (m, self.auth("member", b["branch"], m)) for m in b["members"]
            ]
            for member, who in pledgers:
                published.append(await self._pledge(year, b, member, who, secretary))
        self.clock.set(datetime(year, 6, 30, 1, tzinfo=UTC))
        for pledge_id, items, who, _ in published:
            await self.post(
                f"/v1/pledges/{pledge_id}/items/{items[0]}/progress",
                {"summary": "过半, 按计划推进", "percent": 60},
                who,
            )
        self.clock.set(datetime(year, 10, 15, 1, tzinfo=UTC))
        for pledge_id, items, who, office in published[::2]:
            for item in items:
                path = f"/v1/pledges/{pledge_id}/items/{item}"
                await self.post(f"{path}/done", {"summary": "已完成"}, who)
                await self.post(f"{path}/problem-solved", {"note": "问题已解决"}, office)
                await self.post(f"{path}/implementation-verified", {"note": "核查到位"}, office)

    async def _pledge(
        self,
        year: int,
        b: dict[str, Any],
        member: str | None,
        who: dict[str, str],
        secretary: dict[str, str],
    ) -> tuple[Any, ...]:
        pledge = (
            await self.post(
                "/v1/pledges", {"year": year, "branch_id": b["branch"], "member_id": member}, who
            )
        )["id"]
        chosen = self.rng.sample(ITEMS[b["kind"]], 1 if member else 2)
        items = (
            await self.post(
                f"/v1/pledges/{pledge}/proposal",
                {
                    "basis": "年度工作目标责任书",
                    "items": [
                        {
                            "title": t,
                            "description": f"{t}: 措施到人",
                            "category": c,
                            "target": target,
                            "due_date": str(date(year, 11, 30)),
                        }
                        for t, c, target in chosen
                    ],
                },
                who,
            )
        )["item_ids"]
        committee = self.auth("township_committee", b["township"])
        for item in items:
            await self.post(
                f"/v1/pledges/{pledge}/items/{item}/review",
                {**CRITERIA, "decision": "approve"},
                committee,
            )
        await self.post(f"/v1/pledges/{pledge}/publication", None, secretary)
        return pledge, items, who, self.auth("township_office", b["township"])


async def generate(
    scale: Scale,
    *,
    database_url: str,
    nats_url: str,
    key: LocalSigningKey,
    public_key_file: Path,
    progress: Callable[[], None],
) -> int:
    """The county and `scale.years` years of history, ending with the current year."""
    first = date.today().year - scale.years + 1
    clock = FixedClock(datetime(first, 1, 5, 1, tzinfo=UTC))
    settings = ServiceSettings(
        service="pledge",
        port=free_port(),
        database_url=database_url,
        nats_url=nats_url,
        jwt_public_key_file=public_key_file,
    )
    app = create_app(PLEDGE, settings, clock=clock)
    async with serving(app, settings.port) as client:
        history = History(client, key, clock, progress)
        if (await client.get(f"/v1/counties/{COUNTY[0]}")).status_code == 200:
            raise RuntimeError("the county already exists here: use a fresh --data-dir")
        branches = await history.directory(scale)
        for year in range(first, first + scale.years):
            await history.year(year, branches)
        events: int = await app.state.runtime.pool.fetchval("SELECT count(*) FROM events")
        return events


def commands_expected(scale: Scale) -> int:
    """About how many commands `generate` sends (for the progress bar)."""
    branches = scale.townships * scale.branches_per_township
    pledgers = branches * (scale.members_per_branch + 1)
    directory = 1 + scale.townships + branches * (scale.members_per_branch + 2)
    per_year = pledgers * 5 + branches + pledgers + (pledgers // 2) * 4
    return directory + scale.years * per_year
