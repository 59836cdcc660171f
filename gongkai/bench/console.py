"""`gongkai bench console`: every page of the console with a generated county behind it
(issue 18: p95 under 300 ms per page, 50 signed-in people clicking through their pages).

A county of `--console-townships` townships with `--console-years` years of history is
generated as `gongkai demo --townships` does, in a data directory of the run's own; then the
whole stack runs on it as `gongkai up` runs it (identity first; every service and the console
its own process), the console from `gongkai.bench.console_app`, which reports each page's
service calls in a Server-Timing header. `--console-people` people of every post are given
accounts, activated with a password, and signed in through the identity service's real
sign-in. Each person's pages are their post's menu (MENUS, so pages added later are measured
too) and the detail pages those link to (a pledge, an import, a township ...). Then every
person clicks through them at once, `--console-clicks` clicks each, a think time of
`--console-think` seconds (0.5x to 1.5x) between clicks.

Reported per page (by route) and overall: p50, p95, p99 of the page; beside it the same service
calls made straight to the services, one after another as the page makes them, with the same
people's posts, in a second pass with the same people and think times (the raw API baseline:
what the console adds is the gap), and the calls per page.
"""

from __future__ import annotations

import asyncio
import html
import os
import random
import re
import shutil
import socket
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from fastapi.routing import APIRoute
from rich.table import Table
from starlette.routing import compile_path

from gongkai.bench.common import Bench, Figure, Sizes, latency, percentile
from gongkai.bench.console_app import ms_since, parse_server_timing
from gongkai.bench.console_people import Accounts, Person, choose, shares, sign_in
from gongkai.develop.demo import COUNTY
from gongkai.develop.stack import Stack
from gongkai.operator.options import signing_key
from gongkai.operator.services import FRONTS, SERVICES
from services.console.calls import KEEPALIVE_SECONDS
from services.console.web import MENUS

P95_LIMIT = 300.0  # ms, per page (issue 18)
COUNTY_POSTS = ("county_admin", "auditor")
LINK = re.compile(r'href="(/[^"]*)"')
NOT_PAGES = ("/static/", "/signin", "/signout", "/signed-out", "/callback")
# the raw calls' client, as the console's own (services/console/calls.py)
RAW_LIMITS = httpx.Limits(max_connections=50, keepalive_expiry=KEEPALIVE_SECONDS)
DETAILS_PER_ROUTE = 2  # detail pages of one route a person keeps visiting


@dataclass
class Visit:
    label: str  # the page's route, e.g. /pledges/{pledge_id}
    ms: float
    status: int
    calls: list[tuple[str, str, float]]


@dataclass
class Walker:
    """One signed-in person and the pages they click through."""

    person: Person
    browser: httpx.AsyncClient
    pages: list[str] = field(default_factory=list)


def route_of(path: str, routes: list[tuple[re.Pattern[str], str]]) -> str:
    """The console's route a path is served by (its template), or the path itself."""
    bare = path.split("?", 1)[0]
    for pattern, template in routes:
        if pattern.fullmatch(bare):
            return template
    return bare


def console_routes() -> list[tuple[re.Pattern[str], str]]:
    """The console's GET routes as (regex, template), from the app itself."""
    from services.console.app import create_app
    from services.console.settings import ConsoleSettings

    with tempfile.TemporaryDirectory(prefix="gongkai-bench-") as tmp:
        app = create_app(ConsoleSettings(session_key_file=Path(tmp) / "console.key"))
    return list(_get_routes(app.routes))


def _get_routes(routes: Sequence[Any], prefix: str = "") -> Iterator[tuple[re.Pattern[str], str]]:
    for route in routes:
        router = getattr(route, "original_router", None)  # an included router
        if router is not None:
            yield from _get_routes(router.routes, prefix + router.prefix)
        elif isinstance(route, APIRoute) and "GET" in (route.methods or set()):
            yield compile_path(prefix + route.path)[0], prefix + route.path


