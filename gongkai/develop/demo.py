"""A small, realistic demo county, loaded through the services' own HTTP APIs: each township's
office imports its roster from the pledge service's template (issue 19: filled, uploaded,
previewed, confirmed), then the branches' secretaries and members make their pledges."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta
from typing import Any

import httpx

from shared.auth import LocalSigningKey
from shared.workbook import XLSX_TYPE, prefilled

COUNTY = ("minqin", "民勤县")

# township -> branches: (name, kind, village, [(member, post, duties), ...]); first is secretary,
# the first two on the leadership team
Branch = tuple[str, str, str | None, list[tuple[str, str, str]]]
DEMO: dict[str, list[Branch]] = {
    "红沙梁镇": [
        (
            "红沙梁村党支部",
            "village",
            "红沙梁村",
            [
                ("张建国", "支部书记", "主持支部全面工作, 抓节水灌溉和产业发展"),
                ("李秀英", "节水灌溉示范岗", "推广滴灌技术, 带动十户节水增收"),
                ("王德明", "治沙造林责任岗", "组织群众压沙造林, 管护林地"),
                ("赵丽华", "党员服务岗", "为留守老人代办事项"),
            ],
        ),
        (
            "孙指挥村党支部",
            "village",
            "孙指挥村",
            [
                ("孙永福", "支部书记", "主持支部全面工作"),
                ("刘桂芳", "养殖技术岗", "指导圈舍改造与科学养殖"),
                ("陈志强", "水权管理岗", "配水到户, 公开水账"),
            ],
        ),
        (
            "红沙梁镇机关党支部",
            "agency",
            None,
            [
                ("周海燕", "支部书记", "主持机关党建, 推动便民服务"),
                ("吴国平", "便民服务窗口", "一站式代办, 限时办结"),
            ],
        ),
    ],
    "苏武镇": [
        (
            "羊路村党支部",
            "village",
            "羊路村",
            [
                ("马文军", "支部书记", "主持支部全面工作, 抓流域治理"),
                ("杨春梅", "四笔账宣讲岗", "给群众算清节水、增收、生态、民生四笔账"),
                ("郭建华", "设施农业示范岗", "带头发展日光温室"),
            ],
        ),
        (
            "苏武镇中心小学党支部",
            "school",
            None,
            [
                ("何淑贞", "支部书记", "主持学校党建与教学管理"),
                ("徐立新", "班主任岗", "家访全覆盖, 关爱留守儿童"),
            ],
        ),
    ],
    "大滩镇": [
        (
            "北沙村党支部",
            "village",
            "北沙村",
            [
                ("韩振山", "支部书记", "主持支部全面工作"),
                ("冯玉兰", "治沙造林责任岗", "组织压沙造林200亩"),
            ],
        ),
    ],
}

ITEMS: dict[str, list[tuple[str, str, str]]] = {  # kind -> (title, category, target)
    "village": [
        ("完成支渠防渗改造3公里", "流域重点治理", "年底前完工, 节水15%"),
        ("压沙造林500亩", "治沙造林", "成活率85%以上"),
        ("发展高效节水滴灌800亩", "节水增收先锋", "亩均节水120方"),
        ("规范水权交易, 水账月月公开", "水权管理", "公开12次"),
        ("改造标准化羊舍20座", "现代畜牧业养殖", "户均增收3000元"),
    ],
    "agency": [
        ("便民事项一窗受理、限时办结", "提高服务质量", "办结率100%"),
        ("精简会议文件三成", "提升机关效能", "会议文件减少30%"),
    ],
    "school": [
        ("党员教师家访全覆盖", "岗位先锋", "家访率100%"),
        ("开设课后托管服务", "窗口形象", "覆盖全部留守儿童"),
    ],
}


# a workbook's rows to fill in: sheet name -> its rows, as the template's columns
Rows = dict[str, Sequence[Sequence[Any]]]
# a branch's kind as the roster template's drop-down names it
KIND_LABELS = {"village": "村党支部", "agency": "机关党支部", "school": "学校党支部"}


def roster_rows(branches: list[Branch]) -> Rows:
    """A township's DEMO branches as its office fills the roster template: a row per branch
    (its first member the secretary), a row per member (the first two on the leadership
    team)."""
    return {
        "支部": [
            ("", "", name, KIND_LABELS[kind], village or "", members[0][0])
            for name, kind, village, members in branches
        ],
        "党员": [
            ("", member, name, post, duties, "是" if i < 2 else "否")
            for name, _, _, members in branches
            for i, (member, post, duties) in enumerate(members)
        ],
    }


def demo_branch(township: str, index: int) -> str | None:
    """The name of a demo township's branch by its place in DEMO (the first: the one whose
    secretary and member sign in), None where it has fewer; the services list them in their
    own order."""
    branches = DEMO.get(township, [])
    return branches[index][0] if index < len(branches) else None


CRITERIA = {"shows_advanced_standard": True, "matches_wishes": True, "feasible": True}


def bearer(
    key: LocalSigningKey,
    role: str,
    org: str | None,
    subject: str | None = None,
    name: str | None = None,
) -> dict[str, str]:
    """The header of a local token, as the demo's people sign in."""
    token = key.issue(
        issuer="gongkai-local",
        audience="gongkai",
        subject=subject or f"{role}:{org}",
        role=role,
        org=org,
        name=name,
    )
    return {"Authorization": f"Bearer {token}"}


