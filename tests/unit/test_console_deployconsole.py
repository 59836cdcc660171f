"""The console in containers (issues 18 and 22): `gongkai serve console` (the image's
entrypoint) runs it and nothing of the services; in production it refuses to make its own
session key (replicas share one file); and behind the reverse proxy it signs people in at
the identity service's public address (the issuer, which its own network need not reach)
while it redeems codes, reads keys, refreshes and revokes at the internal one. The compose
files and the proxy's configuration: tests/unit/test_deploy.py and
tests/unit/test_deploy_proxy.py."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import httpx
import pytest
from pydantic import ValidationError

from gongkai.operator.services import FRONTS
from services.console.app import create_app
from services.console.session import ROUTE_COOKIE, SESSION_COOKIE, SIGNIN_COOKIE, Sealer
from services.console.settings import ConsoleSettings
from tests.e2e.identity_helpers import PASSWORD, csrf_of, identity_beside_pledge
from tests.support import Servers
from tests.unit.test_service_imports import SERVE, foreign, loaded

# addresses no one here resolves: only a browser (through the proxy) reaches them
ISSUER = "https://id.minqin.invalid"
CONSOLE = "https://console.minqin.invalid"


def test_gongkai_serve_console_runs_the_console_and_imports_no_service() -> None:
    module, modules = loaded(SERVE, "console")
    assert module == FRONTS["console"][0]
    assert foreign(modules, "console") == []


def test_in_production_a_console_never_makes_its_own_session_key(tmp_path: Path) -> None:
    """Two replicas each making a key would each refuse the other's cookies: in production
    the key file must be there (the secret both mount); in development it is made once."""
    missing = tmp_path / "keys" / "console-session.key"
    with pytest.raises(ValidationError, match="session key file"):
        ConsoleSettings(environment="production", session_key_file=missing)
    assert not missing.exists()
    create_app(ConsoleSettings(session_key_file=missing))  # development: made here
    assert missing.is_file()
    assert ConsoleSettings(environment="production", session_key_file=missing)


async def test_behind_the_proxy_the_browser_goes_public_and_the_console_stays_inside(
    servers: Servers, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """The identity service names itself by its public address (ISSUER, unreachable here),
    the console knows it at its internal one too: the browser is sent to the public
    /authorize; the console redeems the code, checks the tokens against the keys, refreshes
    and revokes at sign-out, all inside. The browser's requests to the public host are what
    the proxy forwards: the same path at the internal address. The activation letter the
    office prints (asked for inside) sends the person to the public address too. And what two
    console replicas would do without the proxy keeping a browser on one: one replica shares a
    refresh among its requests, two refreshing one token at once end the person's token
    family."""
    async with identity_beside_pledge(
        servers, monkeypatch, tmp_path, redirect=f"{CONSOLE}/callback", issuer=ISSUER
    ) as world:
        inside = world.base
        settings = ConsoleSettings(
            session_key_file=tmp_path / "console.key",
            public_url=CONSOLE,
            identity_url=ISSUER,
            identity_internal_url=inside,
        )
        app = create_app(settings)
        console = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=CONSOLE)
        member, login = world.directory.member, "13800002222"
        assert world.signer is not None
        office = world.signer.auth("township_office", world.directory.township)
        sheet = await world.identity.client.post(  # the console asks inside; it is printed
            f"/v1/people/{member}/activation/sheet", json={"login_name": login}, headers=office
        )
        assert sheet.status_code == 200, sheet.text
        assert f"请在有效期内访问 {ISSUER}/activate" in sheet.text  # where the person goes
        [code] = re.findall(r'<td class="code">([^<]+)</td>', sheet.text)

        sent = await console.get("/signin")
        assert sent.status_code == 303
        public = sent.headers["location"]
        assert public.startswith(f"{ISSUER}/authorize?"), public
        assert SIGNIN_COOKIE in console.cookies

        browser = httpx.AsyncClient(base_url=inside)  # its requests as the proxy forwards them
        form = {"csrf": csrf_of((await browser.get("/activate")).text), "code": code}
        form |= {"login_name": login, "password": PASSWORD, "password2": PASSWORD}
        assert (await browser.post("/activate", data=form)).status_code == 200
        authorize = inside + public.removeprefix(ISSUER)
        back = await browser.get(authorize)
        assert back.status_code == 303, back.text
        callback = back.headers["location"]
        assert callback.startswith(f"{CONSOLE}/callback?"), callback

        signed_in = await console.get(callback)
        assert signed_in.status_code == 303, signed_in.text
        assert signed_in.headers["location"] == "/"
        sealer = Sealer((tmp_path / "console.key").read_bytes())
        session = sealer.session(console.cookies[SESSION_COOKIE].strip('"'), 60)
        assert session is not None
        assert (session.person, session.role) == (member, "member")
        assert console.cookies[ROUTE_COOKIE]  # the proxy keeps this browser on one replica

        # one replica: two requests refreshing one token at once make one rotation, inside
        one = app.state.console.identity
        fresh, same = await asyncio.gather(one.refresh(session), one.refresh(session))
        assert fresh is not None
        assert fresh is same
        assert fresh.refresh_token != session.refresh_token
        # two replicas (one key) refreshing it at once: a reuse, and the identity service ends
        # the family, the winner's new token with it: why the proxy keeps a browser on one
        other = create_app(settings).state.console.identity
        won = await asyncio.gather(one.refresh(fresh), other.refresh(fresh))
        [winner] = [s for s in won if s is not None]
        assert await other.refresh(winner) is None  # the person must sign in again

        # 退出: revoked inside, which ends the sign-in at the identity service too
        out = await console.post("/signout", data={"csrf": session.csrf})
        assert out.headers["location"] == "/signed-out"
        again = await browser.get(authorize)
        assert again.status_code == 200  # asked for a password, not let through
        assert 'action="/signin"' in again.text
        await browser.aclose()
