"""The pledge service's part of a generated history: the county's directory once, then each
year the pledges drafted, reviewed and published in January, progress by midsummer, and half
of them done, solved and verified by autumn (P1–P10)."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date
from typing import Any

from gongkai.develop.demo import COUNTY, CRITERIA, ITEMS
from gongkai.develop.history_calls import Branch, Caller, Member, Township

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
POSTS = ("节水灌溉示范岗", "治沙造林责任岗", "党员服务岗", "水权管理岗", "养殖技术岗")


@dataclass(frozen=True)
class Published:
    township_id: str
    pledge_id: str
    item_ids: list[str]
    pledger: dict[str, str]
    office: dict[str, str]


def person_name(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + "".join(rng.sample(GIVEN, 2))


class PledgeHistory(Caller):
    async def directory(
        self, townships: int, branches: int, members: int, rng: random.Random
    ) -> list[Township]:
        admin = self.auth("county_admin", COUNTY[0])
        await self.post("/v1/counties", {"county_id": COUNTY[0], "name": COUNTY[1]}, admin)
        county = []
        for t in range(townships):
            name = PLACES[t % len(PLACES)] + (str(t // len(PLACES)) if t >= len(PLACES) else "")
            path = f"/v1/counties/{COUNTY[0]}/townships"
            township_id = (await self.post(path, {"name": f"{name}镇"}, admin))["id"]
            township = Township(township_id, f"{name}镇", f"head-{township_id}", person_name(rng))
            await self.post(
                f"/v1/townships/{township_id}/head",
                {"person_id": township.head_id, "name": township.head_name},
                admin,
            )
            for b in range(branches):
                township.branches.append(await self._branch(township, name, b, members, rng))
            county.append(township)
        return county

    async def _branch(
        self, township: Township, place: str, index: int, members: int, rng: random.Random
    ) -> Branch:
        office = self.auth("township_office", township.township_id)
        kind = KINDS[index % len(KINDS)]
        name = f"{place}{index + 1}{'村' if kind == 'village' else '单位'}党支部"
        body = {"township_id": township.township_id, "name": name, "kind": kind}
        branch_id = (await self.post("/v1/branches", body, office))["id"]
        branch = Branch(township.township_id, branch_id, name, kind, [])
        for m in range(members):
            person = person_name(rng)
            post = "支部书记" if m == 0 else POSTS[m % len(POSTS)]
            member: dict[str, Any] = {
                "branch_id": branch.branch_id,
                "name": person,
                "post": post,
                "duties": "联系群众, 带头落实承诺",
                "leadership_team": m < 2,
            }
            member_id = (await self.post("/v1/members", member, office))["id"]
            branch.members.append(Member(member_id, person, post, m < 2))
        path = f"/v1/branches/{branch.branch_id}/secretary"
        await self.post(path, {"member_id": branch.secretary.member_id}, office)
        return branch

    async def pledges(
        self, year: int, county: list[Township], rng: random.Random
    ) -> list[Published]:
        """Every branch and member pledges for the year, approved item by item, published."""
        published = []
        for township in county:
            for b in township.branches:
                secretary = self.auth("branch_secretary", b.branch_id, b.secretary.member_id)
                pledgers: list[tuple[str | None, dict[str, str]]] = [(None, secretary)]
                pledgers += [
                    (m.member_id, self.auth("member", b.branch_id, m.member_id)) for m in b.members
                ]
                for member_id, who in pledgers:
                    # the last member of a branch of more than two writes on paper: the
                    # secretary enters the pledge on the member's behalf
                    paper = len(b.members) > 2 and member_id == b.members[-1].member_id
                    writer = secretary if paper else who
                    published.append(
                        await self._pledge(year, b, member_id, who, secretary, rng, writer)
                    )
        return published

    async def _pledge(
        self,
        year: int,
        b: Branch,
        member_id: str | None,
        who: dict[str, str],
        secretary: dict[str, str],
        rng: random.Random,
        writer: dict[str, str] | None = None,
    ) -> Published:
        """`writer` drafts and proposes it (the secretary for a member's paper pledge); `who`
        reports on it afterwards."""
        writer = writer or who
        body = {"year": year, "branch_id": b.branch_id, "member_id": member_id}
        pledge = (await self.post("/v1/pledges", body, writer))["id"]
        chosen = rng.sample(ITEMS[b.kind], 1 if member_id else 2)
        proposal: dict[str, Any] = {
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
        }
        items = (await self.post(f"/v1/pledges/{pledge}/proposal", proposal, writer))["item_ids"]
        committee = self.auth("township_committee", b.township_id)
        for item in items:
            review = {**CRITERIA, "decision": "approve"}
            await self.post(f"/v1/pledges/{pledge}/items/{item}/review", review, committee)
        await self.post(f"/v1/pledges/{pledge}/publication", None, secretary)
        office = self.auth("township_office", b.township_id)
        return Published(b.township_id, pledge, items, who, office)

    async def progress(self, published: list[Published]) -> None:
        for p in published:
            await self.post(
                f"/v1/pledges/{p.pledge_id}/items/{p.item_ids[0]}/progress",
                {"summary": "过半, 按计划推进", "percent": 60},
                p.pledger,
            )

    async def fulfilment(self, published: list[Published]) -> dict[str, list[str]]:
        """Half the pledges done by autumn: reported, the problem solved, verified (P10); the
        items done, per township."""
        done: dict[str, list[str]] = {}
        for p in published[::2]:
            for item in p.item_ids:
                path = f"/v1/pledges/{p.pledge_id}/items/{item}"
                await self.post(f"{path}/done", {"summary": "已完成"}, p.pledger)
                await self.post(f"{path}/problem-solved", {"note": "问题已解决"}, p.office)
                await self.post(f"{path}/implementation-verified", {"note": "核查到位"}, p.office)
                done.setdefault(p.township_id, []).append(item)
        return done
