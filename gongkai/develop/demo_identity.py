"""Accounts for the demo county's people (gongkai/develop/demo.py), through the identity
service's own HTTP API and sign-in pages: one person of each post, activated with a demo
password, so `gongkai up` can print how each signs in.

The directory's people (the head, a secretary, a member) come from the pledge service's
events, which the identity service turns into posts; the others (a county administrator,
an auditor, a township office clerk) are registered and granted here by the county
administrator, as a county would.
"""

from __future__ import annotations

import re
import time
from typing import Any

import httpx

from gongkai.develop.demo import COUNTY, bearer
from shared.auth import LocalSigningKey

PASSWORD = "Gongkai-2027"  # noqa: S105 (the demo's, printed by `gongkai up`)
# (post, name, login name); the directory's people by their names in demo.py
DIRECTORY_PEOPLE = (
    ("township_committee", "红沙梁镇党委书记", "13800000004"),
    ("branch_secretary", "张建国", "13800000005"),
    ("member", "李秀英", "13800000006"),
)
GRANTED_PEOPLE = (
    ("county_admin", "演示县管理员", "13800000001"),
    ("auditor", "演示审计员", "13800000002"),
    ("township_office", "红沙梁镇办公室文员", "13800000003"),
)
WAIT_SECONDS = 60.0


def rows() -> list[tuple[str, str, str, str]]:
    return [
        (post, name, login, PASSWORD) for post, name, login in GRANTED_PEOPLE + DIRECTORY_PEOPLE
    ]


class IdentityDemo:
    def __init__(self, identity_url: str, key: LocalSigningKey) -> None:
        self.http = httpx.Client(base_url=identity_url, timeout=30)
        self.admin = bearer(key, "county_admin", COUNTY[0], "demo-admin", "县创先争优办公室")

    def call(self, method: str, path: str, body: Any = None) -> Any:
        response = self.http.request(method, path, json=body, headers=self.admin)
        if response.status_code >= 400:
            raise RuntimeError(f"{method} {path}: {response.status_code} {response.text}")
        return response.json()

    def people(self) -> dict[str, str]:
        listed = self.call("GET", f"/v1/people?county_id={COUNTY[0]}&limit=1000")
        return {p["name"]: p["person_id"] for p in listed["items"]}

    def learned(self) -> dict[str, str]:
        """The people by name, once the identity service has the directory's ones."""
        deadline = time.monotonic() + WAIT_SECONDS
        while True:
            people = self.people()
            if all(name in people for _, name, _ in DIRECTORY_PEOPLE):
                secretary = self.call("GET", f"/v1/people/{people['张建国']}/posts")
                if len(secretary["posts"]) == 2:
                    return people
            if time.monotonic() > deadline:
                raise RuntimeError("the identity service has not learned the directory")
            time.sleep(0.5)

    def activate(self, person_id: str, login: str) -> None:
        issued = self.call("POST", f"/v1/people/{person_id}/activation", {"login_name": login})
        page = self.http.get("/activate")
        csrf = re.search(r'name="csrf" value="([^"]+)"', page.text)
        assert csrf, "the activation page has no CSRF token"
        form = {
            "csrf": csrf.group(1),
            "login_name": login,
            "code": issued["activation_code"],
            "password": PASSWORD,
            "password2": PASSWORD,
        }
        answer = self.http.post("/activate", data=form)
        if answer.status_code != 200:
            raise RuntimeError(f"activating {login}: {answer.status_code}")

    def load(self) -> list[tuple[str, str, str, str]]:
        people = self.learned()
        if GRANTED_PEOPLE[0][1] in people:
            return rows()  # loaded on an earlier start (kept in the data directory)
        head = people["红沙梁镇党委书记"]
        township = self.call("GET", f"/v1/people/{head}/posts")["posts"][0]["org"]
        for post, name, login in GRANTED_PEOPLE:
            person = self.call("POST", "/v1/people", {"name": name, "county_id": COUNTY[0]})["id"]
            org = township if post == "township_office" else COUNTY[0]
            self.call("POST", f"/v1/people/{person}/posts", {"role": post, "org": org})
            self.activate(person, login)
        for _, name, login in DIRECTORY_PEOPLE:
            self.activate(people[name], login)
        return rows()


def demo_sign_ins(identity_url: str, key: LocalSigningKey) -> list[tuple[str, str, str, str]]:
    """Every demo person of each post signs in with (login name, PASSWORD)."""
    return IdentityDemo(identity_url, key).load()
