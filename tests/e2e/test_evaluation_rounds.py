"""Mass evaluation over HTTP (E1–E5, E7, E3a) and periodic ratings (E6), with the directory
copied from the running pledge service over NATS."""

from __future__ import annotations

import io
import json
from datetime import timedelta

from openpyxl import load_workbook

from services.evaluation.policies import SCHEDULER
from tests.e2e.evaluation_helpers import directory_copied, pledge_and_evaluation, rater
from tests.e2e.helpers import Directory, ok
from tests.support import Servers


def first_half(township_id: str) -> dict[str, object]:
    """The township's round for its branches, the first half of 2027, open from March 1."""
    return {
        "title": "2027年上半年群众评议",
        "year": 2027,
        "half": 1,
        "township_id": township_id,
        "opens_on": "2027-03-01",
    }


async def test_a_round_from_opening_to_published_results(servers: Servers) -> None:
    async with pledge_and_evaluation(servers) as (pledge, evaluation, _):
        d = await Directory(pledge.client, servers).build()
        await directory_copied(evaluation, d)
        e, pool = evaluation.client, evaluation.runtime.pool

        async def appended() -> int:
            count: int = await pool.fetchval("SELECT count(*) FROM events")
            return count

        async def refused(path: str, body: object, headers: dict[str, str], status: int) -> None:
            before = await appended()
            response = await e.post(path, json=body, headers=headers)
            assert response.status_code == status, response.text
            assert response.headers["content-type"].startswith("application/problem+json")
            assert await appended() == before

        # E4: the calendar is data per county and year
        admin = d.as_("county_admin", d.county)
        calendar = {
            "year": 2027,
            "first_round_closes": "2027-07-08",
            "second_round_closes": "2028-01-05",
        }
        ok(
            await e.post(
                f"/v1/counties/{d.county}/evaluation-calendars", json=calendar, headers=admin
            )
        )
        assert ok(await e.get(f"/v1/counties/{d.county}/evaluation-calendars/2028"))["default"]

        # E2: the township organises for branches, the branch for its members
        opening = first_half(d.township)
        await refused("/v1/rounds", opening, d.branch_secretary, 403)
        # another township's office learns nothing, whether the township exists or not
        elsewhere = d.as_("township_office", d.other_township)
        await refused("/v1/rounds", opening, elsewhere, 403)
        await refused("/v1/rounds", {**opening, "township_id": "t-nowhere"}, elsewhere, 403)
        await refused("/v1/rounds", {**opening, "closes_on": "2027-07-09"}, d.office, 422)
        round_id = ok(await e.post("/v1/rounds", json=opening, headers=d.office), 201)["id"]
        shown = ok(await e.get(f"/v1/rounds/{round_id}"))
        assert shown["closes_on"] == "2027-07-08"
        assert [s["subject_id"] for s in shown["subjects"]] == [d.branch]
        assert shown["scale"]["name"] == "public_satisfaction"
        assert shown["held_with"] is None
        # E4: the members' round held together with the secretary's annual report
        for_members = {**opening, "township_id": None, "branch_id": d.branch}
        for_members["held_with"] = "secretary_annual_report"
        await refused("/v1/rounds", for_members, d.office, 403)
        members_round = ok(
            await e.post("/v1/rounds", json=for_members, headers=d.branch_secretary), 201
        )["id"]
        shown = ok(await e.get(f"/v1/rounds/{members_round}"))
        assert shown["scale"]["name"] == "member_appraisal"
        assert shown["held_with"] == "secretary_annual_report"

        stars = {
            "name": "stars",
            "grades": [
                {"grade": "five", "label": "★★★★★", "score": 100, "satisfied": True},
                {"grade": "one", "label": "★", "score": 20, "satisfied": False},
            ],
        }
        starred = ok(
            await e.post(
                "/v1/rounds",
                json={**for_members, "custom_scale": stars},
                headers=d.branch_secretary,
            ),
            201,
        )["id"]
        assert ok(await e.get(f"/v1/rounds/{starred}"))["scale"] == stars  # E7

        # raters: a member in the directory and the public, who are not
        raters_path = f"/v1/rounds/{round_id}/raters"
        await refused(raters_path, {"raters": [{"kind": "branch_member"}]}, d.office, 422)
        entries = [{"kind": "township_member", "member_id": d.member}] + [
            {"kind": "public", "organisation_id": "public"} for _ in range(4)
        ]
        rater_ids = ok(await e.post(raters_path, json={"raters": entries}, headers=d.office), 201)[
            "rater_ids"
        ]
        member, web, paper1, paper2, absent = rater_ids
        assert member == d.member

        # ballots: once per rater per subject, across channels; nobody unregistered
        ballots = f"/v1/rounds/{round_id}/ballots"
        vote = {"grades": {d.branch: "satisfied"}}
        ok(await e.post(ballots, json=vote, headers=rater(servers, round_id, web)), 201)
        await refused(ballots, vote, rater(servers, round_id, web), 409)
        await refused(ballots, vote, rater(servers, round_id, "rt-stranger"), 403)
        await refused(ballots, {"grades": {d.branch: "great"}}, d.the_member, 422)
        ok(
            await e.post(
                ballots, json={"grades": {d.branch: "dissatisfied"}}, headers=d.the_member
            ),
            201,
        )
        stack = {
            "channel": "paper",
            "participants": [paper1, paper2],
            "ballots": [{d.branch: "mostly_satisfied"}, {d.branch: "satisfied"}],
        }
        paper = f"/v1/rounds/{round_id}/paper-ballots"
        await refused(paper, {**stack, "participants": [paper1, web]}, d.office, 409)
        await refused(paper, stack, d.branch_secretary, 403)
        ok(await e.post(paper, json=stack, headers=d.office), 201)

        # turnout while open (E3a); results for nobody until the round closes (E3)
        turnout = ok(await e.get(f"/v1/rounds/{round_id}/turnout"))
        assert (turnout["registered"], turnout["voted"], turnout["rate"]) == (5, 4, 0.8)
        by_org = {
            o["organisation_id"]: (o["registered"], o["voted"]) for o in turnout["by_organisation"]
        }
        assert by_org == {d.branch: (1, 1), "public": (4, 3)}
        assert {c["channel"]: c["raters"] for c in turnout["by_channel"]} == {"paper": 2, "web": 2}
        for headers in ({}, d.office, d.as_("auditor", d.county)):
            early = await e.get(f"/v1/rounds/{round_id}/results", headers=headers)
            assert early.status_code == 409, early.text
        audit = ok(await e.get(f"/v1/rounds/{round_id}/audit", headers=d.as_("auditor", d.county)))
        assert (audit["consistent"], audit["problems"]) == (True, [])
        # the two web ballots wait in the urn for their batch (issue 17), counted by the check
        assert (audit["ballots"], audit["in_urn"]) == (2, 2)
        assert audit["registered_raters"] == 5
        assert (await e.get(f"/v1/rounds/{round_id}/audit", headers=d.office)).status_code == 403

        # close: results published (E5), no change after close
        await refused(f"/v1/rounds/{round_id}/closure", None, d.branch_secretary, 403)
        ok(await e.post(f"/v1/rounds/{round_id}/closure", headers=d.office))
        await refused(ballots, vote, rater(servers, round_id, absent), 409)
        results = ok(await e.get(f"/v1/rounds/{round_id}/results"))
        assert results["published"]
        [branch] = results["results"]
        assert branch["counts"] == {"satisfied": 2, "mostly_satisfied": 1, "dissatisfied": 1}
        assert (branch["satisfaction_rate"], branch["score"]) == (0.75, 70.0)
        workbook = await e.get(f"/v1/rounds/{round_id}/results.xlsx")
        assert workbook.status_code == 200
        sheet = load_workbook(io.BytesIO(workbook.content)).active
        assert sheet is not None
        assert [c.value for c in sheet[3]][:4] == ["红沙梁村党支部", "党组织", d.branch, 2]
        assert [c.value for c in sheet[2]] == [
            "评议对象",
            "类型",
            "编号",
            "满意",
            "基本满意",
            "不满意",
            "满意率",
            "得分",
        ]

        # E3: no ballot and no result carries a rater id
        rows = await pool.fetch(
            "SELECT type, convert_from(body, 'UTF8') AS body FROM events"
            " WHERE type IN ('BallotCast', 'RoundResultsPublished')"
        )
        assert len(rows) == 5
        for row in rows:
            assert not any(rater_id in row["body"] for rater_id in rater_ids), row["type"]
            if row["type"] == "BallotCast":
                assert json.loads(row["body"])["actor"] == "anonymous"