def details(
    page: str, menu: set[str], routes: list[tuple[re.Pattern[str], str]], seen: dict[str, int]
) -> list[str]:
    """The detail pages a page links to: same-site GET pages, not menu entries, sign-in,
    static files or downloads; at most DETAILS_PER_ROUTE of each route (counted in `seen`)."""
    found = []
    for href in dict.fromkeys(html.unescape(h) for h in LINK.findall(page)):
        bare = href.split("?", 1)[0].split("#", 1)[0]
        if href in menu or bare.startswith(NOT_PAGES) or bare.endswith((".xlsx", ".csv")):
            continue
        label = route_of(href, routes)
        if seen.get(label, 0) < DETAILS_PER_ROUTE:
            seen[label] = seen.get(label, 0) + 1
            found.append(href)
    return found


@dataclass(frozen=True)
class Row:
    """One page's figures (or all pages', labelled "")."""

    label: str
    n: int
    p50: float
    p95: float
    p99: float
    alone: float | None  # p50 with one person at a time
    raw: float | None  # p95 of the same calls straight to the services
    calls: float  # service calls a visit, on average


def summarise(visits: list[Visit], alone: list[Visit], raw: dict[str, list[float]]) -> list[Row]:
    """Per page label, then all pages."""
    by: dict[str, list[Visit]] = {}
    for v in visits:
        by.setdefault(v.label, []).append(v)
    rows = []
    for label, vs in [*sorted(by.items()), ("", visits)]:
        ms = [v.ms for v in vs]
        base = raw.get(label, []) if label else [x for xs in raw.values() for x in xs]
        quiet = [v.ms for v in alone if v.label == label or not label]
        rows.append(
            Row(
                label,
                len(ms),
                percentile(ms, 50),
                percentile(ms, 95),
                percentile(ms, 99),
                percentile(quiet, 50) if quiet else None,
                percentile(base, 95) if base else None,
                sum(len(v.calls) for v in vs) / len(vs),
            )
        )
    return rows


def free_offset(rng: random.Random) -> int:
    """A port offset from the stack's defaults at which every port is free."""
    ports = [port for _, port in (*SERVICES.values(), *FRONTS.values())]
    for _ in range(100):
        offset = rng.randrange(20000, 40000, 10)
        if all(_free(port + offset) for port in ports):
            return offset
    raise RuntimeError("no free ports for the stack")


