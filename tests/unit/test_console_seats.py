"""R1 (创先办安排负责人) against the real identity, pledge and review services: the review
service copies the township committees' seats from the identity service's posts as their
events arrive, and the office assigns only a member of the township's committee; a member of
another township's committee is refused beside `leader_id`, nothing appended; a seat the
county revokes is no longer assignable; the copy rebuilds to the same rows (A2). On the
console's 联系领导 page, a member the identity service seated a moment ago whose seat the
review service has not copied yet is refused beside the leader's field with the advice to
try again shortly. The rules in memory: tests/unit/test_review_seats.py."""

from __future__ import annotations

from pathlib import Path

import pytest

from services.console.settings import ConsoleSettings
from services.identity.app import DEFINITION as IDENTITY
from services.pledge.app import DEFINITION as PLEDGE
from services.review.app import DEFINITION as REVIEW
from shared.clock import FixedClock
from tests.e2e.helpers import Directory, eventually, ok
from tests.e2e.review_helpers import START, seats_copied
from tests.support import Servers, rebuilt_as_live, running
from tests.unit.test_console_countypages import form
from tests.unit.test_console_officepages import signed_in_as
from tests.unit.test_review_seats import NOT_A_LEADER


async def test_the_office_assigns_the_members_identity_seats_on_the_committee(
    servers: Servers, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("GONGKAI_IDENTITY_ARGON2_PROFILE", "cheapest")
    async with running(servers, [IDENTITY, PLEDGE, REVIEW], FixedClock(START)) as services:
        d = await Directory(services["pledge"].client, servers).build()
        identity, review = services["identity"].client, services["review"]
        admin = servers.auth("county_admin", d.county)

        async def copied() -> bool:  # identity and review know the township and its branch
            branch = await review.client.get(f"/v1/directory/branches/{d.branch}")
            committee = await identity.get(f"/v1/townships/{d.township}/committee", headers=admin)
            return branch.status_code == 200 and committee.status_code == 200

        await eventually(copied)

        async def seated(name: str, township_id: str) -> str:
            body = {"name": name, "county_id": d.county}
            person = ok(await identity.post("/v1/people", json=body, headers=admin), 201)["id"]
            post = {"role": "township_committee", "org": township_id}
            ok(await identity.post(f"/v1/people/{person}/posts", json=post, headers=admin), 201)
            return str(person)

        leader = await seated("刘建国", d.township)
        elsewhere = await seated("周其", d.other_township)
        path = f"/v1/branches/{d.branch}/leaders"

        async def assign(person: str) -> tuple[int, dict[str, object]]:
            body = {"leader_id": person, "leader_name": "联系领导"}
            answer = await review.client.post(path, json=body, headers=d.office)
            return answer.status_code, answer.json()

        async def assigned() -> bool:  # once the seat is copied (a moment after the grant)
            status, _ = await assign(leader)
            assert status in (201, 422)
            return status == 201

        await eventually(assigned)

        # a member of another township's committee: refused, nothing appended
        await seats_copied(review, d.other_township, elsewhere)
        logged = await review.runtime.pool.fetchval("SELECT count(*) FROM events")
        status, problem = await assign(elsewhere)
        assert status == 422
        assert problem["errors"] == [{"field": "leader_id", "reason": NOT_A_LEADER}]
        assert await review.runtime.pool.fetchval("SELECT count(*) FROM events") == logged

        # the county takes the leader off the committee: the office ends the assignment and
        # cannot make it again
        unassigned = await review.client.post(f"{path}/{leader}/unassignment", headers=d.office)
        ok(unassigned)
        revoke = {"role": "township_committee", "org": d.township}
        ok(await identity.post(f"/v1/people/{leader}/posts/revocation", json=revoke, headers=admin))

        async def unseated() -> bool:
            found = await review.runtime.pool.fetchval(
                "SELECT count(*) FROM committee_seats WHERE person_id = $1", leader
            )
            return bool(found == 0)

        await eventually(unseated)
        assert (await assign(leader))[0] == 422
        seats = await review.runtime.pool.fetch("SELECT * FROM committee_seats")
        assert [(r["township_id"], r["person_id"]) for r in seats] == [
            (d.other_township, elsewhere)
        ]
        await rebuilt_as_live(review.runtime.pool, REVIEW.read_models)

        # the console: a member seated a moment ago, not copied yet (the review service's
        # consumer of the identity stream held still from here on)
        [copier] = [r for r in review.runtime.runners if r.sub.source == "identity"]
        copier.stop()
        newcomer = await seated("吴海", d.township)
        settings = ConsoleSettings(
            session_key_file=tmp_path / "console.key",
            identity_url=str(identity.base_url),
            pledge_url=str(services["pledge"].client.base_url),
            review_url=str(review.client.base_url),
            evaluation_url="http://127.0.0.1:9",
            notification_url="http://127.0.0.1:9",
        )
        office, csrf = signed_in_as(settings, servers, "township_office", d.township, "p-1", "测")
        sent = form(csrf, branch_id=d.branch, leader_id=newcomer)
        page = await office.post("/leaders", data=sent)
        assert page.status_code == 422
        assert f"{NOT_A_LEADER}如刚刚任命，请稍后再试。" in page.text
        assert 'aria-describedby="err-assign-leader_id"' in page.text
        assert await review.runtime.pool.fetchval("SELECT count(*) FROM events") == logged + 1