async def test_a_round_closes_by_itself_when_its_window_ends_e4(servers: Servers) -> None:
    """Nobody closes it: the service's scheduled pass does, on its clock, and publishes the
    results as the organiser's closing would; closing it by hand afterwards is a 409."""
    async with pledge_and_evaluation(servers) as (pledge, evaluation, clock):
        d = await Directory(pledge.client, servers).build()
        await directory_copied(evaluation, d)
        e, runtime = evaluation.client, evaluation.runtime
        opening = {**first_half(d.township), "closes_on": "2027-03-10"}
        round_id = ok(await e.post("/v1/rounds", json=opening, headers=d.office), 201)["id"]
        public = {"kind": "public", "organisation_id": "public"}
        voter, late = ok(
            await e.post(
                f"/v1/rounds/{round_id}/raters", json={"raters": [public] * 2}, headers=d.office
            ),
            201,
        )["rater_ids"]
        ballots, vote = f"/v1/rounds/{round_id}/ballots", {"grades": {d.branch: "satisfied"}}
        ok(await e.post(ballots, json=vote, headers=rater(servers, round_id, voter)), 201)

        [closer] = [w for w in runtime.periodic if w.name.startswith("close-due")]
        clock.advance(timedelta(days=9))  # 2027-03-10 in China: the window's last day
        await closer.step()
        assert ok(await e.get(f"/v1/rounds/{round_id}"))["status"] == "open"
        clock.advance(timedelta(days=1))  # the window has ended: no more ballots
        before = await runtime.pool.fetchval("SELECT count(*) FROM events")
        refused = await e.post(ballots, json=vote, headers=rater(servers, round_id, late))
        assert refused.status_code == 409, refused.text
        assert await runtime.pool.fetchval("SELECT count(*) FROM events") == before

        await closer.step()
        shown = ok(await e.get(f"/v1/rounds/{round_id}"))
        assert (shown["status"], shown["closed_on"]) == ("closed", "2027-03-11")
        [branch] = ok(await e.get(f"/v1/rounds/{round_id}/results"))["results"]
        assert branch["counts"] == {"satisfied": 1, "mostly_satisfied": 0, "dissatisfied": 0}
        # the log says the schedule closed it, not a person
        *_, closed, published = await runtime.store.read_stream(f"round-{round_id}")
        assert (closed.type, published.type) == ("RoundClosed", "RoundResultsPublished")
        assert {closed.actor, published.actor} == {SCHEDULER}
        again = await e.post(f"/v1/rounds/{round_id}/closure", headers=d.office)
        assert again.status_code == 409, again.text
        assert again.json()["type"] == "urn:gongkai:problem:invalid-state"
        assert "已结束" in again.json()["detail"]


