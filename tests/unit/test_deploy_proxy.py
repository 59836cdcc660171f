"""Issue 17's "/vote on the public web": the production reverse proxy
(deploy/nginx/default.conf.template, service `proxy` of docker-compose.production.yml) puts
the evaluation service's voting page on the public host beside the board, and on the console's
host; the services it sends to believe its X-Forwarded-For and no one else's. Issues 16 and 18:
the console's host in front of the two console replicas (a browser kept on one), and the
identity host with the sign-in pages and OpenID Connect endpoints alone.

nginx itself is not run here: the template is filled in as the nginx image does (envsubst of
the variables its environment defines), parsed, and each request path is routed by nginx's
rules for the location kinds the file uses (exact `=`, then the longest prefix; the file has
no regular-expression locations, which this test checks, so these rules are the whole story)."""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from gongkai.operator.services import FRONTS, SERVICES
from services.console.session import ROUTE_COOKIE
from services.evaluation.api.voting import router as voting
from services.identity.api import ROUTERS as IDENTITY_ROUTERS
from shared.http import OPS_PATHS

ROOT = Path(__file__).parents[2]
TEMPLATE = ROOT / "deploy" / "nginx" / "default.conf.template"
PUBLIC, CONSOLE, IDENTITY = "gongkai.minqin.gov.cn", "console.minqin.gov.cn", "id.minqin.gov.cn"
HOSTS = {
    "GONGKAI_PROXY_PUBLIC_HOST": PUBLIC,
    "GONGKAI_PROXY_CONSOLE_HOST": CONSOLE,
    "GONGKAI_PROXY_IDENTITY_HOST": IDENTITY,
}


@dataclass
class Directive:
    name: str
    args: list[str]
    block: list[Directive] | None = None
    children: list[Directive] = field(default_factory=list)

    def all(self, name: str) -> list[Directive]:
        return [d for d in self.block or [] if d.name == name]

    def one(self, name: str) -> Directive:
        [found] = self.all(name)
        return found


def parse(text: str) -> Directive:
    """nginx's configuration syntax: directives ending in `;`, blocks in braces, `#` comments,
    quoted strings."""
    tokens = re.findall(r"\"[^\"]*\"|'[^']*'|[{};]|[^\s{};\"']+", re.sub(r"#[^\n]*", "", text))
    root = Directive("main", [], [])
    stack, words = [root], []
    for token in tokens:
        if token == ";":
            assert words, "an empty directive"
            stack[-1].block.append(Directive(words[0], words[1:]))  # type: ignore[union-attr]
            words = []
        elif token == "{":
            block = Directive(words[0], words[1:], [])
            stack[-1].block.append(block)  # type: ignore[union-attr]
            stack.append(block)
            words = []
        elif token == "}":
            assert not words, f"unterminated directive {words}"
            stack.pop()
        else:
            words.append(token.strip("\"'"))
    assert len(stack) == 1, "unbalanced braces"
    assert not words, f"unterminated directive {words}"
    return root


def production() -> dict[str, Any]:
    base = yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))
    file = yaml.safe_load((ROOT / "docker-compose.production.yml").read_text(encoding="utf-8"))
    services = base["services"] | {
        name: base["services"].get(name, {}) | spec for name, spec in file["services"].items()
    }
    return {"services": services, "networks": file["networks"]}


def filled_in(environment: dict[str, str]) -> str:
    """The template as the nginx image writes it out: only the variables its environment
    defines are replaced; nginx's own `$variables` stay."""
    text = TEMPLATE.read_text(encoding="utf-8")
    for name, value in environment.items():
        text = text.replace("${" + name + "}", value)
    return text


def config() -> Directive:
    proxy = production()["services"]["proxy"]
    assert set(proxy["environment"]) == set(HOSTS)
    text = filled_in(HOSTS)
    assert "${GONGKAI_" not in text  # every variable the template uses, compose gives
    return parse(text)


def server(http: Directive, host: str) -> Directive:
    on_80 = [s for s in http.all("server") if s.one("listen").args[0] == "80"]
    named = [s for s in on_80 if any(host in n.args for n in s.all("server_name"))]
    if not named:  # nginx answers with the default server of the port
        named = [s for s in on_80 if "default_server" in s.one("listen").args]
    [found] = named
    return found


def route(http: Directive, host: str, path: str) -> str:
    """Where nginx sends `path` on `host`: `proxy_pass <target>` or `return <status>`."""
    chosen = server(http, host)
    locations = chosen.all("location")
    exact = [loc for loc in locations if loc.args[0] == "=" and loc.args[1] == path]
    prefixes = [
        loc
        for loc in locations
        if loc.args[0] != "=" and path.startswith(loc.args[-1])
        if len(loc.args) == 1 or loc.args[0] == "^~"
    ]
    if exact:
        found = exact[0]
    elif prefixes:
        found = max(prefixes, key=lambda loc: len(loc.args[-1]))
    else:
        found = chosen
    for directive in found.block or []:
        if directive.name in ("proxy_pass", "return"):
            return f"{directive.name} {directive.args[0]}"
    raise AssertionError(f"{host}{path} goes nowhere")


