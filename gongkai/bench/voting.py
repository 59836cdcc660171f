"""`gongkai bench voting`: people voting from phones on one round (issue 17). The pledge and
evaluation services run as processes (as `python -m services.<name>.app` runs them) on the
embedded PostgreSQL and nats-server; a county with a township and its branches is made over
the pledge API and copied by the evaluation service; a round is opened, `--voters` public
raters registered and invited. Then each voter, arriving evenly spread over
`--voting-seconds`, does what a phone does: opens `/vote`, posts the code (the ballot page),
and submits a grade per subject. Reported: errors (any answer but the page or 已提交), the
submit's p50 and p99 (target: p99 < 500 ms), and that every ballot is counted at close.

All voters come from this machine's one address, so the per-address limit for callers
without a token is switched off for the run (in the field each phone has its own).
"""

from __future__ import annotations

import asyncio
import re
import time
from datetime import date, datetime, timedelta, timezone
from typing import Any

import httpx

from gongkai.bench.common import Bench, Figure, Sizes, latency, percentile, report
from gongkai.bench.http import process
from shared.embedded import free_port

P99_LIMIT = 500.0  # ms, for the submit
CHINA = timezone(timedelta(hours=8))
COUNTY = "benchvotes"
SUBJECT = re.compile(r'name="grade\.([^"]+)"')
SCOPE = re.compile(r'name="scope_id" value="([^"]+)"')
CODE = re.compile(r'name="code" value="([^"]+)"')


def round_dates(today: date) -> tuple[int, int]:
    """(year, half) of the evaluation round that takes ballots today (E4's default calendar:
    the first closes by July 10, the second by January 5 of the next year)."""
    if today.month == 1 and today.day <= 5:
        return today.year - 1, 2
    if today <= date(today.year, 7, 10):
        return today.year, 1
    return today.year, 2


async def _setup(pledge: str, evaluation: str, tokens: Any, voters: int) -> tuple[str, list[str]]:
    """A county, a township with two branches, a round of them, `voters` invited raters:
    (round id, codes)."""
    admin = {"Authorization": f"Bearer {tokens('county_admin', COUNTY)}"}
    async with httpx.AsyncClient(timeout=60) as c:

        async def post(url: str, body: dict[str, Any], headers: dict[str, str]) -> Any:
            response = await c.post(url, json=body, headers=headers)
            if response.status_code >= 300:
                raise RuntimeError(f"{url}: {response.status_code} {response.text}")
            return response.json()

        await post(f"{pledge}/v1/counties", {"county_id": COUNTY, "name": "民勤县"}, admin)
        township = (
            await post(f"{pledge}/v1/counties/{COUNTY}/townships", {"name": "第一镇"}, admin)
        )["id"]
        for n in (1, 2):
            body = {"township_id": township, "name": f"第{n}村党支部", "kind": "village"}
            await post(f"{pledge}/v1/branches", body, admin)
        deadline = time.monotonic() + 60
        while True:  # the evaluation service's copy of the directory
            copy = await c.get(f"{evaluation}/v1/directory/townships/{township}")
            if copy.status_code == 200 and len(copy.json()["branches"]) == 2:
                break
            if time.monotonic() > deadline:
                raise RuntimeError("the evaluation service did not copy the directory")
            await asyncio.sleep(0.2)
        office = {"Authorization": f"Bearer {tokens('township_office', township)}"}
        today = datetime.now(tz=CHINA).date()  # the service reads dates in China's time
        year, half = round_dates(today)
        opening = {"title": "群众评议（基准）", "year": year, "half": half}
        opening |= {"township_id": township, "opens_on": today.isoformat()}
        round_id = (await post(f"{evaluation}/v1/rounds", opening, office))["id"]
        for start in range(0, voters, 500):
            raters = [{"kind": "public"} for _ in range(min(500, voters - start))]
            await post(f"{evaluation}/v1/rounds/{round_id}/raters", {"raters": raters}, office)
        issued = await post(f"{evaluation}/v1/rounds/{round_id}/invitations", {}, office)
        codes = [i["code"] for i in issued["invitations"]]
        return round_id, codes


