"""The people `gongkai bench console` signs in: chosen from the generated county by post
(every role the console has a menu for), given accounts as a county gives them (the directory's
people learned by the identity service from the pledge service's events; a county
administrator, an auditor and each township's office clerk registered and granted), activated
with a password on the identity service's own page, then signed in to the console through the
identity service's real sign-in: the password form, the one-time code (TOTP) where the post
requires it, and the choice of hat where the person holds several posts."""

from __future__ import annotations

import asyncio
import html
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import httpx
import pyotp

from gongkai.develop.demo import COUNTY

PASSWORD = "Gongkai-Bench-2027"  # noqa: S105 (the bench's own accounts, in a temporary county)
# how the 50 people are shared among the posts (the rest are members)
SHARES = {
    "county_admin": 0.04,
    "auditor": 0.04,
    "township_office": 0.1,
    "township_committee": 0.1,
    "branch_secretary": 0.24,
}
CSRF = re.compile(r'name="csrf" value="([^"]+)"')
REQUEST = re.compile(r'name="request_token" value="([^"]*)"')
SECRET = re.compile(r'<span class="code">([A-Z2-7]+)</span>')
HAT = re.compile(r'name="role" value="([^"]+)">\s*<input type="hidden" name="org" value="([^"]+)">')


@dataclass
class Person:
    person_id: str
    role: str
    org: str
    login: str = ""
    totp: str | None = None  # the one-time code's secret, once enrolled


def choose(posts: dict[str, list[tuple[str, str]]], count: int) -> list[Person]:
    """`count` people by post (SHARES; the rest members), each post's places in turn (every
    township, then again), one hat per person. `posts`: person -> their (role, org)."""
    by_role: dict[str, list[Person]] = {}
    for person, held in sorted(posts.items()):
        roles = {role for role, _ in held}
        for role, org in held:
            if role == "member" and len(roles) > 1:
                continue  # a secretary is measured as the secretary
            by_role.setdefault(role, []).append(Person(person, role, org))
    chosen: list[Person] = []
    for role, n in shares(count).items():
        chosen += _spread(by_role.get(role, []), n)
    return chosen


def shares(count: int) -> dict[str, int]:
    """How many of `count` people wear each post (at least one each; the rest members)."""
    wanted = {role: max(1, round(share * count)) for role, share in SHARES.items()}
    wanted["member"] = count - sum(wanted.values())
    return wanted


def _spread(people: Sequence[Person], n: int) -> list[Person]:
    """Up to `n` people, one from each place in turn."""
    places: dict[str, list[Person]] = {}
    for p in people:
        places.setdefault(p.org, []).append(p)
    picked: list[Person] = []
    while len(picked) < n and any(places.values()):
        for queue in places.values():
            if queue and len(picked) < n:
                picked.append(queue.pop(0))
    return picked