class DemoApi:
    """One service's HTTP API as the demo loaders drive it: a failed command stops the load."""

    def __init__(self, base_url: str, key: LocalSigningKey) -> None:
        self.http = httpx.Client(base_url=base_url, timeout=30)
        self.key = key

    def auth(
        self, role: str, org: str | None, subject: str | None = None, name: str | None = None
    ) -> dict[str, str]:
        return bearer(self.key, role, org, subject, name)

    def get(self, path: str) -> httpx.Response:
        return self.http.get(path)

    def post(self, path: str, body: dict[str, Any] | None, headers: dict[str, str]) -> Any:
        response = self.http.post(path, json=body, headers=headers)
        if response.status_code >= 400:
            raise RuntimeError(f"POST {path}: {response.status_code} {response.text}")
        return response.json()

    def imported(
        self,
        base: str,
        rows: Rows,
        file_name: str,
        headers: dict[str, str],
    ) -> dict[str, Any]:
        """An import as an office makes it (issue 19): the template at `base`/template.xlsx
        filled with `rows` (sheet -> rows), uploaded to `base`/imports, its preview read (a
        bad row stops the load), confirmed; the committed import."""
        template = self.http.get(f"{base}/template.xlsx", headers=headers)
        if template.status_code >= 400:
            raise RuntimeError(f"GET {base}/template.xlsx: {template.status_code}")
        response = self.http.post(
            f"{base}/imports",
            params={"file_name": file_name},
            content=prefilled(template.content, rows),
            headers={**headers, "Content-Type": XLSX_TYPE},
        )
        if response.status_code >= 400:
            raise RuntimeError(f"POST {base}/imports: {response.status_code} {response.text}")
        preview = response.json()
        if preview["state"] != "ready":
            raise RuntimeError(f"{file_name}: {preview['state']} {preview['errors']}")
        done: dict[str, Any] = self.post(
            f"/v1/imports/{preview['import_id']}/confirm", None, headers
        )
        if done["state"] != "committed":
            raise RuntimeError(f"{file_name}: {done['state']}")
        return done

    def upload(self, name: str, data: bytes, headers: dict[str, str]) -> str:
        """An evidence file (shared/files.py): its hash, to attach in a command."""
        response = self.http.post("/v1/files", files={"file": (name, data)}, headers=headers)
        if response.status_code >= 400:
            raise RuntimeError(f"POST /v1/files: {response.status_code} {response.text}")
        sha256: str = response.json()["sha256"]
        return sha256


def demo_photo(seed: int) -> bytes:
    """A progress photo for the demo: fields under a sky, drawn (no photo ships with us)."""
    import io

    from PIL import Image, ImageDraw

    image = Image.new("RGB", (640, 480), (135, 190, 235))
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, 260, 640, 480), fill=(96, 150, 60))
    for row in range(6):
        y = 280 + row * 34
        draw.line((0, y, 640, y + (seed % 5) * 6), fill=(70, 120, 45), width=6)
    draw.ellipse((500, 40, 580, 120), fill=(250, 210, 80))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=85)
    return out.getvalue()