async def _voter(
    client: httpx.AsyncClient, code: str, delay: float, submits: list[float], errors: list[str]
) -> None:
    await asyncio.sleep(delay)
    try:
        page = await client.get("/vote")
        ballot = await client.post("/vote", data={"code": code})
        if page.status_code != 200 or ballot.status_code != 200:
            raise RuntimeError(f"open {page.status_code} {ballot.status_code}")
        html = ballot.text
        scope, shown = SCOPE.search(html), CODE.search(html)
        if scope is None or shown is None:
            raise RuntimeError("no ballot on the page")
        form = {"code": shown.group(1), "scope_id": scope.group(1)}
        form |= {f"grade.{s}": "satisfied" for s in dict.fromkeys(SUBJECT.findall(html))}
        start = time.perf_counter()
        done = await client.post("/vote/ballot", data=form)
        submits.append((time.perf_counter() - start) * 1000)
        if done.status_code != 200 or "已提交" not in done.text:
            raise RuntimeError(f"submit {done.status_code}")
    except Exception as error:  # reported, not raised: the run goes on
        errors.append(repr(error))


async def vote(evaluation: str, codes: list[str], seconds: float) -> tuple[list[float], list[str]]:
    submits: list[float] = []
    errors: list[str] = []
    limits = httpx.Limits(max_connections=200, max_keepalive_connections=50)
    async with httpx.AsyncClient(base_url=evaluation, limits=limits, timeout=60) as client:
        gap = seconds / max(len(codes), 1)
        await asyncio.gather(
            *(_voter(client, code, i * gap, submits, errors) for i, code in enumerate(codes))
        )
    return submits, errors


async def measure(bench: Bench, sizes: Sizes) -> list[Figure]:
    voters, seconds = sizes.voters, sizes.voting_seconds
    admin, nats_url = await bench.admin_dsn(), await bench.nats()
    key, public_key = bench.signing_key()

    def token(role: str, org: str) -> str:
        return key.issue(
            issuer="gongkai-local", audience="gongkai", subject=f"bench-{role}", role=role, org=org
        )

    root = f"v{free_port()}"
    ports = {"pledge": free_port(), "evaluation": free_port()}
    envs = {}
    for name, port in ports.items():
        database = f"gongkai_bench_{name}_{port}"
        bench.forget(database)
        envs[name] = {
            "GONGKAI_SERVICE": name,
            "GONGKAI_DATABASE_URL": admin,
            "GONGKAI_DATABASE_NAME": database,
            "GONGKAI_NATS_URL": nats_url,
            "GONGKAI_NATS_SUBJECT_ROOT": root,
            "GONGKAI_JWT_PUBLIC_KEY_FILE": str(public_key),
            "GONGKAI_PORT": str(port),
            "GONGKAI_PUBLIC_REQUESTS_PER_SECOND": "0",
        }
    with (
        bench.console.status("starting the pledge and evaluation services ..."),
        process("services.pledge.app", envs["pledge"], ports["pledge"], bench.tmp / "p.log") as p,
        process(
            "services.evaluation.app", envs["evaluation"], ports["evaluation"], bench.tmp / "e.log"
        ) as e,
    ):
        round_id, codes = await _setup(p, e, token, voters)
        with bench.console.status(f"{voters} voters over {seconds:.0f} s ..."):
            started = time.perf_counter()
            submits, errors = await vote(e, codes, seconds)
            took = time.perf_counter() - started
        async with httpx.AsyncClient(base_url=e, timeout=60) as c:
            turnout = (await c.get(f"/v1/rounds/{round_id}/turnout")).json()
    figures = [
        Figure("voters who got 已提交", float(len(submits) - len(errors)), "voters"),
        Figure("errors", float(len(errors)), "answers", target=0, higher=False),
        latency("p50: submit", percentile(submits, 50) if submits else 0.0),
        latency("p99: submit", percentile(submits, 99) if submits else 0.0, target=P99_LIMIT),
    ]
    report(
        bench.console,
        f"voting: {voters} people voting from phones on one round within {seconds:.0f} s",
        figures,
        f"each: GET /vote, POST /vote (the code: the ballot page), POST /vote/ballot; took"
        f" {took:.1f} s; turnout {turnout.get('voted')} of {turnout.get('registered')}"
        + (f"; first error: {errors[0]}" if errors else ""),
    )
    return figures