class Accounts:
    """The identity service as the county administrator uses it (a development-key token the
    identity JWKS publishes, as `gongkai token` makes)."""

    def __init__(self, identity: str, admin_token: str) -> None:
        self.http = httpx.AsyncClient(
            base_url=identity, timeout=60, headers={"Authorization": f"Bearer {admin_token}"}
        )

    async def call(self, method: str, path: str, body: Any = None) -> Any:
        answer = await self.http.request(method, path, json=body)
        if answer.status_code >= 400:
            raise RuntimeError(f"{method} {path}: {answer.status_code} {answer.text}")
        return answer.json()

    async def posts(
        self, expected: int, wait_seconds: float = 120
    ) -> dict[str, list[tuple[str, str]]]:
        """Every person of the county with their current posts, once the identity service
        has learned at least `expected` people from the directory's events."""
        deadline = time.monotonic() + wait_seconds
        while True:
            listed = await self.call("GET", f"/v1/people?county_id={COUNTY[0]}&limit=1000")
            if listed["total"] >= expected:
                break
            if time.monotonic() > deadline:
                raise RuntimeError(f"identity learned {listed['total']} of {expected} people")
            await asyncio.sleep(1)
        held = {}
        for person in listed["items"]:
            on = await self.call("GET", f"/v1/people/{person['person_id']}/posts")
            held[person["person_id"]] = [(p["role"], p["org"]) for p in on["posts"]]
        return held

    async def grant(self, role: str, org: str, n: int) -> str:
        """A person registered and granted a post (as the county administrator does)."""
        body = {"name": f"基准{role}{n}", "county_id": COUNTY[0]}
        person = str((await self.call("POST", "/v1/people", body))["id"])
        await self.call("POST", f"/v1/people/{person}/posts", {"role": role, "org": org})
        return person

    async def activate(self, person: Person) -> None:
        """The activation code issued; the person sets the password on the activation page
        (and enrols the one-time code where the post requires it)."""
        path = f"/v1/people/{person.person_id}/activation"
        issued = await self.call("POST", path, {"login_name": person.login})
        async with httpx.AsyncClient(base_url=str(self.http.base_url), timeout=60) as browser:
            page = await browser.get("/activate")
            form = {
                "csrf": _one(CSRF, page.text),
                "login_name": person.login,
                "code": issued["activation_code"],
                "password": PASSWORD,
                "password2": PASSWORD,
            }
            answer = await browser.post("/activate", data=form)
            if 'name="code"' in answer.text:  # this post enrols a one-time code
                person.totp = _one(SECRET, answer.text)
                answer = await _code(browser, answer, person, "/signin/code")
            if answer.status_code != 200:
                raise RuntimeError(f"activating {person.login}: {answer.status_code}")

    async def close(self) -> None:
        await self.http.aclose()


def _one(pattern: re.Pattern[str], text: str) -> str:
    found = pattern.search(text)
    if found is None:
        raise RuntimeError(f"expected {pattern.pattern} on the page: {text[:300]}")
    return html.unescape(found.group(1))


async def _code(
    browser: httpx.AsyncClient, page: httpx.Response, person: Person, action: str
) -> httpx.Response:
    assert person.totp is not None
    form = {
        "csrf": _one(CSRF, page.text),
        "code": pyotp.TOTP(person.totp).now(),
        "request_token": _one(REQUEST, page.text),
    }
    return await browser.post(str(page.url.join(action)), data=form)


async def sign_in(console: str, person: Person, limits: httpx.Limits) -> httpx.AsyncClient:
    """A browser signed in to the console as the person wears their post: the console sends
    it to the identity service, the person types the password (and the one-time code), picks
    the hat, and comes back with the console's session cookie. The caller closes it."""
    browser = httpx.AsyncClient(follow_redirects=True, timeout=60, limits=limits)
    try:
        page = await browser.get(f"{console}/signin")
        form = {
            "csrf": _one(CSRF, page.text),
            "request_token": _one(REQUEST, page.text),
            "login_name": person.login,
            "password": PASSWORD,
        }
        page = await browser.post(str(page.url.join("/signin")), data=form)
        if 'action="/signin/code"' in page.text:
            page = await _code(browser, page, person, "/signin/code")
        if 'action="/authorize/hat"' in page.text:
            hats = [(html.unescape(r), html.unescape(o)) for r, o in HAT.findall(page.text)]
            if (person.role, person.org) not in hats:
                raise RuntimeError(f"{person.login} is offered {hats}, not {person.role}")
            form = {
                "csrf": _one(CSRF, page.text),
                "request_token": _one(REQUEST, page.text),
                "role": person.role,
                "org": person.org,
            }
            page = await browser.post(str(page.url.join("/authorize/hat")), data=form)
        if page.status_code != 200 or not str(page.url).startswith(console):
            raise RuntimeError(f"{person.login} not signed in: {page.status_code} {page.url}")
        return browser
    except BaseException:
        await browser.aclose()
        raise