class DemoLoader(DemoApi):
    def __init__(self, base_url: str, key: LocalSigningKey, today: date) -> None:
        super().__init__(base_url, key)
        self.today = today
        self.year = today.year
        self.due = str(min(today + timedelta(days=60), date(self.year + 1, 12, 31)))

    def loaded(self) -> bool:
        return self.http.get(f"/v1/counties/{COUNTY[0]}").status_code == 200

    def load(self) -> dict[str, int]:
        county_id, county_name = COUNTY
        admin = self.auth("county_admin", county_id)
        self.post("/v1/counties", {"county_id": county_id, "name": county_name}, admin)
        counts = {"townships": 0, "branches": 0, "members": 0, "pledges": 0}
        for township_name, branches in DEMO.items():
            township = self.post(
                f"/v1/counties/{county_id}/townships", {"name": township_name}, admin
            )["id"]
            self.post(
                f"/v1/townships/{township}/head",
                {"person_id": f"head-{township}", "name": f"{township_name}党委书记"},
                admin,
            )
            counts["townships"] += 1
            office = self.auth("township_office", township)
            self.imported(
                f"/v1/townships/{township}/roster",
                roster_rows(branches),
                f"{township_name}党员名册.xlsx",
                office,
            )
            listed = self.http.get(f"/v1/townships/{township}").raise_for_status().json()
            ids = {b["name"]: b["branch_id"] for b in listed["branches"]}
            for index, (name, kind, _, members) in enumerate(branches):
                names = [m for m, _, _ in members]
                counts["members"] += self._branch(township, ids[name], kind, names, index < 2)
                counts["branches"] += 1
        counts["pledges"] = counts["branches"] + counts["members"]
        return counts

    def _branch(
        self, township: str, branch: str, kind: str, names: list[str], publish: bool
    ) -> int:
        """A branch the roster import registered: its secretary's and members' pledges
        (the members in DEMO's order, the first the secretary)."""
        found = self.http.get(f"/v1/branches/{branch}").raise_for_status().json()
        by_name = {m["name"]: m["member_id"] for m in found["members"]}
        member_ids = [by_name[name] for name in names]
        if found["secretary_id"] != member_ids[0]:
            raise RuntimeError(f"{found['name']}: the roster named another secretary")
        secretary = self.auth("branch_secretary", branch, member_ids[0])
        self._pledge(township, branch, None, secretary, ITEMS[kind][:2], publish, secretary)
        for i, member in enumerate(member_ids):
            item = ITEMS[kind][(i + 2) % len(ITEMS[kind])]
            pledger = self.auth("member", branch, member)
            self._pledge(township, branch, member, pledger, [item], publish, secretary)
        return len(member_ids)

    def _pledge(
        self,
        township: str,
        branch: str,
        member: str | None,
        pledger: dict[str, str],
        items: list[tuple[str, str, str]],
        publish: bool,
        secretary: dict[str, str],
    ) -> None:
        pledge = self.post(
            "/v1/pledges", {"year": self.year, "branch_id": branch, "member_id": member}, pledger
        )["id"]
        opinion = self.post(
            f"/v1/pledges/{pledge}/opinions",
            {
                "channel": "symposium",
                "gathered_on": str(self.today),
                "summary": "座谈会上群众提出节水、治沙和增收方面的意见",
            },
            pledger,
        )["opinion_id"]
        item_ids = self.post(
            f"/v1/pledges/{pledge}/proposal",
            {
                "basis": "《开展创先争优活动实施方案》及年度工作目标责任书",
                "items": [
                    {
                        "title": t,
                        "description": f"{t}: 明确措施, 责任到人",
                        "category": c,
                        "target": target,
                        "due_date": self.due,
                        "shaped_by": [opinion],
                    }
                    for t, c, target in items
                ],
            },
            pledger,
        )["item_ids"]
        if not publish:
            return  # left under review by the township committee
        committee = self.auth("township_committee", township)
        for item_id in item_ids:
            self.post(
                f"/v1/pledges/{pledge}/items/{item_id}/review",
                {**CRITERIA, "decision": "approve"},
                committee,
            )
        self.post(f"/v1/pledges/{pledge}/publication", None, secretary)
        photo = self.upload("现场照片.jpg", demo_photo(len(pledge)), pledger)
        self.post(
            f"/v1/pledges/{pledge}/items/{item_ids[0]}/progress",
            {
                "summary": "已按计划推进, 完成约三成",
                "percent": 30,
                "files": [{"sha256": photo, "name": "现场照片.jpg"}],
            },
            pledger,
        )