async def test_periodic_ratings_on_their_cadence(servers: Servers) -> None:
    async with pledge_and_evaluation(servers) as (pledge, evaluation, _):
        d = await Directory(pledge.client, servers).build()
        await directory_copied(evaluation, d)
        e = evaluation.client
        branches = {
            "level": "township_rates_branches",
            "township_id": d.township,
            "period": "2027-B1",
            "results": [{"subject_id": d.branch, "grade": "excellent", "score": 95}],
        }
        members = {
            "level": "branch_rates_members",
            "branch_id": d.branch,
            "period": "2027-02",
            "results": [
                {"subject_id": d.member, "grade": "qualified", "score": 85},
                {"subject_id": d.secretary, "grade": "excellent", "score": 92},
            ],
        }
        assert (
            await e.post("/v1/ratings", json=branches, headers=d.branch_secretary)
        ).status_code == 403
        assert (await e.post("/v1/ratings", json=members, headers=d.office)).status_code == 403
        wrong_cadence = {**branches, "period": "2027-02"}
        assert (
            await e.post("/v1/ratings", json=wrong_cadence, headers=d.committee)
        ).status_code == 422
        future = {**members, "period": "2027-04"}
        assert (
            await e.post("/v1/ratings", json=future, headers=d.branch_secretary)
        ).status_code == 422
        stranger = {
            **members,
            "results": [{"subject_id": "m-nobody", "grade": "qualified", "score": 80}],
        }
        assert (
            await e.post("/v1/ratings", json=stranger, headers=d.branch_secretary)
        ).status_code == 422
        # the township committee publishes the branch ratings, not its office
        assert (await e.post("/v1/ratings", json=branches, headers=d.office)).status_code == 403
        ok(await e.post("/v1/ratings", json=branches, headers=d.committee), 201)
        ok(await e.post("/v1/ratings", json=members, headers=d.branch_secretary), 201)
        again = await e.post("/v1/ratings", json=members, headers=d.branch_secretary)
        assert again.status_code == 409, again.text
        published = ok(await e.get(f"/v1/ratings?township_id={d.township}"))["rows"]
        assert [(r["period"], r["level"], r["branch_id"]) for r in published] == [
            ("2027-B1", "township_rates_branches", None),
            ("2027-02", "branch_rates_members", d.branch),
        ]
        assert published[1]["results"][0]["subject_name"] == "李秀英"
