"""A quarter of leadership reviews, work journals and guidance visits for the demo county
(gongkai/develop/demo.py), loaded through the review service's own HTTP API.

The county is read through the pledge service's API (to learn its ids); the reviews go to
the review service only once its own copy of the directory, built from the pledge
service's events (D2), has every branch, member and secretary, since it decides R1
authority from that copy. One member per township (of its first branch, where it has one)
is left unreviewed and his month's journal not yet presented, and the third branch of a
township unreviewed, so the coverage report (R5) and the reminders of the secretary and the
head have something to show.
"""

from __future__ import annotations

import time
from datetime import date
from typing import Any

import httpx

from gongkai.develop.demo import COUNTY, DemoApi, demo_branch
from shared.auth import LocalSigningKey

DIMENSIONS = {
    "branch": (
        "key_work",
        "leadership_team_building",
        "grassroots_organisation_building",
        "party_conduct",
        "solving_public_problems",
        "pledge_fulfilment",
    ),
    "member": ("work_approach", "execution", "efficiency_and_results", "pledge_fulfilment"),
}
COMMENTS = {
    "branch": ("节水改造和压沙造林按计划推进, 支部战斗堡垒作用明显", "群众参与面还不够广"),
    "member": ("岗位职责履行到位, 带动群众有成效", "学习记录不够扎实"),
}