def _free(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def copy_kept(source: Path, target: Path) -> None:
    """A copy of a data directory with its owners kept (the embedded PostgreSQL's files
    belong to the user it runs as)."""
    shutil.copytree(source, target, dirs_exist_ok=True)
    for path in (source, *source.rglob("*")):
        held = path.lstat()
        os.chown(target / path.relative_to(source), held.st_uid, held.st_gid, follow_symlinks=False)


async def _county(bench: Bench, sizes: Sizes, data_dir: Path) -> Stack:
    """The generated county in `data_dir` (a copy of `--console-county` if given), its
    servers started."""
    from gongkai.develop.history import Scale, generate

    stack = Stack(data_dir)
    if sizes.console_county is not None:
        await asyncio.to_thread(copy_kept, sizes.console_county, data_dir)
        await asyncio.to_thread(stack.start_servers)
        return stack
    await asyncio.to_thread(stack.start_servers)
    key, public = signing_key(data_dir)
    scale = Scale(
        sizes.console_townships, sizes.console_branches, sizes.console_members, sizes.console_years
    )
    with bench.console.status(f"generating a county: {scale} ..."):
        started = time.perf_counter()
        events = await generate(
            scale,
            database_url=str(stack.database_url),
            nats_url=str(stack.nats_url),
            key=key,
            keys_dir=public.parent,
            progress=lambda: None,
        )
    bench.console.print(f"county generated in {time.perf_counter() - started:.0f} s: {events}")
    return stack


async def _people(identity: str, token: str, sizes: Sizes) -> list[Person]:
    """The people measured, with accounts activated (a few at a time: argon2id is dear)."""
    accounts = Accounts(identity, token)
    try:
        expected = sizes.console_townships * (1 + sizes.console_branches * sizes.console_members)
        posts = await accounts.posts(expected)
        heads = {org for held in posts.values() for r, org in held if r == "township_committee"}
        wanted = shares(sizes.console_people)
        granted = [(role, COUNTY[0]) for role in COUNTY_POSTS for _ in range(wanted[role])]
        granted += [("township_office", t) for t in sorted(heads)]
        for n, (role, org) in enumerate(granted):
            posts[await accounts.grant(role, org, n)] = [(role, org)]
        people = choose(posts, sizes.console_people)
        for n, person in enumerate(people):
            person.login = f"139{n:08d}"
        gate = asyncio.Semaphore(4)

        async def activated(person: Person) -> None:
            async with gate:
                await accounts.activate(person)

        await asyncio.gather(*(activated(p) for p in people))
        return people
    finally:
        await accounts.close()


async def _walk(
    walker: Walker,
    clicks: int,
    think: float,
    rng: random.Random,
    visit: Callable[[Walker, str], Awaitable[object]],
) -> None:
    await asyncio.sleep(rng.uniform(0, think))  # people do not all start at once
    for n in range(clicks):
        await visit(walker, walker.pages[n % len(walker.pages)])
        await asyncio.sleep(think * rng.uniform(0.5, 1.5))


async def measure(bench: Bench, sizes: Sizes) -> list[Figure]:
    rng = random.Random(18)
    data_dir = bench.tmp / "county"
    stack = await _county(bench, sizes, data_dir)
    try:
        return await _measure_on(bench, sizes, stack, rng)
    finally:
        await asyncio.to_thread(stack.stop)


async def _measure_on(bench: Bench, sizes: Sizes, stack: Stack, rng: random.Random) -> list[Figure]:
    offset = free_offset(rng)
    stack.name_issuer(SERVICES["identity"][1] + offset)
    with bench.console.status("starting the stack (identity, services, console) ..."):
        for service in sorted(SERVICES, key=lambda name: name != "identity"):
            await asyncio.to_thread(stack.start_service, service, SERVICES[service][1] + offset)
        console = await asyncio.to_thread(
            stack.start_service,
            "console",
            FRONTS["console"][1] + offset,
            "gongkai.bench.console_app",
        )
    identity = f"http://127.0.0.1:{SERVICES['identity'][1] + offset}"
    urls = {name: f"http://127.0.0.1:{port + offset}" for name, (_, port) in SERVICES.items()}
    key, _ = signing_key(stack.data_dir)  # stamps the identity service's issuer now
    admin = key.issue(subject="bench-admin", role="county_admin", org=COUNTY[0])
    with bench.console.status(f"accounts for {sizes.console_people} people ..."):
        people = await _people(identity, admin, sizes)
    limits = httpx.Limits(max_connections=4, max_keepalive_connections=4)
    with bench.console.status("signing everyone in ..."):
        signins: list[float] = []
        walkers = []
        for person in people:  # one at a time, as the sign-in's cost is measured too
            started = time.perf_counter()
            walkers.append(Walker(person, await sign_in(console, person, limits)))
            signins.append((time.perf_counter() - started) * 1000)
    routes = await asyncio.to_thread(console_routes)
    try:
        visits: list[Visit] = []  # under load
        alone: list[Visit] = []  # one person at a time
        raw: dict[str, list[float]] = {}
        recorded: dict[tuple[str, str], list[tuple[str, str, float]]] = {}

        async def on_console(w: Walker, path: str, into: list[Visit] = visits) -> str:
            start = time.perf_counter()
            try:
                answer = await w.browser.get(f"{console}{path}")
            except httpx.HTTPError:  # reported as an answer other than 200: the run goes on
                into.append(Visit(route_of(path, routes), ms_since(start), 0, []))
                return ""
            ms = ms_since(start)
            calls = [
                c
                for r in (*answer.history, answer)
                for c in parse_server_timing(r.headers.get("server-timing", ""))
            ]
            into.append(Visit(route_of(path, routes), ms, answer.status_code, calls))
            recorded[(w.person.login, path)] = calls
            return answer.text

        with bench.console.status("each person's pages, one person at a time ..."):
            for w in walkers:
                menu = [path for path, _ in MENUS.get(w.person.role, [])]
                seen: dict[str, int] = {}
                w.pages = list(menu)
                for path in menu:
                    w.pages += details(await on_console(w, path, alone), set(menu), routes, seen)
                for path in w.pages[len(menu) :]:
                    await on_console(w, path, alone)
        tokens: dict[str, str] = {}  # one a person, as the console holds one a session
        raw_errors: list[str] = []
        raw_http = httpx.AsyncClient(timeout=60, limits=RAW_LIMITS)

        async def on_services(w: Walker, path: str) -> None:
            """The page's calls, straight to the services with the person's post."""
            if w.person.login not in tokens:
                p = w.person
                tokens[p.login] = key.issue(subject=p.person_id, role=p.role, org=p.org)
            token = tokens[w.person.login]
            calls = recorded.get((w.person.login, path), [])
            if not calls:
                return
            start = time.perf_counter()
            for service, call, _ in calls:
                method, target = call.split(" ", 1)
                try:
                    answer = await raw_http.request(
                        method, urls[service] + target, headers={"Authorization": f"Bearer {token}"}
                    )
                except httpx.HTTPError as error:  # reported, not raised: the run goes on
                    raw_errors.append(f"{call}: {error!r}")
                    return
                if answer.status_code >= 400:
                    raw_errors.append(f"{call}: {answer.status_code}")
            raw.setdefault(route_of(path, routes), []).append((time.perf_counter() - start) * 1000)

        clicks, think = sizes.console_clicks, sizes.console_think
        pages = sum(len(w.pages) for w in walkers)
        with bench.console.status(
            f"{len(walkers)} people clicking through {pages} pages, {clicks} clicks each ..."
        ):
            started = time.perf_counter()
            await asyncio.gather(
                *(
                    _walk(w, clicks, think, random.Random(n), on_console)
                    for n, w in enumerate(walkers)
                )
            )
            took = time.perf_counter() - started
        with bench.console.status("the same calls straight to the services ..."):
            await asyncio.gather(
                *(
                    _walk(w, clicks, think, random.Random(n), on_services)
                    for n, w in enumerate(walkers)
                )
            )
        await raw_http.aclose()
    finally:
        for w in walkers:
            await w.browser.aclose()
    rows = summarise(visits, alone, raw)
    return _report(bench, sizes, people, rows, visits, signins, took, raw_errors)


def _report(
    bench: Bench,
    sizes: Sizes,
    people: list[Person],
    rows: list[Row],
    visits: list[Visit],
    signins: list[float],
    took: float,
    raw_errors: list[str],
) -> list[Figure]:
    errors = [v for v in visits if v.status != 200]
    table = Table(
        title=f"console: {len(people)} signed-in people clicking through their pages (ms)"
    )
    columns = ("page", "n", "p50", "p95", "p99", "alone p50", "raw API p95", "calls", "met?")
    table.add_column(columns[0], min_width=max(len(r.label) for r in rows))
    for column in columns[1:]:
        table.add_column(column, justify="right")
    figures = []
    for row in rows:
        shown = row.label or "all pages"
        table.add_row(
            shown,
            str(row.n),
            *(f"{ms:.0f}" if ms is not None else "" for ms in (row.p50, row.p95, row.p99)),
            *(f"{ms:.0f}" if ms is not None else "" for ms in (row.alone, row.raw)),
            f"{row.calls:.1f}",
            "yes" if row.p95 <= P95_LIMIT else "NO",
        )
        figures.append(latency(f"p95: {shown}", row.p95, target=P95_LIMIT))
    bench.console.print(table, width=max(bench.console.width, 140), crop=False)
    roles: dict[str, int] = {}
    for p in people:
        roles[p.role] = roles.get(p.role, 0) + 1
    bench.console.print(
        f"people: {', '.join(f'{r} {n}' for r, n in roles.items())}; {len(visits)} pages in"
        f" {took:.0f} s ({len(visits) / took:.1f} pages/s), think time {sizes.console_think} s;"
        f" sign-in (console → identity → password{', code' if roles.get('auditor') else ''}"
        f" → hat → console) p50 {percentile(signins, 50):.0f} ms,"
        f" p95 {percentile(signins, 95):.0f} ms;"
        f" answers other than 200: {len(errors)}"
        + (f" (first: {errors[0].label} {errors[0].status})" if errors else "")
        + f"; raw calls refused or failed: {len(raw_errors)}"
        + (f" (first: {raw_errors[0]})" if raw_errors else "")
    )
    figures.append(
        Figure("answers other than 200", float(len(errors)), "answers", target=0, higher=False)
    )
    return figures
