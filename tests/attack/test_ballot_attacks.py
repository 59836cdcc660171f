"""Attacks on a mass evaluation round's ballots (E3, E3a): voting twice across channels,
voting outside the round's dates, replayed requests and forged rater ids. Each is refused
with a 4xx problem and appends nothing; the turnout shows only the ballots that counted."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from tests.e2e.bad_input import assert_refused
from tests.e2e.evaluation_helpers import directory_copied, pledge_and_evaluation, rater
from tests.e2e.helpers import Directory, event_count, ok
from tests.support import RunningService, Servers

Headers = dict[str, str]


@dataclass
class Round:
    evaluation: RunningService
    servers: Servers
    d: Directory
    id: str
    raters: list[str]  # the member, then four members of the public
    other_round: str  # the branch's round for its members, with a rater of its own
    other_rater: str

    def vote(self, grade: str = "satisfied") -> dict[str, Any]:
        return {"grades": {self.d.branch: grade}}

    def stack(self, *participants: str) -> dict[str, Any]:
        ballots = [{self.d.branch: "satisfied"} for _ in participants]
        return {"channel": "paper", "participants": list(participants), "ballots": ballots}

    def as_rater(self, rater_id: str, round_id: str | None = None) -> Headers:
        return rater(self.servers, round_id or self.id, rater_id)

    async def post(self, what: str, body: Any, headers: Headers, **kw: Any) -> Any:
        path = f"/v1/rounds/{kw.pop('round_id', self.id)}/{what}"
        return await self.evaluation.client.post(path, json=body, headers=headers)

    async def refused(
        self, case: str, what: str, body: Any, headers: Headers, status: int, field: str = ""
    ) -> httpx.Response:
        before = await event_count(self.evaluation)
        response = await self.post(what, body, headers)
        appended = await event_count(self.evaluation) - before
        if status == 422 and not field:  # not about one field: status, problem, nothing appended
            assert (response.status_code, appended) == (422, 0), f"{case}: {response.text}"
            assert response.headers["content-type"].startswith("application/problem+json")
        else:
            assert_refused(case, response, appended, [status], field or None)
        return response

    async def voted(self) -> int:
        turnout = ok(await self.evaluation.client.get(f"/v1/rounds/{self.id}/turnout"))
        return int(turnout["voted"])


@pytest.fixture(scope="module")
async def county(servers: Servers) -> AsyncIterator[tuple[RunningService, Directory]]:
    """One county for the module; each test opens rounds of its own in it."""
    async with pledge_and_evaluation(servers) as (pledge, evaluation, _):
        d = await Directory(pledge.client, servers).build()
        await directory_copied(evaluation, d)
        yield evaluation, d


@pytest.fixture
async def round_(servers: Servers, county: tuple[RunningService, Directory]) -> Round:
    evaluation, d = county
    e = evaluation.client

    async def opened(headers: Headers, **place: str) -> str:
        body = {"title": "上半年群众评议", "year": 2027, "half": 1, "opens_on": "2027-03-01"}
        return str(
            ok(await e.post("/v1/rounds", json={**body, **place}, headers=headers), 201)["id"]
        )

    async def registered(round_id: str, entries: list[Any], headers: Headers) -> list[str]:
        path = f"/v1/rounds/{round_id}/raters"
        return list(
            ok(await e.post(path, json={"raters": entries}, headers=headers), 201)["rater_ids"]
        )

    public = {"kind": "public", "organisation_id": "public"}
    round_id = await opened(d.office, township_id=d.township)
    member = {"kind": "township_member", "member_id": d.member}
    raters = await registered(round_id, [member] + [public] * 4, d.office)
    other = await opened(d.branch_secretary, branch_id=d.branch)  # the branch's, for members
    [other_rater] = await registered(other, [public], d.branch_secretary)
    return Round(evaluation, servers, d, round_id, raters, other, other_rater)


async def test_one_ballot_per_rater_across_channels(round_: Round) -> None:
    r, (member, web, paper, _, _) = round_, round_.raters
    ok(await r.post("ballots", r.vote(), r.as_rater(web)), 201)
    await r.refused("web, then on paper", "paper-ballots", r.stack(web), r.d.office, 409)
    ok(await r.post("paper-ballots", r.stack(paper), r.d.office), 201)
    await r.refused("on paper, then on the web", "ballots", r.vote(), r.as_rater(paper), 409)
    await r.refused("on paper twice", "paper-ballots", r.stack(paper), r.d.office, 409)
    ok(await r.post("ballots", r.vote("dissatisfied"), r.d.the_member), 201)
    await r.refused("a member, then on paper", "paper-ballots", r.stack(member), r.d.office, 409)
    assert await r.voted() == 3


async def test_a_replayed_ballot_counts_once(round_: Round) -> None:
    r, web = round_, round_.raters[1]
    headers = {**r.as_rater(web), "Idempotency-Key": "ballot-1"}
    first = ok(await r.post("ballots", r.vote(), headers), 201)
    before = await event_count(r.evaluation)
    assert ok(await r.post("ballots", r.vote(), headers), 201) == first  # the same answer
    assert await event_count(r.evaluation) == before
    await r.refused("the same key, another vote", "ballots", r.vote("dissatisfied"), headers, 422)
    await r.refused("the same body, no key", "ballots", r.vote(), r.as_rater(web), 409)
    assert await r.voted() == 1


async def test_forged_rater_ids_are_refused(round_: Round) -> None:
    r, web = round_, round_.raters[1]
    await r.refused("unregistered rater", "ballots", r.vote(), r.as_rater("rt-forged"), 403)
    await r.refused("another round's rater", "ballots", r.vote(), r.as_rater(r.other_rater), 403)
    elsewhere = r.as_rater(web, round_id=r.other_round)  # a real rater, a token for elsewhere
    await r.refused("this round's rater, other round's token", "ballots", r.vote(), elsewhere, 403)
    secretary_in_person = r.d.as_("member", r.d.branch, r.d.secretary)  # a member not registered
    await r.refused("member not registered", "ballots", r.vote(), secretary_in_person, 403)
    await r.refused("an officer", "ballots", r.vote(), r.d.office, 403)
    named = {**r.vote(), "rater_id": web}  # a ballot cannot name its rater
    before = await event_count(r.evaluation)
    response = await r.post("ballots", named, r.d.the_member)
    assert_refused(
        "rater id in the body",
        response,
        await event_count(r.evaluation) - before,
        [422],
        "rater_id",
    )
    for forged in ("rt-forged", r.other_rater):  # on a paper sign-in sheet
        sheet = r.stack(forged)
        await r.refused(
            f"sheet with {forged}", "paper-ballots", sheet, r.d.office, 422, "participants.0"
        )
    assert await r.voted() == 0


async def test_no_ballot_after_the_round_closes(round_: Round) -> None:
    r, (_, web, paper, _, _) = round_, round_.raters
    ok(await r.evaluation.client.post(f"/v1/rounds/{r.id}/closure", headers=r.d.office))
    await r.refused("web, after close", "ballots", r.vote(), r.as_rater(web), 409)
    await r.refused("paper, after close", "paper-ballots", r.stack(paper), r.d.office, 409)
    await r.refused("a member, after close", "ballots", r.vote(), r.d.the_member, 409)
