"""The review service's part of a generated history (R1–R7). The township office assigns the
township's head to its last branch (R1: 创先办安排负责人: the office assigns members of the
township committee, as the identity service seats them; the history runs without the
identity service, so the head, whom the directory seats, is the member it can assign); once
a quarter the head reviews every branch, its leadership team and secretary at their
meetings, the secretary every other member at the members' meeting, and the head makes one
guidance visit per township; every month each member's journal entry is presented and
graded (the last member of a branch of more than two keeps it on paper, and the secretary
enters it on the member's behalf)."""

from __future__ import annotations

import random
from datetime import date
from typing import Any

from gongkai.develop.demo_review import COMMENTS, DIMENSIONS
from gongkai.develop.history_calls import Branch, Caller, Member, Township

GRADES = ("excellent", "qualified", "qualified", "qualified", "basically_qualified")


class ReviewHistory(Caller):
    assigned: set[str] | None = None  # the townships whose head the office has assigned

    async def _assign_head(self, township: Township) -> None:
        """R1: the office assigns the head to the last branch, once."""
        if self.assigned is None:
            self.assigned = set()
        if township.township_id not in self.assigned:
            await self.post(
                f"/v1/branches/{township.branches[-1].branch_id}/leaders",
                {"leader_id": township.head_id, "leader_name": township.head_name},
                self.auth("township_office", township.township_id),
            )
            self.assigned.add(township.township_id)

    async def quarter(self, day: date, county: list[Township], rng: random.Random) -> None:
        for township in county:
            committee = self.auth(
                "township_committee", township.township_id, township.head_id, township.head_name
            )
            await self._assign_head(township)
            for b in township.branches:
                await self._branch(day, b, committee, rng)
            visited = township.branches[rng.randrange(len(township.branches))]
            await self.post(
                "/v1/visits",
                {
                    "branch_id": visited.branch_id,
                    "cadre_name": township.head_name,
                    "visited_on": str(day),
                    "summary": f"到{visited.name}联系点指导承诺践诺工作",
                    "problems_found": "部分承诺事项进度滞后",
                    "guidance_given": "倒排工期, 每月公开进展",
                },
                committee,
            )

    async def _branch(
        self, day: date, b: Branch, committee: dict[str, str], rng: random.Random
    ) -> None:
        secretary = self.auth(
            "branch_secretary", b.branch_id, b.secretary.member_id, b.secretary.name
        )
        await self.post(
            "/v1/reviews",
            _review("branch", b.branch_id, "secretaries_meeting", day, rng),
            committee,
        )
        for m in b.members:
            by_township = m.leadership_team or m == b.secretary
            occasion = "organisation_life_meeting" if by_township else "members_meeting"
            await self.post(
                "/v1/reviews",
                _review("member", m.member_id, occasion, day, rng),
                committee if by_township else secretary,
            )

    async def journals(self, day: date, county: list[Township]) -> None:
        """R6: the secretary grades the members' presentations, the head the secretary's."""
        for township in county:
            committee = self.auth(
                "township_committee", township.township_id, township.head_id, township.head_name
            )
            for b in township.branches:
                secretary = self.auth(
                    "branch_secretary", b.branch_id, b.secretary.member_id, b.secretary.name
                )
                for m in b.members:
                    await self._journal(day, b, m, committee if m == b.secretary else secretary)

    async def _journal(self, day: date, b: Branch, m: Member, evaluator: dict[str, str]) -> None:
        path = f"/v1/members/{m.member_id}/journal/{day:%Y-%m}"
        me = self.auth("member", b.branch_id, m.member_id, m.name)
        if len(b.members) > 2 and m == b.members[-1]:  # kept on paper: the secretary enters it
            me = self.auth("branch_secretary", b.branch_id, b.secretary.member_id, b.secretary.name)
        entry = {
            "recorded_on": str(day),
            "work_content": f"{m.post}: 联系群众, 带头落实承诺",
            "duty_performance": "按岗位职责完成本月工作, 记录在册",
        }
        await self.post(f"{path}/entries", entry, me)
        presentation = {
            "presented_on": str(day),
            "grade": "qualified",
            "evaluation": "在组织生活会上汇报了本月记实, 内容具体",
        }
        await self.post(f"{path}/presentation", presentation, evaluator)


def _review(
    kind: str, subject_id: str, occasion: str, day: date, rng: random.Random
) -> dict[str, Any]:
    affirmed, shortcoming = COMMENTS[kind]
    return {
        "subject_kind": kind,
        "subject_id": subject_id,
        "occasion": occasion,
        "held_on": str(day),
        "achievements": affirmed,
        "shortcomings": shortcoming,
        "direction": "对照承诺逐项推进, 每季度向群众公开进展",
        "assessments": {
            d: {"grade": rng.choice(GRADES), "comment": affirmed} for d in DIMENSIONS[kind]
        },
    }