class ReviewDemo:
    def __init__(self, pledge_url: str, review_url: str, key: LocalSigningKey, today: date) -> None:
        self.pledge = httpx.Client(base_url=pledge_url, timeout=30)
        self.review = DemoApi(review_url, key)
        self.today = today
        self.counts = {
            "reviews": 0,
            "corrections": 0,
            "journal_entries": 0,
            "presentations": 0,
            "visits": 0,
        }

    def auth(self, role: str, org: str | None, subject: str, name: str) -> dict[str, str]:
        return self.review.auth(role, org, subject, name)

    def post(self, path: str, body: dict[str, Any], headers: dict[str, str]) -> Any:
        return self.review.post(path, body, headers)

    def county(self) -> list[tuple[dict[str, Any], list[dict[str, Any]]]]:
        """Every township with its active branches (members included), from the pledge API."""
        county = self.pledge.get(f"/v1/counties/{COUNTY[0]}").raise_for_status().json()
        result = []
        for summary in county["townships"]:
            township = (
                self.pledge.get(f"/v1/townships/{summary['township_id']}").raise_for_status().json()
            )
            branches = [
                self.pledge.get(f"/v1/branches/{b['branch_id']}").raise_for_status().json()
                for b in township["branches"]
                if b["active"]
            ]
            result.append((township, branches))
        return result

    def wait_for_copy(self, branches: list[dict[str, Any]], timeout: float = 60) -> None:
        """Until the review service's copy shows every branch's secretary and members."""
        deadline = time.monotonic() + timeout
        for branch in branches:
            expected = sorted(m["member_id"] for m in branch["members"])
            while True:
                response = self.review.get(f"/v1/directory/branches/{branch['branch_id']}")
                if response.status_code == 200:
                    copy = response.json()
                    members = sorted(m["member_id"] for m in copy["members"])
                    if copy["secretary_id"] == branch["secretary_id"] and members == expected:
                        break
                if time.monotonic() > deadline:
                    raise RuntimeError(f"the review service has not copied {branch['name']}")
                time.sleep(0.2)

    def review_of(self, kind: str, subject_id: str, occasion: str, index: int) -> dict[str, Any]:
        affirmed, shortcoming = COMMENTS[kind]
        grades = ("excellent", "qualified")
        return {
            "subject_kind": kind,
            "subject_id": subject_id,
            "occasion": occasion,
            "held_on": str(self.today),
            "achievements": affirmed,
            "shortcomings": shortcoming,
            "direction": "对照承诺逐项推进, 每季度向群众公开进展",
            "assessments": {
                d: {"grade": grades[(index + i) % 2], "comment": affirmed}
                for i, d in enumerate(DIMENSIONS[kind])
            },
        }

    def load(self) -> dict[str, int]:
        county = self.county()
        for _, branches in county:
            self.wait_for_copy(branches)
        for township, branches in county:
            self._township(township, branches)
        return self.counts

    def _township(self, township: dict[str, Any], branches: list[dict[str, Any]]) -> None:
        head_name = township["head_name"] or "党委书记"
        committee = self.auth(
            "township_committee",
            township["township_id"],
            f"head-{township['township_id']}",
            head_name,
        )
        ordinary = [
            m["member_id"]
            for b in branches
            for m in b["members"]
            if m["active"] and not m["leadership_team"] and m["member_id"] != b["secretary_id"]
        ]
        # for the coverage report (R5) and the reminders: one ordinary member, of the first
        # branch where it has one, for its secretary to review; the third branch for the head
        named = demo_branch(township["name"], 0)
        in_first = {m["member_id"] for b in branches if b["name"] == named for m in b["members"]}
        ordinary.sort(key=lambda member_id: member_id not in in_first)  # stable
        left_out = ordinary[0] if ordinary else None
        for branch in branches:
            self._branch(
                branch,
                committee,
                left_out,
                reviewed=branch["name"] != demo_branch(township["name"], 2),
            )
        first = branches[0]
        self.post(
            "/v1/visits",
            {
                "branch_id": first["branch_id"],
                "cadre_name": head_name,
                "visited_on": str(self.today),
                "summary": f"到{first['name']}联系点指导承诺践诺和节水工作",
                "problems_found": "部分承诺事项进度滞后",
                "guidance_given": "倒排工期, 每月公开进展",
            },
            committee,
        )
        self.counts["visits"] += 1

    def _branch(
        self,
        branch: dict[str, Any],
        committee: dict[str, str],
        left_out: str | None,
        reviewed: bool = True,
    ) -> None:
        secretary_id = branch["secretary_id"]
        names = {m["member_id"]: m["name"] for m in branch["members"]}
        secretary = self.auth(
            "branch_secretary", branch["branch_id"], secretary_id, names[secretary_id]
        )
        created = None
        if reviewed:
            created = self.post(
                "/v1/reviews",
                self.review_of("branch", branch["branch_id"], "secretaries_meeting", 0),
                committee,
            )
            self.counts["reviews"] += 1
        members = [m for m in branch["members"] if m["active"]]
        for index, member in enumerate(members):
            self._journal(
                member,
                secretary if member["member_id"] != secretary_id else committee,
                presented=member["member_id"] != left_out,  # the month's meeting still to hold
            )
            if member["member_id"] == left_out:
                continue
            by_township = member["leadership_team"] or member["member_id"] == secretary_id
            self.post(
                "/v1/reviews",
                self.review_of(
                    "member",
                    member["member_id"],
                    "organisation_life_meeting" if by_township else "members_meeting",
                    index,
                ),
                committee if by_township else secretary,
            )
            self.counts["reviews"] += 1
        if created and self.counts["corrections"] == 0:  # one correction, to see both
            correction = self.review_of("branch", branch["branch_id"], "secretaries_meeting", 1)
            del correction["subject_kind"], correction["subject_id"]
            correction["reason"] = "补充完善点评意见"
            self.post(f"/v1/reviews/{created['id']}/correction", correction, committee)
            self.counts["corrections"] += 1

    def _journal(
        self, member: dict[str, Any], evaluator: dict[str, str], presented: bool = True
    ) -> None:
        month = f"{self.today.year:04d}-{self.today.month:02d}"
        path = f"/v1/members/{member['member_id']}/journal/{month}"
        me = self.auth("member", member["branch_id"], member["member_id"], member["name"])
        self.post(
            f"{path}/entries",
            {
                "recorded_on": str(self.today),
                "work_content": f"{member['post']}: {member['duties']}",
                "duty_performance": "按岗位职责完成本月工作, 记录在册",
            },
            me,
        )
        self.counts["journal_entries"] += 1
        if not presented:
            return
        self.post(
            f"{path}/presentation",
            {
                "presented_on": str(self.today),
                "grade": "qualified",
                "evaluation": "在组织生活会上汇报了本月记实, 内容具体",
            },
            evaluator,
        )
        self.counts["presentations"] += 1


def review_demo_loaded(review_url: str) -> bool:
    response = httpx.get(f"{review_url}/v1/reviews", params={"limit": 1}, timeout=30)
    return response.status_code == 200 and response.json()["total"] > 0


def load_review_demo(
    pledge_url: str, review_url: str, key: LocalSigningKey, today: date
) -> dict[str, int]:
    """Give the demo county a quarter of reviews, journals and visits; the counts loaded."""
    return ReviewDemo(pledge_url, review_url, key, today).load()
