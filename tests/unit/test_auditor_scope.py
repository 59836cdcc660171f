"""X1 for auditors (issue 21): an auditor's post is held at a county, and every route that
lets an auditor read (or erase, or sign) serves the county's own auditor and refuses, with a
403 problem and nothing appended, an auditor of another county and a token naming none; a
record read by its id is answered to them as one that does not exist (404, the very answer
a missing id gets), so that they do not learn that it exists.

One small county (`minqin`) on the five services, real PostgreSQL and NATS; "gulang" is the
other county, whose auditor holds a genuine token but no place here."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner, Result

from gongkai.main import app
from services.evaluation.app import DEFINITION as EVALUATION
from services.identity.app import DEFINITION as IDENTITY
from services.notification.app import DEFINITION as NOTIFICATION
from services.pledge.app import DEFINITION as PLEDGE
from services.review.app import DEFINITION as REVIEW
from shared.clock import FixedClock
from tests.e2e.evaluation_helpers import (
    START,
    check_of_a_finished_item,
    directory_copied,
    round_of_members,
)
from tests.e2e.helpers import Directory, eventually, ok
from tests.e2e.review_helpers import correction_body, review_body
from tests.support import RunningService, Servers, running
from tests.support.files import pdf

MONTH = "2027-03"


@dataclass
class County:
    servers: Servers
    services: dict[str, RunningService]
    d: Directory
    ids: dict[str, str] = field(default_factory=dict)

    def auditor(self, county: str | None) -> dict[str, str]:
        headers: dict[str, str] = self.servers.auth("auditor", county, "p-auditor")
        return headers

    async def events(self) -> dict[str, int]:
        counts = {}
        for name, service in self.services.items():
            pool = service.runtime.pool
            counts[name] = await pool.fetchval("SELECT count(*) FROM events")
            counts[f"{name} checkpoints"] = await pool.fetchval("SELECT count(*) FROM checkpoints")
        return counts


@pytest.fixture(scope="module")
async def county(servers: Servers) -> AsyncIterator[County]:
    with pytest.MonkeyPatch.context() as env:
        env.setenv("GONGKAI_IDENTITY_ARGON2_PROFILE", "cheapest")
        env.setenv("GONGKAI_DELIVERY_INTERVAL", "3600")
        env.setenv("GONGKAI_SCHEDULER_INTERVAL", "3600")
        definitions = [IDENTITY, PLEDGE, REVIEW, EVALUATION, NOTIFICATION]
        async with running(servers, definitions, FixedClock(START)) as services:
            d = await Directory(services["pledge"].client, servers).build()
            world = County(servers, services, d)
            await directory_copied(services["evaluation"], d)
            pledge, evaluation = services["pledge"], services["evaluation"]
            _, check_id = await check_of_a_finished_item(pledge, evaluation, d, "硬化村道")
            round_path = await round_of_members(evaluation, d)
            raters = {"raters": [{"kind": "public", "name": "李四"}, {"kind": "public"}]}
            e = evaluation.client
            public = ok(await e.post(f"{round_path}/raters", json=raters, headers=d.office), 201)
            draft = {"year": 2028, "branch_id": d.branch}  # unpublished: overseers only
            secretary = d.branch_secretary
            drafted = await pledge.client.post("/v1/pledges", json=draft, headers=secretary)
            review = services["review"].client

            admin = servers.auth("county_admin", d.county)

            async def copied() -> bool:  # review, identity and notification know the branch
                found = await review.get(f"/v1/directory/branches/{d.branch}")
                posts = await services["identity"].client.get(
                    f"/v1/people/{d.secretary}/posts", headers=admin
                )
                board = await services["notification"].client.get(f"/branches/{d.branch}")
                return all(r.status_code == 200 for r in (found, posts, board))

            await eventually(copied)
            scan = await review.post(
                "/v1/files", files={"file": ("会议记录.pdf", pdf())}, headers=d.committee
            )
            sha = ok(scan, 201)["sha256"]  # on the first version only: history once corrected
            files = [{"sha256": sha, "name": "会议记录.pdf"}]
            body = review_body("branch", d.branch, "2027-03-01", files=files)
            review_id = ok(await review.post("/v1/reviews", json=body, headers=d.committee), 201)
            corrected = correction_body("branch", "2027-03-01")
            ok(
                await review.post(
                    f"/v1/reviews/{review_id['id']}/correction",
                    json=corrected,
                    headers=d.committee,
                ),
                201,
            )
            world.ids = {
                "round": round_path.rsplit("/", 1)[1],
                "check": check_id,
                "rater": public["rater_ids"][0],
                "other rater": public["rater_ids"][1],
                "pledge": ok(drafted, 201)["id"],
                "review": review_id["id"],
                "file": sha,
            }
            yield world


Call = Callable[[County, dict[str, str]], Awaitable[httpx.Response]]


def get(service: str, path: str, **params: str) -> Call:
    async def call(w: County, headers: dict[str, str]) -> httpx.Response:
        d, ids = w.d, w.ids
        filled = path.format(d=d, ids=ids)
        values = {k: v.format(d=d, ids=ids) for k, v in params.items()}
        return await w.services[service].client.get(filled, params=values, headers=headers)

    return call


def post(service: str, path: str) -> Call:
    async def call(w: County, headers: dict[str, str]) -> httpx.Response:
        filled = path.format(d=w.d, ids=w.ids)
        return await w.services[service].client.post(filled, headers=headers)

    return call


# Every route that serves an auditor (issue 21's survey; docs/security.md).
ROUTES: dict[str, Call] = {
    "evaluation round audit": get("evaluation", "/v1/rounds/{ids[round]}/audit"),
    "evaluation check audit": get("evaluation", "/v1/satisfaction-checks/{ids[check]}/audit"),
    "pledge township export": get("pledge", "/v1/audit/export", partition="{d.township}"),
    "pledge whole export": get("pledge", "/v1/audit/export"),
    "evaluation whole export": get("evaluation", "/v1/audit/export"),
    "review township export": get("review", "/v1/audit/export", partition="{d.township}"),
    "review whole export": get("review", "/v1/audit/export"),
    "notification whole export": get("notification", "/v1/audit/export"),
    "identity whole export": get("identity", "/v1/audit/export"),
    "pledge checkpoint": post("pledge", "/v1/audit/checkpoints"),
    "review checkpoint": post("review", "/v1/audit/checkpoints"),
    "pledge roster": get("pledge", "/v1/members", township_id="{d.township}"),
    "pledge drafting report": get(
        "pledge", "/v1/townships/{d.township}/drafting-report", year="2027"
    ),
    "pledge unpublished pledge": get("pledge", "/v1/pledges/{ids[pledge]}"),
    "review journal": get("review", "/v1/members/{d.member}/journal"),
    "review branch journals": get("review", "/v1/branches/{d.branch}/journals", month=MONTH),
    "review history": get("review", "/v1/reviews", include_superseded="true"),
    "review township history": get(
        "review", "/v1/reviews", include_superseded="true", township_id="{d.township}"
    ),
    "review history workbook": get(
        "review", "/v1/reviews.xlsx", include_superseded="true", township_id="{d.township}"
    ),
    "review versions": get("review", "/v1/reviews/{ids[review]}"),
    "review superseded version's file": get("review", "/v1/files/{ids[file]}"),
    "identity people": get("identity", "/v1/people", county_id="{d.county}"),
    "identity posts": get("identity", "/v1/people/{d.secretary}/posts"),
    "identity committee": get("identity", "/v1/townships/{d.township}/committee"),
    "notification channels": get("notification", "/v1/channels", county_id="{d.county}"),
    "notification deliveries": get("notification", "/v1/deliveries", county_id="{d.county}"),
}
# a record read by its id, and the same route for an id that does not exist: not even
# their existence is told (404, the same answer)
MISSING: dict[str, Call] = {
    "evaluation round audit": get("evaluation", "/v1/rounds/r-00000000/audit"),
    "evaluation check audit": get("evaluation", "/v1/satisfaction-checks/c-00000000/audit"),
    "pledge roster": get("pledge", "/v1/members", township_id="t-00000000"),
    "pledge drafting report": get(
        "pledge", "/v1/townships/t-00000000/drafting-report", year="2027"
    ),
    "pledge unpublished pledge": get("pledge", "/v1/pledges/p-00000000"),
    "review journal": get("review", "/v1/members/m-00000000/journal"),
    "review branch journals": get("review", "/v1/branches/b-00000000/journals", month=MONTH),
    "review versions": get("review", "/v1/reviews/rv-00000000"),
    "review superseded version's file": get("review", "/v1/files/" + "0" * 64),
    "identity posts": get("identity", "/v1/people/p-00000000/posts"),
    "identity committee": get("identity", "/v1/townships/t-00000000/committee"),
}
HIDDEN = dict.fromkeys(MISSING, 404)
# refused to a token naming no county before the record is looked up: 403 whether or not
# it exists, so nothing is told either
UP_FRONT = {"review versions"}


@pytest.mark.parametrize("route", list(ROUTES))
async def test_an_auditor_reads_only_their_own_county(county: County, route: str) -> None:
    call = ROUTES[route]
    before = await county.events()
    for stranger, expected in (
        (county.auditor("gulang"), HIDDEN.get(route, 403)),
        (county.auditor(None), 403 if route in UP_FRONT else HIDDEN.get(route, 403)),
    ):
        refused = await call(county, stranger)
        assert refused.status_code == expected, refused.text
        assert refused.headers["content-type"] == "application/problem+json"
        assert refused.json()["detail"]  # a sentence, in Chinese, says why
    assert await county.events() == before  # nothing appended, nothing signed
    served = await call(county, county.auditor(county.d.county))
    assert served.status_code in (200, 201), served.text


@pytest.mark.parametrize("route", list(MISSING))
async def test_another_countys_record_is_answered_as_a_missing_one(
    county: County, route: str
) -> None:
    """Issue: an auditor of another county learnt that a round exists (403) where an unknown
    id is 404. Both answers are now the same but for the id they name."""
    stranger = county.auditor("gulang")
    theirs = await ROUTES[route](county, stranger)
    missing = await MISSING[route](county, stranger)
    assert (theirs.status_code, missing.status_code) == (404, 404), (theirs.text, missing.text)
    a, b = theirs.json(), missing.json()
    assert a.keys() == b.keys()
    assert (a["type"], a["title"]) == (b["type"], b["title"])
    mine = await MISSING[route](county, county.auditor(county.d.county))
    assert mine.status_code == 404  # and to the county's own auditor the same


async def test_the_unpublished_pledges_listed_are_the_auditors_county_only(
    county: County,
) -> None:
    pledges = county.services["pledge"].client

    async def listed(headers: dict[str, str]) -> set[str]:
        page = ok(await pledges.get("/v1/pledges", params={"year": "2028"}, headers=headers))
        return {row["pledge_id"] for row in page["rows"]}

    assert await listed(county.auditor(county.d.county)) == {county.ids["pledge"]}
    assert await listed(county.auditor("gulang")) == set()
    assert await listed(county.auditor(None)) == set()


async def test_an_erasure_is_for_the_county_s_own_auditor(county: County) -> None:
    e = county.services["evaluation"].client
    erasure = f"/v1/people/{county.ids['rater']}/erasure"
    before = await county.events()
    for stranger in (county.auditor("gulang"), county.auditor(None)):
        refused = await e.post(erasure, headers=stranger)
        assert refused.status_code == 403, refused.text
        assert refused.headers["content-type"] == "application/problem+json"
    assert await county.events() == before
    mine = county.auditor(county.d.county)
    assert ok(await e.post(erasure, headers=mine), 201)["events"] == ["PersonalDataErased"]


async def test_the_command_line_erases_as_an_auditor_of_the_county_it_is_given(
    county: County, tmp_path: Path
) -> None:
    """`gongkai audit erase` without a token signs an auditor's of `--county` (the embedded
    default's key): none given, it refuses to guess; another county's is refused (403)."""
    keys = tmp_path / "keys"
    keys.mkdir()
    (keys / "signing.pem").write_bytes(county.servers.key.private_pem)
    url = str(county.services["evaluation"].client.base_url).rstrip("/")
    erase = ["audit", "erase", county.ids["other rater"], "--url", url]
    erase += ["--data-dir", str(tmp_path)]

    async def run(*extra: str) -> Result:
        return await asyncio.to_thread(CliRunner().invoke, app, [*erase, *extra], env={})

    before = await county.events()
    unsaid = await run()
    assert unsaid.exit_code == 2, unsaid.output
    assert "--county" in unsaid.output
    elsewhere = await run("--county", "gulang")
    assert elsewhere.exit_code == 1, elsewhere.output
    assert "403" in elsewhere.output
    assert await county.events() == before
    erased = await run("--county", county.d.county)
    assert erased.exit_code == 0, erased.output
