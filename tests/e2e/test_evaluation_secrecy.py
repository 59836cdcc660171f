"""E3 against the running service: the organiser sees who has voted while a round is open
(E3a), so no one may see the count per grade until it closes; otherwise reading both
between two web ballots would pair the second rater with their grade. `as_of` reads of a
moment when the round was open are refused the same way."""

from __future__ import annotations

from datetime import timedelta

import httpx

from tests.e2e.evaluation_helpers import (
    START,
    directory_copied,
    pledge_and_evaluation,
    round_of_members,
)
from tests.e2e.helpers import Directory, ok
from tests.support import Servers

GRADES = ("satisfied", "mostly_satisfied", "dissatisfied")


def shows_no_grade(response: httpx.Response) -> None:
    assert not any(g.encode() in response.content for g in GRADES), response.text


async def test_no_grade_can_be_learned_while_the_round_is_open(servers: Servers) -> None:
    async with pledge_and_evaluation(servers) as (pledge, evaluation, clock):
        d = await Directory(pledge.client, servers).build()
        await directory_copied(evaluation, d)
        e = evaluation.client
        path = await round_of_members(evaluation, d)
        secretary_votes = d.as_("member", d.branch, d.secretary)
        auditor = d.as_("auditor", d.county)

        async def what_the_organiser_sees() -> dict[str, bool]:
            raters = await e.get(f"{path}/raters", headers=d.office)
            shows_no_grade(raters)
            for headers in (d.office, auditor, {}):
                for page in ("results", "results.xlsx"):
                    refused = await e.get(f"{path}/{page}", headers=headers)
                    assert refused.status_code == 409, refused.text
                    assert refused.json()["type"] == "urn:gongkai:problem:invalid-state"
                    assert refused.json()["round_status"] == "open"
                    shows_no_grade(refused)
            for page, headers in (("turnout", d.office), ("audit", auditor)):
                read = await e.get(f"{path}/{page}", headers=headers)
                assert read.status_code == 200, read.text
                shows_no_grade(read)
            return {r["rater_id"]: r["voted"] for r in ok(raters)["raters"]}

        assert await what_the_organiser_sees() == {d.member: False, d.secretary: False}
        clock.set(START + timedelta(hours=1))
        vote = {"grades": {d.branch: "dissatisfied"}}
        ok(await e.post(f"{path}/ballots", json=vote, headers=d.the_member), 201)
        assert await what_the_organiser_sees() == {d.member: True, d.secretary: False}
        clock.set(START + timedelta(hours=2))
        vote = {"grades": {d.branch: "satisfied"}}
        ok(await e.post(f"{path}/ballots", json=vote, headers=secretary_votes), 201)
        assert await what_the_organiser_sees() == {d.member: True, d.secretary: True}

        # closed: the results are public and correct
        clock.set(START + timedelta(hours=3))
        ok(await e.post(f"{path}/closure", headers=d.office))
        results = ok(await e.get(f"{path}/results"))
        assert results["published"]
        [branch] = results["results"]
        assert branch["counts"] == {"satisfied": 1, "mostly_satisfied": 0, "dissatisfied": 1}
        assert (branch["satisfaction_rate"], branch["score"]) == (0.5, 50.0)
        assert (await e.get(f"{path}/results.xlsx")).status_code == 200

        # ... and the past states between the ballots still show none (A3 reads rebuild the
        # read model at that moment, where the round is open)
        for hours in (0.5, 1.5, 2.5):
            moment = (START + timedelta(hours=hours)).isoformat()
            past = await e.get(f"{path}/results", params={"as_of": moment}, headers=d.office)
            assert past.status_code == 409, (hours, past.text)
            shows_no_grade(past)
        after = (START + timedelta(hours=3, minutes=30)).isoformat()
        assert ok(await e.get(f"{path}/results", params={"as_of": after}))["results"] == [branch]
