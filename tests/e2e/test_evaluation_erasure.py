"""A7 end to end: a member of the public registered as a rater with a name, phone and ID
number; the log and NATS carry them only sealed; the organiser sees them masked; erasure
destroys the key, every read model shows the person erased, the log still verifies, and a
rebuild from the log gives the same erased read models."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from datetime import timedelta
from typing import Any

import nats
from nats.js.api import ConsumerConfig, DeliverPolicy

from shared.envelope import GENESIS_HASH, EventEnvelope
from shared.personal import ERASED
from tests.e2e.evaluation_helpers import (
    START,
    caught_up,
    directory_copied,
    pledge_and_evaluation,
    read_model_rows,
)
from tests.e2e.helpers import Directory, event_count, eventually, ok
from tests.support import RunningService, Servers, rebuilt_as_live

NAME, PHONE, ID_NUMBER = "王小明", "13812345678", "11010519491231002X"
CAPTURE: dict[str, Any] = {"capture_output": True, "text": True}
PLAINTEXT = [NAME, PHONE, ID_NUMBER, "19491231", "王小"]


def assert_no_plaintext(raw: bytes, where: str) -> None:
    for value in PLAINTEXT:
        for form in (value.encode(), json.dumps(value).strip('"').encode()):
            assert form not in raw, f"{value!r} in plaintext in {where}"


async def published(servers: Servers, service: RunningService) -> list[tuple[bytes, bytes]]:
    """Every message of the service's JetStream stream: (headers as JSON, payload)."""
    nc = await nats.connect(servers.nats.url)
    try:
        js = nc.jetstream()
        subjects = service.subjects
        sub = await js.pull_subscribe(
            subjects.all("evaluation"),
            stream=subjects.stream("evaluation"),
            config=ConsumerConfig(deliver_policy=DeliverPolicy.ALL),
        )
        found: list[tuple[bytes, bytes]] = []
        while True:
            try:
                messages = await sub.fetch(100, timeout=1)
            except Exception:  # a fetch timeout: the stream is read to its end
                break
            for m in messages:
                found.append((json.dumps(dict(m.headers or {})).encode(), m.data))
                await m.ack()
        await sub.unsubscribe()
        return found
    finally:
        await nc.close()


async def log_verifies(service: RunningService) -> int:
    previous: dict[str, str] = {}
    checked = 0
    async for _, envelope in service.runtime.store.read_all():
        assert envelope.verifies_after(previous.get(envelope.partition, GENESIS_HASH)), envelope
        previous[envelope.partition] = envelope.hash
        checked += 1
    return checked


