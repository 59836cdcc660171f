"""A person signs in through the identity service's provider and acts on the pledge service
with the token: authorization code with PKCE, the choice of post, refresh tokens that rotate
(a reused one revokes its family), and what is refused (a replayed code, a wrong verifier, an
unregistered redirect URI, a token signed by another key). Over real HTTP, PostgreSQL, NATS."""

from __future__ import annotations

import re
import time
from datetime import timedelta
from pathlib import Path

import jwt
import pyotp
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from services.identity.projections import READ_MODELS
from tests.e2e.helpers import eventually, ok
from tests.e2e.identity_helpers import (
    LOGIN,
    PASSWORD,
    REDIRECT,
    authorize_url,
    csrf_of,
    identity_beside_pledge,
    pkce,
)
from tests.support import Servers, rebuilt_as_live


async def test_sign_in_choose_a_post_act_refresh_and_what_is_refused(
    servers: Servers, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    async with identity_beside_pledge(servers, monkeypatch, tmp_path) as world:
        http, secretary = world.identity.client, world.directory.secretary
        code = await world.activation_code(secretary)

        # the discovery document and the keys (the development key among them)
        config = ok(await http.get("/.well-known/openid-configuration"))
        assert config["code_challenge_methods_supported"] == ["S256"]
        kids = {k["kid"] for k in ok(await http.get("/.well-known/jwks.json"))["keys"]}
        assert "local-dev" in kids
        assert len(kids) == 2

        # an unregistered redirect URI is never redirected to
        _, challenge = pkce()
        evil = authorize_url(world.base, challenge).replace("127.0.0.1%3A9", "evil.example")
        refused = await http.get(evil)
        assert refused.status_code == 400
        assert "location" not in refused.headers

        # first sign-in with the activation code; a wrong code gets nothing
        page = await http.get("/activate")
        form = {"csrf": csrf_of(page.text), "login_name": LOGIN, "password": PASSWORD}
        form["password2"] = PASSWORD
        assert (
            await http.post("/activate", data={**form, "code": "AAAA-BBBB-CCCC"})
        ).status_code == 401
        weak = {**form, "code": code, "password": "weakpass", "password2": "weakpass"}
        refused = await http.post("/activate", data=weak)
        assert refused.status_code == 422
        assert "至少 3 类" in refused.text  # the policy's reason, on the page; the code unused
        assert (await http.post("/activate", data={**form, "code": code})).status_code == 200

        # the secretary is also a member: she chooses the post the token is for
        verifier, challenge = pkce()
        hats = await http.get(authorize_url(world.base, challenge))
        assert "支部书记" in hats.text
        assert "党员" in hats.text
        token = re.search(r'name="request_token" value="([^"]+)"', hats.text)
        assert token
        chosen = await http.post(
            "/authorize/hat",
            data={
                "csrf": csrf_of(hats.text),
                "request_token": token.group(1),
                "role": "branch_secretary",
                "org": world.directory.branch,
            },
        )
        assert chosen.status_code == 303
        location = chosen.headers["location"]
        assert location.startswith(REDIRECT)
        assert "state=s1" in location
        auth_code = re.search(r"code=([^&]+)", location)
        assert auth_code
        exchange = {
            "grant_type": "authorization_code",
            "code": auth_code.group(1),
            "client_id": "console",
            "redirect_uri": REDIRECT,
        }

        # a wrong verifier, a wrong redirect URI: refused, the code still unused
        wrong = await http.post("/token", data={**exchange, "code_verifier": "x" * 43})
        assert wrong.json()["error"] == "invalid_grant"
        moved = {**exchange, "redirect_uri": REDIRECT + "2", "code_verifier": verifier}
        assert (await http.post("/token", data=moved)).json()["error"] == "invalid_grant"
        tokens = ok(await http.post("/token", data={**exchange, "code_verifier": verifier}))
        claims = jwt.decode(tokens["access_token"], options={"verify_signature": False})
        assert (claims["sub"], claims["role"], claims["org"]) == (
            secretary,
            "branch_secretary",
            world.directory.branch,
        )
        assert claims["exp"] - claims["iat"] == 300

        # the token acts on the pledge service as the branch's secretary
        bearer = {"Authorization": f"Bearer {tokens['access_token']}"}
        body = {"year": 2027, "branch_id": world.directory.branch}
        ok(await world.pledge.client.post("/v1/pledges", json=body, headers=bearer), 201)

        # refresh tokens rotate; the old one used again revokes the whole family
        refresh = {"grant_type": "refresh_token", "client_id": "console"}
        first = tokens["refresh_token"]
        second = ok(await http.post("/token", data={**refresh, "refresh_token": first}))
        assert second["refresh_token"] != first
        reused = await http.post("/token", data={**refresh, "refresh_token": first})
        assert reused.json()["error"] == "invalid_grant"
        revoked = await http.post(
            "/token", data={**refresh, "refresh_token": second["refresh_token"]}
        )
        assert revoked.json()["error"] == "invalid_grant"

        # a replayed authorization code is refused
        replay = await http.post("/token", data={**exchange, "code_verifier": verifier})
        assert replay.json()["error"] == "invalid_grant"

        # a token signed by another key, naming identity's key: refused everywhere
        kid = jwt.get_unverified_header(tokens["access_token"])["kid"]
        forged = jwt.encode(
            {**claims, "iat": int(time.time())},
            Ed25519PrivateKey.generate(),
            algorithm="EdDSA",
            headers={"kid": kid},
        )
        forged_bearer = {"Authorization": f"Bearer {forged}"}
        assert (
            await world.pledge.client.post("/v1/pledges", json=body, headers=forged_bearer)
        ).status_code == 401
        person = f"/v1/people/{secretary}"
        assert (await http.get(person, headers=forged_bearer)).status_code == 401
        assert (await http.get(person, headers=bearer)).status_code == 200

        # an auditor replays who could do what: the secretary's posts now, and before
        auditor = world.servers.auth("auditor", world.directory.county)
        now = ok(await http.get(f"/v1/people/{secretary}/posts", headers=auditor))
        assert {p["role"] for p in now["posts"]} == {"member", "branch_secretary"}
        before = await http.get(
            f"/v1/people/{secretary}/posts", params={"at": "2020-01-01"}, headers=auditor
        )
        assert ok(before)["posts"] == []
        stranger = world.servers.auth("member", world.directory.branch, world.directory.member)
        assert (
            await http.get(f"/v1/people/{secretary}/posts", headers=stranger)
        ).status_code == 403

        # an integration client gets a token by client credentials
        admin = world.servers.auth("county_admin", world.directory.county)
        client = ok(
            await http.post(
                "/v1/clients",
                json={"name": "省平台", "county_id": world.directory.county},
                headers=admin,
            ),
            201,
        )
        granted = ok(
            await http.post(
                "/token",
                data={"grant_type": "client_credentials"},
                auth=(client["client_id"], client["client_secret"]),
            )
        )
        integration = jwt.decode(granted["access_token"], options={"verify_signature": False})
        assert (integration["role"], integration["org"]) == ("integration", "minqin")
        wrong_secret = await http.post(
            "/token",
            data={"grant_type": "client_credentials"},
            auth=(client["client_id"], "wrong"),
        )
        assert wrong_secret.status_code == 401

        # no county provider linked here: the page says so, nothing is begun
        assert (await http.get("/upstream/begin")).status_code == 404

        metrics = (await http.get("/metrics")).text
        assert 'gongkai_identity_sign_ins_total{outcome="signed_in"}' in metrics

        # locked by the county administrator: every service refuses her token at once
        lock = {"reason": "离职"}
        ok(await http.post(f"/v1/people/{secretary}/lock", json=lock, headers=admin))

        async def refused_everywhere() -> bool:
            pledges = await world.pledge.client.get("/v1/pledges", headers=bearer)
            return (
                pledges.status_code == 401
                and (await http.get(person, headers=bearer)).status_code == 401
            )

        await eventually(refused_everywhere)


async def test_brute_force_locks_the_account_in_postgresql_and_the_models_rebuild_equal(
    servers: Servers, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    async with identity_beside_pledge(servers, monkeypatch, tmp_path) as world:
        http, member = world.identity.client, world.directory.member
        code = await world.activation_code(member)
        page = await http.get("/activate")
        form = {"csrf": csrf_of(page.text), "login_name": LOGIN, "code": code}
        done = await http.post(
            "/activate", data={**form, "password": PASSWORD, "password2": PASSWORD}
        )
        assert done.status_code == 200
        attempt = {"csrf": csrf_of(page.text), "login_name": LOGIN, "password": "Wrong-2027"}
        answers = [(await http.post("/signin", data=attempt)).text for _ in range(5)]
        unknown = await http.post("/signin", data={**attempt, "login_name": "13900009999"})
        assert unknown.status_code == 401
        assert answers[0] == unknown.text  # no account enumeration
        right = await http.post("/signin", data={**attempt, "password": PASSWORD})
        assert right.status_code == 401  # locked: the right password is refused alike
        pool = world.identity.runtime.pool
        bodies = [
            bytes(r["body"]).decode()
            for r in await pool.fetch("SELECT body FROM events ORDER BY position")
        ]
        locks = [b for b in bodies if '"PersonLocked"' in b]
        assert len(locks) == 1
        assert '"system:identity"' in locks[0]
        assert await pool.fetchval("SELECT locked FROM people WHERE person_id = $1", member)
        assert not [b for b in bodies if LOGIN in b or PASSWORD in b or code in b]
        assert "gongkai_identity_lockouts_total 1.0" in (await http.get("/metrics")).text
        await rebuilt_as_live(pool, READ_MODELS)
        # no missing CSRF token is accepted
        assert (await http.post("/signin", data={**attempt, "csrf": "x"})).status_code == 403

        # a county administrator enrols a one-time code at her first sign-in
        admin = world.servers.auth("county_admin", world.directory.county)
        county = world.directory.county
        registered = await http.post(
            "/v1/people", json={"name": "王管理", "county_id": county}, headers=admin
        )
        person = ok(registered, 201)["id"]
        grant = {"role": "county_admin", "org": county}
        ok(await http.post(f"/v1/people/{person}/posts", json=grant, headers=admin), 201)
        admin_code = await world.activation_code(person, "110101199003070011", "county_admin")
        first = {**form, "login_name": "110101199003070011", "code": admin_code}
        enrol = await http.post(
            "/activate", data={**first, "password": PASSWORD, "password2": PASSWORD}
        )
        secret = re.search(r'class="code">([A-Z2-7]+)<', enrol.text)
        assert secret, enrol.text
        wrong = await http.post("/signin/code", data={"csrf": csrf_of(enrol.text), "code": "1"})
        assert wrong.status_code == 401
        again = await http.post(
            "/signin", data={**attempt, "login_name": "110101199003070011", "password": PASSWORD}
        )
        assert "验证器" in again.text  # the enrolment again, with a new secret
        secret = re.search(r'class="code">([A-Z2-7]+)<', again.text)
        assert secret
        code_now = pyotp.TOTP(secret.group(1)).now()
        done = await http.post("/signin/code", data={"csrf": csrf_of(again.text), "code": code_now})
        assert "已登录" in done.text
        assert "县级管理员" in done.text

        # the session ends after 30 minutes idle: the next authorization asks to sign in
        _, challenge = pkce()
        assert (await http.get(authorize_url(world.base, challenge))).status_code == 303
        world.identity.clock.advance(timedelta(minutes=31))
        assert 'action="/signin"' in (await http.get(authorize_url(world.base, challenge))).text

        # the office's printable activation sheet (a reset: a new code, shown once)
        office = world.servers.auth("township_office", world.directory.township)
        sheet = await http.post(
            f"/v1/people/{member}/activation/sheet", json={"login_name": LOGIN}, headers=office
        )
        assert sheet.status_code == 200
        assert "账户激活通知书" in sheet.text
        assert re.search(r'class="code">[2-9A-Z]{4}-[2-9A-Z]{4}-[2-9A-Z]{4}<', sheet.text)

        # key rotation: a new key is published first, and signs only once every replica
        # has read it; the one before stays published
        provider = world.identity.runtime.components["provider"]
        signing = provider.keys[0][0]
        world.identity.clock.advance(timedelta(days=31))
        await provider.load_keys()
        published = {k["kid"] for k in ok(await http.get("/.well-known/jwks.json"))["keys"]}
        assert len(published) == 3  # the new key, the signing one, the development key
        assert provider.keys[0][0] == signing
        world.identity.clock.advance(timedelta(minutes=11))
        await provider.load_keys()
        assert provider.keys[0][0] != signing
        assert provider.keys[0][0] in published
