"""The console benchmark's own logic (`gongkai bench console`, gongkai/bench/console*.py),
without servers: which route a path is, which links are detail pages to visit, who is chosen
to sign in, the figures per page, and the Server-Timing record of a page's service calls; and
what the benchmark changed in the console: the menu's 待办 count kept for half a minute."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
from fastapi import FastAPI, Request

from gongkai.bench.console import Visit, console_routes, details, route_of, summarise
from gongkai.bench.console_app import ServerTiming, parse_server_timing, server_timing, timed
from gongkai.bench.console_people import choose, shares
from services.console.app import create_app
from services.console.calls import Services
from services.console.session import SESSION_COOKIE, Sealer, Session
from services.console.settings import ConsoleSettings
from services.console.web import TODO_SECONDS


def test_a_path_is_labelled_by_the_console_route_that_serves_it() -> None:
    routes = console_routes()
    assert route_of("/pledges/p2027-m-1", routes) == "/pledges/{pledge_id}"
    assert route_of("/pledges/p2027-m-1/letter", routes) == "/pledges/{pledge_id}/letter"
    assert route_of("/township?township_id=t-1&page=2", routes) == "/township"
    assert route_of("/no-such-page", routes) == "/no-such-page"


def test_detail_pages_are_links_to_pages_not_menus_sign_in_files_or_downloads() -> None:
    routes = console_routes()
    page = """
      <a href="/">待办</a> <a href="/branch">支部承诺</a> <a href="/static/console.css">
      <a href="/signin?switch=1">切换身份</a> <a href="/township/ledger.xlsx?year=2027">Excel</a>
      <a href="/pledges/p-1">一</a> <a href="/pledges/p-2">二</a> <a href="/pledges/p-1">一</a>
      <a href="/pledges/p-3">三</a> <a href="/township?township_id=t-1&amp;page=2">下一页</a>
      <a href="https://example.org/">外</a>
    """
    seen: dict[str, int] = {}
    found = details(page, {"/", "/branch"}, routes, seen)
    assert found == ["/pledges/p-1", "/pledges/p-2", "/township?township_id=t-1&page=2"]
    assert seen == {"/pledges/{pledge_id}": 2, "/township": 1}
    # a second page of the same person adds no third pledge
    assert details('<a href="/pledges/p-9">', {"/"}, routes, seen) == []


def test_fifty_people_wear_every_post_and_a_secretary_is_measured_as_the_secretary() -> None:
    posts: dict[str, list[tuple[str, str]]] = {}
    for t in range(5):
        posts[f"head-{t}"] = [("township_committee", f"t-{t}")]
        posts[f"office-{t}"] = [("township_office", f"t-{t}")]
        for b in range(3):
            branch = f"b-{t}-{b}"
            posts[f"sec-{t}-{b}"] = [("member", branch), ("branch_secretary", branch)]
            for m in range(6):
                posts[f"m-{t}-{b}-{m}"] = [("member", branch)]
    for n in range(2):
        posts[f"admin-{n}"] = [("county_admin", "c")]
        posts[f"auditor-{n}"] = [("auditor", "c")]
    wanted = shares(50)
    assert sum(wanted.values()) == 50
    assert wanted == {
        "county_admin": 2,
        "auditor": 2,
        "township_office": 5,
        "township_committee": 5,
        "branch_secretary": 12,
        "member": 24,
    }
    chosen = choose(posts, 50)
    assert len(chosen) == 50
    assert len({p.person_id for p in chosen}) == 50  # nobody twice
    secretaries = [p for p in chosen if p.role == "branch_secretary"]
    assert all(p.person_id.startswith("sec-") for p in secretaries)
    assert not any(p.person_id.startswith("sec-") for p in chosen if p.role == "member")
    # spread over the places: every township's office and head, members from many branches
    assert {p.org for p in chosen if p.role == "township_office"} == {f"t-{t}" for t in range(5)}
    assert len({p.org for p in chosen if p.role == "member"}) == 15


def test_each_page_and_all_pages_have_their_percentiles_beside_the_raw_calls() -> None:
    visits = [Visit("/branch", float(ms), 200, [("pledge", "GET /x", 1.0)]) for ms in range(1, 101)]
    visits += [Visit("/", 500.0, 200, []) for _ in range(100)]
    alone = [Visit("/branch", 20.0, 200, []), Visit("/", 10.0, 200, [])]
    rows = {r.label: r for r in summarise(visits, alone, {"/branch": [5.0, 7.0]})}
    branch = rows["/branch"]
    assert (branch.n, branch.p50, branch.p95, branch.p99) == (100, 51.0, 95.0, 99.0)
    assert (branch.alone, branch.raw, branch.calls) == (20.0, 7.0, 1.0)
    assert (rows["/"].raw, rows["/"].p95) == (None, 500.0)
    everything = rows[""]
    assert (everything.n, everything.p50, everything.p95) == (200, 500.0, 500.0)
    assert (everything.calls, everything.raw, everything.alone) == (0.5, 7.0, 10.0)


def test_a_server_timing_header_reads_back_as_the_calls_it_records() -> None:
    calls = [
        ("pledge", "GET /v1/pledges?year=2027&limit=500", 12.25),
        ("notification", "GET /v1/inbox", 3.0),
    ]
    header = server_timing(calls)
    assert header.startswith('pledge;dur=12.2;desc="GET /v1/pledges?year=2027&limit=500", ')
    assert parse_server_timing(header) == [
        ("pledge", "GET /v1/pledges?year=2027&limit=500", 12.2),
        ("notification", "GET /v1/inbox", 3.0),
    ]
    assert parse_server_timing("") == []


async def test_a_page_answers_with_the_service_calls_it_made(tmp_path: Path) -> None:
    """The bench's console process: every call through `Services` is in the page's header."""
    service = FastAPI()

    @service.get("/v1/{name}")
    async def echo(name: str, request: Request) -> dict[str, str]:
        return {"name": name, "query": str(request.query_params)}

    services = Services(
        ConsoleSettings(session_key_file=tmp_path / "k", pledge_url="http://pledge"),
        transport=httpx.ASGITransport(app=service),
    )
    timed(services)
    page = FastAPI()

    @page.get("/page")
    async def a_page() -> dict[str, str]:
        first = await services.get("pledge", "/v1/branches", token="t", year=2027, skip=None)
        await services.get("pledge", "/v1/counties", token="t")
        return {"first": str(first["query"])}

    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=ServerTiming(page)), base_url="http://console"
    ) as browser:
        answer = await browser.get("/page")
        again = await browser.get("/page")
    await services.close()
    assert answer.json() == {"first": "year=2027"}
    recorded = parse_server_timing(answer.headers["server-timing"])
    assert [(s, c) for s, c, _ in recorded] == [
        ("pledge", "GET /v1/branches?year=2027"),
        ("pledge", "GET /v1/counties"),
    ]
    assert all(ms >= 0 for _, _, ms in recorded)
    assert len(parse_server_timing(again.headers["server-timing"])) == 2  # per request


async def test_the_menus_count_is_kept_for_half_a_minute_and_asked_again_after_a_read(
    tmp_path: Path,
) -> None:
    """The 待办 count was a third of the console's calls (every page asked): it is kept in the
    session for TODO_SECONDS; 待办 itself shows the inbox's own count, and marking a notice
    read asks again on the next page. (The notification service stood in for, as in
    tests/unit/test_console.py; the pages against the real services: tests/e2e.)"""
    asked: list[str] = []
    unread = {"count": 3}

    def notification(request: httpx.Request) -> httpx.Response:
        asked.append(f"{request.method} {request.url.path} {request.url.query.decode()}")
        if request.method == "POST":
            unread["count"] -= 1
            return httpx.Response(200, json={"id": "n-1"})
        return httpx.Response(200, json={"unread": unread["count"], "notices": []})

    settings = ConsoleSettings(session_key_file=tmp_path / "key")
    app = create_app(settings, transport=httpx.MockTransport(notification))
    console = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://console")
    sealer = Sealer((tmp_path / "key").read_bytes())
    session = Session(
        access_token="at",
        refresh_token=None,
        expires_at=time.time() + 600,
        id_token=None,
        person="p-1",
        name="张三",
        role="county_admin",
        org=None,
    )
    console.cookies.set(SESSION_COOKIE, sealer.seal_session(session))

    def badge(page: httpx.Response) -> str:
        return page.text.split('<span class="badge">')[1].split("<")[0]

    first = await console.get("/county")
    second = await console.get("/county")
    assert badge(first) == badge(second) == "3"
    assert len(asked) == 1  # asked once, kept in the (re-sealed) cookie

    await console.post("/notices/n-1/read", data={"csrf": session.csrf, "key": "k"})
    after = await console.get("/county")
    assert badge(after) == "2"  # asked again after the read
    assert len(asked) == 3

    stale = sealer.session(after.cookies[SESSION_COOKIE].strip('"'), idle_seconds=60)
    assert stale is not None
    assert stale.todo == 2
    stale.todo_at -= TODO_SECONDS + 1  # half a minute on
    console.cookies.clear()
    console.cookies.set(SESSION_COOKIE, sealer.seal_session(stale))
    await console.get("/county")
    assert len(asked) == 4