async def test_a_public_rater_is_sealed_shown_masked_and_erased(servers: Servers) -> None:
    async with pledge_and_evaluation(servers) as (pledge, evaluation, clock):
        d = await Directory(pledge.client, servers).build()
        await directory_copied(evaluation, d)
        e = evaluation.client
        opening = {"title": "群众评议", "year": 2027, "half": 1, "township_id": d.township}
        opening["opens_on"] = "2027-03-01"
        round_id = ok(await e.post("/v1/rounds", json=opening, headers=d.office), 201)["id"]
        raters_path = f"/v1/rounds/{round_id}/raters"

        # bad personal data: 422 naming the field, nothing appended
        before = await event_count(evaluation)
        for entry, field in [
            ({"kind": "public", "phone": "12-34"}, "raters.0.phone"),
            ({"kind": "public", "phone": "138123456789012345678"}, "raters.0.phone"),
            ({"kind": "public", "id_number": "110105194912310021"}, "raters.0.id_number"),
            ({"kind": "public", "id_number": "11010519491231002"}, "raters.0.id_number"),
            ({"kind": "public", "name": ""}, "raters.0.name"),
            ({"kind": "cadre", "member_id": d.member, "name": NAME}, "raters.0.name"),
        ]:
            response = await e.post(raters_path, json={"raters": [entry]}, headers=d.office)
            assert response.status_code == 422, (entry, response.text)
            assert field in [x["field"] for x in response.json()["errors"]], response.text
        assert await event_count(evaluation) == before
        assert await evaluation.runtime.pool.fetchval("SELECT count(*) FROM person_keys") == 0

        public = {"kind": "public", "name": NAME, "phone": "138-1234-5678"}
        public["id_number"] = ID_NUMBER.lower()
        body = {"raters": [public, {"kind": "public", "name": "李四"}, {"kind": "public"}]}
        alice, bob, carol = ok(await e.post(raters_path, json=body, headers=d.office), 201)[
            "rater_ids"
        ]

        # the organiser's view: the name, the numbers masked
        assert (await e.get(raters_path)).status_code == 401
        assert (await e.get(raters_path, headers=d.branch_secretary)).status_code == 403
        view = {r["rater_id"]: r for r in ok(await e.get(raters_path, headers=d.office))["raters"]}
        assert view[alice] | {"voted": False} == {
            "rater_id": alice,
            "rater_kind": "public",
            "organisation_id": d.township,
            "member_id": None,
            "voted": False,
            "name": NAME,
            "phone": "138****5678",
            "id_number": "110105********002X",
            "erased": False,
            "unreadable": False,
            "invited": False,  # no invitation issued yet
        }
        assert (view[bob]["name"], view[bob]["phone"]) == ("李四", None)
        assert (view[carol]["name"], view[carol]["erased"]) == (None, False)
        # public pages show no one
        auditor = d.as_("auditor", d.county)
        for page in ("turnout", "results", "audit"):
            response = await e.get(f"/v1/rounds/{round_id}/{page}", headers=auditor)
            assert_no_plaintext(response.content, page)

        # the raw log holds only ciphertext
        pool = evaluation.runtime.pool
        log = b"".join(r["body"] for r in await pool.fetch("SELECT body FROM events"))
        assert_no_plaintext(log, "the event log")
        [sealed] = [
            json.loads(r["body"])["data"]["personal"]
            for r in await pool.fetch("SELECT body FROM events WHERE type = 'RaterRegistered'")
            if json.loads(r["body"])["data"]["rater_id"] == alice
        ]
        assert sealed["person"] == alice
        assert set(sealed) == {"person", "sealed"}

        # a time still to come reads as now: no as-of view is built for it (each would be
        # a replay of the whole log at its head)
        async def as_of_schemas() -> int:
            count = await evaluation.runtime.pool.fetchval(
                "SELECT count(*) FROM pg_namespace WHERE nspname LIKE 'asof\\_%'"
            )
            return int(count)

        schemas = await as_of_schemas()
        future = f"{raters_path}?as_of=2027-03-02T02:00:00Z"
        assert ok(await e.get(future, headers=d.office))["raters"] == list(view.values())
        assert await as_of_schemas() == schemas
        # a past state read before the erasure (A3) is built and kept ...
        as_of = f"{raters_path}?as_of=2027-03-01T02:00:00Z"
        past = ok(await e.get(as_of, headers=d.office))["raters"]
        assert NAME in [r["name"] for r in past]
        # the read models, live and past, keep it only sealed: opened as the organiser reads
        rows = await read_model_rows(evaluation)
        assert b"asof_" in rows
        assert b"round_raters" in rows
        assert_no_plaintext(rows, "the read models")
        clock.set(START + timedelta(hours=1))

        # the erasure endpoint refuses the unauthenticated, the forbidden and the unknown
        erasure = f"/v1/people/{alice}/erasure"
        before = await event_count(evaluation)
        for headers, status in [
            ({}, 401),
            (d.as_("township_office", "another-township"), 403),  # its own office may (A7)
            (d.branch_secretary, 403),
            (d.as_("county_admin", "gulang"), 403),
            (d.as_("auditor", "gulang"), 403),
        ]:
            response = await e.post(erasure, headers=headers)
            assert response.status_code == status, (headers, response.text)
        admin = d.as_("county_admin", d.county)
        for unknown in ("rt-nobody", d.member):  # a directory member is not erased here
            assert (await e.post(f"/v1/people/{unknown}/erasure", headers=admin)).status_code == 404
        assert await event_count(evaluation) == before
        assert await pool.fetchval("SELECT count(*) FROM person_keys WHERE person_id = $1", alice)

        # erase: the key goes, one event without personal data is appended
        answer = ok(await e.post(erasure, headers=admin), 201)
        assert answer == {"id": alice, "events": ["PersonalDataErased"]}
        assert (await e.post(erasure, headers=admin)).status_code == 409  # once
        erase = [sys.executable, "-m", "gongkai.main", "audit", "erase"]
        erase += ["--url", str(e.base_url).rstrip("/"), "--token"]
        refused = await asyncio.to_thread(
            subprocess.run, [*erase, servers.token("auditor", "gulang"), carol], **CAPTURE
        )
        assert refused.returncode == 1
        assert "403" in refused.stdout, refused.stdout
        erased_by_cli = await asyncio.to_thread(
            subprocess.run, [*erase, servers.token("auditor", d.county), carol], **CAPTURE
        )
        assert erased_by_cli.returncode == 0, erased_by_cli.stdout + erased_by_cli.stderr
        assert not await pool.fetchval(
            "SELECT count(*) FROM person_keys WHERE person_id = $1", alice
        )
        view = {r["rater_id"]: r for r in ok(await e.get(raters_path, headers=d.office))["raters"]}
        erased = {"name": ERASED, "phone": None, "id_number": None, "erased": True}
        assert {k: view[alice][k] for k in erased} == erased
        assert {k: view[carol][k] for k in erased} == erased
        assert (view[bob]["name"], view[bob]["erased"]) == ("李四", False)
        # ... and, read again, shows the person erased too
        past = {r["rater_id"]: r for r in ok(await e.get(as_of, headers=d.office))["raters"]}
        assert {k: past[alice][k] for k in erased} == erased
        assert past[bob]["name"] == "李四"

        # the log is unchanged and still verifies; it and NATS carry no plaintext
        assert await log_verifies(evaluation) == await event_count(evaluation)
        log = b"".join(r["body"] for r in await pool.fetch("SELECT body FROM events"))
        assert_no_plaintext(log, "the event log")
        messages: list[tuple[bytes, bytes]] = []

        async def relayed() -> bool:
            messages[:] = await published(servers, evaluation)
            return any(b"PersonalDataErased" in headers for headers, _ in messages)

        await eventually(relayed, timeout=20)
        for headers, payload in messages:
            assert_no_plaintext(headers + payload, "a published message")
        erasures = [
            EventEnvelope.from_message(json.loads(h), p)
            for h, p in messages
            if b"PersonalDataErased" in h
        ]
        assert {json.dumps(x.data) for x in erasures} == {
            json.dumps({"person_id": alice}),
            json.dumps({"person_id": carol}),
        }

        # a rebuild from the log gives the same, erased, read models
        await caught_up(pledge, evaluation)
        runtime = evaluation.runtime
        await rebuilt_as_live(runtime.pool, runtime.definition.read_models)
        async with runtime.pool.acquire() as conn:
            row: Any = await conn.fetchrow(
                "SELECT personal, erased FROM rm_check.round_raters WHERE rater_id = $1", alice
            )
            assert (row["personal"], row["erased"]) == (None, True)
        await runtime.definition.read_models.rebuild(runtime.pool)  # the swap
        view = {r["rater_id"]: r for r in ok(await e.get(raters_path, headers=d.office))["raters"]}
        assert view[alice]["name"] == ERASED
        assert view[bob]["name"] == "李四"