def test_the_public_host_serves_the_voting_page_and_the_board() -> None:
    http = config()
    for loc in (loc for s in http.all("server") for loc in s.all("location")):
        assert loc.args[0] in ("=", "^~") or len(loc.args) == 1, loc  # no regex locations
    vote_paths = {r.path for r in voting.routes if getattr(r, "path", "").startswith("/vote")}
    page = (ROOT / "services/evaluation/templates/vote.html").read_text(encoding="utf-8")
    posted = set(re.findall(r'(?:action|formaction)="(/[^"]*)"', page))
    assert {"/vote", "/vote/ballot"} <= vote_paths
    assert posted <= vote_paths
    for host in (PUBLIC, CONSOLE):
        for path in vote_paths | posted:
            assert route(http, host, path) == "proxy_pass http://evaluation", (host, path)
    for path in ("/", "/counties/minqin", "/townships/t-1", "/pledges/p-1", "/voters"):
        assert route(http, PUBLIC, path) == "proxy_pass http://board", path
    for path in ("/metrics", "/readyz"):
        assert route(http, PUBLIC, path) == "return 404", path
    assert route(http, CONSOLE, "/") == "proxy_pass http://console"
    assert route(http, CONSOLE, "/pledge") == "proxy_pass http://console"
    assert route(http, "203.0.113.9", "/vote") == "return 444"  # not our host name

    # the upstreams are the replicas on their ports
    upstreams = {u.args[0]: {s.args[0] for s in u.all("server")} for u in http.all("upstream")}
    port = {name: port for name, (_, port) in (SERVICES | FRONTS).items()}
    assert upstreams == {
        "evaluation": {f"evaluation:{port['evaluation']}", f"evaluation-2:{port['evaluation']}"},
        "board": {f"notification:{port['notification']}", f"notification-2:{port['notification']}"},
        "console": {f"console:{port['console']}", f"console-2:{port['console']}"},
        "identity": {f"identity:{port['identity']}", f"identity-2:{port['identity']}"},
    }


def test_the_services_behind_the_proxy_believe_its_forwarded_address_alone() -> None:
    http = config()
    headers = {h.args[0]: h.args[1] for h in http.all("proxy_set_header")}
    assert headers["X-Forwarded-For"] == "$remote_addr"  # what it saw, never a client's header
    assert "non_idempotent" not in http.one("proxy_next_upstream").args  # a ballot once
    logged = " ".join(http.one("log_format").args)
    assert "$uri" in logged
    assert "$request_uri" not in logged
    assert "$args" not in logged

    compose = production()
    services = compose["services"]
    proxy = services["proxy"]
    address = proxy["networks"]["edge"]["ipv4_address"]
    [subnet] = [c["subnet"] for c in compose["networks"]["edge"]["ipam"]["config"]]
    assert ipaddress.ip_address(address) in ipaddress.ip_network(subnet)
    mount = "./deploy/nginx/default.conf.template:/etc/nginx/templates/default.conf.template:ro"
    assert mount in proxy["volumes"]
    servers = [s.args[0] for u in http.all("upstream") for s in u.all("server")]
    behind = {s.split(":")[0] for s in servers}
    assert behind == {
        *("evaluation", "evaluation-2", "notification", "notification-2"),
        *("identity", "identity-2", "console", "console-2"),
    }
    for name in behind - {"console", "console-2"}:  # the console counts no addresses
        spec = services[name]
        assert "edge" in spec["networks"], name
        assert spec["environment"]["GONGKAI_TRUSTED_PROXIES"] == address, name
    for name in ("evaluation", "evaluation-2"):  # the slips' links point at the public host
        assert services[name]["environment"]["GONGKAI_PUBLIC_BASE_URL"].startswith(
            "${GONGKAI_PUBLIC_BASE_URL:?"
        )
    assert set(proxy["depends_on"]) == behind  # nginx looks its upstreams up as it starts


def test_the_identity_host_serves_the_sign_in_and_nothing_else_of_identity() -> None:
    """Issues 16 and 18 behind the proxy: the identity host (the issuer's address) sends every
    sign-in page, every form those pages post to, and the OpenID Connect endpoints to the
    identity replicas; the identity service's API (/v1), metrics, readiness and API docs
    stay inside. The console's own /signin and /callback are the console's, on its host."""
    http = config()
    paths = {getattr(r, "path", "") for router in IDENTITY_ROUTERS for r in router.routes}
    inside = {p for p in paths if p.startswith("/v1/")}
    public = paths - inside
    pages = "".join(
        page.read_text(encoding="utf-8")
        for page in (ROOT / "services/identity/templates").glob("*.html")
    )
    linked = set(re.findall(r'(?:action|href)="(/[^"?{]*)', pages))  # path only
    assert linked <= public, linked - public
    assert {"/authorize", "/signin", "/token", "/revoke", "/upstream/callback"} <= public
    assert {"/.well-known/openid-configuration", "/.well-known/jwks.json"} <= public
    for path in public:
        assert route(http, IDENTITY, path) == "proxy_pass http://identity", path
    for path in inside | OPS_PATHS | {"/docs", "/openapi.json", "/"}:
        assert route(http, IDENTITY, path) == "return 404", path
    for path in ("/signin", "/callback", "/signout", "/static/console.css"):
        assert route(http, CONSOLE, path) == "proxy_pass http://console", path


def test_a_browser_stays_on_one_console_replica_by_the_cookie_set_at_sign_in() -> None:
    """The console shares a token's refresh among one replica's requests only
    (services/console/signin.py): the proxy hashes the cookie the console sets at sign-in
    (an empty key, before it, spreads requests round robin); the identity replicas, which
    keep nothing in memory, take requests in turn."""
    upstreams = {u.args[0]: u for u in config().all("upstream")}
    assert upstreams["console"].one("hash").args == [f"$cookie_{ROUTE_COOKIE}", "consistent"]
    assert upstreams["identity"].all("hash") == []
