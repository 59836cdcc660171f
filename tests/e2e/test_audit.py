"""A4, A6: signed checkpoints, inclusion and consistency proofs from the API, and the
offline verifier catching every kind of tampering with an exported bundle."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.serialization import load_pem_public_key

from shared.audit import merkle
from shared.audit.bundle import export_bundle
from shared.audit.checkpoints import public_pem
from shared.audit.verify import verify_bundle
from shared.envelope import EventEnvelope, chain_hash
from shared.testing import RunningService, Servers
from tests.e2e.helpers import Directory, ok


async def sign(service: RunningService, servers: Servers) -> dict:  # type: ignore[type-arg]
    return ok(
        await service.client.post("/v1/audit/checkpoints", headers=servers.auth("auditor", None)),
        201,
    )


async def test_checkpoints_and_proofs_verify_offline(
    servers: Servers,
    pledge_service: RunningService,
) -> None:
    c = pledge_service.client
    d = await Directory(c, servers).build()
    first = await sign(pledge_service, servers)
    ok(
        await c.post(
            "/v1/members",
            json={
                "branch_id": d.branch,
                "name": "王德明",
                "post": "治沙造林责任岗",
                "duties": "压沙",
            },
            headers=d.office,
        ),
        201,
    )
    second = await sign(pledge_service, servers)
    assert (await c.post("/v1/audit/checkpoints", headers=d.office)).status_code == 403

    key = load_pem_public_key((await c.get("/v1/audit/public-key")).text.encode())
    for signed in (first, second):
        key.verify(bytes.fromhex(signed["signature"]), signed["body"].encode())  # type: ignore[call-arg, union-attr]

    event_id = await pledge_service.runtime.pool.fetchval(
        "SELECT id::text FROM events WHERE type = 'MemberEnrolled' ORDER BY position LIMIT 1"
    )
    proof = ok(
        await c.get(
            "/v1/audit/proofs/inclusion",
            params={"event_id": event_id, "checkpoint_id": second["id"]},
        )
    )
    assert json.loads(second["body"])["partitions"][proof["partition"]]["root"] == proof["root"]
    assert merkle.verify_inclusion(
        bytes.fromhex(proof["leaf"]),
        proof["index"],
        proof["size"],
        [bytes.fromhex(p) for p in proof["path"]],
        bytes.fromhex(proof["root"]),
    )

    grown = ok(
        await c.get(
            "/v1/audit/proofs/consistency", params={"old": first["id"], "new": second["id"]}
        )
    )
    old_trees = json.loads(first["body"])["partitions"]
    new_trees = json.loads(second["body"])["partitions"]
    for partition, path in grown["proofs"].items():
        assert merkle.verify_consistency(
            old_trees[partition]["size"],
            new_trees[partition]["size"],
            bytes.fromhex(old_trees[partition]["root"]),
            bytes.fromhex(new_trees[partition]["root"]),
            [bytes.fromhex(p) for p in path],
        )


@pytest.fixture
async def bundle(servers: Servers, pledge_service: RunningService, tmp_path: Path) -> Path:
    c = pledge_service.client
    d = await Directory(c, servers).build()
    await sign(pledge_service, servers)
    for name in ("王德明", "赵丽华", "孙永福"):
        ok(
            await c.post(
                "/v1/members",
                json={
                    "branch_id": d.branch,
                    "name": name,
                    "post": "党员服务岗",
                    "duties": "服务群众",
                },
                headers=d.office,
            ),
            201,
        )
    await sign(pledge_service, servers)
    runtime = pledge_service.runtime
    assert runtime.checkpoint_key is not None
    folder = tmp_path / "bundle"
    await export_bundle(
        runtime.pool, folder, service="pledge", public_key_pem=public_pem(runtime.checkpoint_key)
    )
    return folder


def lines(folder: Path) -> list[str]:
    return (folder / "events.jsonl").read_text(encoding="utf-8").splitlines()


def rewrite(folder: Path, tmp_path: Path, name: str, new_lines: list[str]) -> Path:
    copy = tmp_path / name
    shutil.copytree(folder, copy)
    (copy / "events.jsonl").write_text("\n".join(new_lines) + "\n", encoding="utf-8")
    return copy


def test_an_untouched_bundle_verifies(bundle: Path) -> None:
    report = verify_bundle(bundle)
    assert report.ok, report.problems
    assert report.events == len(lines(bundle))
    assert report.checkpoints == 2


def _changed(line: str) -> str:
    event = json.loads(line)
    event["data"]["name"] = "冒名顶替"
    return json.dumps(event, ensure_ascii=False)


def _resealed(events: list[str]) -> list[str]:
    """An attacker rewrites the whole chain after changing an event: every hash recomputed."""
    out, prev = [], {}
    for line in events:
        envelope = EventEnvelope.model_validate_json(line)
        before = prev.get(envelope.partition, envelope.prevhash)  # genesis, or a range's anchor
        sealed = envelope.model_copy(
            update={
                "prevhash": before,
                "hash": chain_hash(before, envelope.sequence, envelope.body()),
            }
        )
        prev[envelope.partition] = sealed.hash
        out.append(sealed.model_dump_json())
    return out


def test_every_kind_of_tampering_is_caught_and_named(bundle: Path, tmp_path: Path) -> None:
    original = lines(bundle)
    member = next(i for i, line in enumerate(original) if '"MemberEnrolled"' in line)
    victim = json.loads(original[member])["id"]
    cases = {
        "changed": [*original[:member], _changed(original[member]), *original[member + 1 :]],
        "removed": [*original[:member], *original[member + 1 :]],
        "inserted": [*original[:member], original[member], *original[member:]],
        "reordered": [
            *original[:member],
            original[member + 1],
            original[member],
            *original[member + 2 :],
        ],
    }
    for name, tampered in cases.items():
        report = verify_bundle(rewrite(bundle, tmp_path, name, tampered))
        assert not report.ok, name
        assert report.first_bad_event is not None, name
        if name in ("changed", "inserted"):
            assert report.first_bad_event == victim, (name, report.problems)
    # the chain re-sealed after a change still contradicts the signed checkpoints
    resealed = _resealed(cases["changed"])
    report = verify_bundle(rewrite(bundle, tmp_path, "resealed", resealed))
    assert not report.ok
    assert any("not the ones signed" in p for p in report.problems), report.problems


async def test_a_range_bundle_verifies_against_the_signed_checkpoints(
    servers: Servers, pledge_service: RunningService, tmp_path: Path
) -> None:
    c = pledge_service.client
    d = await Directory(c, servers).build()
    for name in ("王德明", "赵丽华", "孙永福", "李春梅"):
        member = {"branch_id": d.branch, "name": name, "post": "党员服务岗", "duties": "服务群众"}
        ok(await c.post("/v1/members", json=member, headers=d.office), 201)
    await sign(pledge_service, servers)
    member = {"branch_id": d.branch, "name": "周建国", "post": "党员服务岗", "duties": "巡河"}
    ok(await c.post("/v1/members", json=member, headers=d.office), 201)  # not yet signed
    runtime = pledge_service.runtime
    assert runtime.checkpoint_key is not None
    enrolled = await runtime.pool.fetch(
        "SELECT position FROM events WHERE type = 'MemberEnrolled' ORDER BY position"
    )
    folder = tmp_path / "range"
    manifest = await export_bundle(
        runtime.pool,
        folder,
        service="pledge",
        public_key_pem=public_pem(runtime.checkpoint_key),
        first=enrolled[1]["position"],
        last=enrolled[-1]["position"],
    )
    in_range = await runtime.pool.fetchval(
        "SELECT count(*) FROM events WHERE position BETWEEN $1 AND $2",
        enrolled[1]["position"],
        enrolled[-1]["position"],
    )
    assert manifest["events"] == in_range
    assert manifest["checkpoints"] == 1
    report = verify_bundle(folder)
    assert report.ok, report.problems
    proof = json.loads((folder / "proofs.jsonl").read_text())
    signed = json.loads(json.loads((folder / "checkpoints.jsonl").read_text())["body"])
    assert proof["sequence"] == signed["partitions"][proof["partition"]]["size"]
    assert json.loads(lines(folder)[-1])["sequence"] > proof["sequence"]  # linked, not signed

    original = lines(folder)
    changed = [original[0], _changed(original[1]), *original[2:]]
    cases = {
        "resealed": _resealed(changed),  # consistent links, but not what was signed
        "removed": [original[0], *original[2:]],
        "changed": changed,
    }
    for name, tampered in cases.items():
        report = verify_bundle(rewrite(folder, tmp_path, name, tampered))
        assert not report.ok, name
    assert any("not the ones signed" in p for p in verify_bundle(tmp_path / "resealed").problems)
    assert verify_bundle(folder).notes == [
        f"{proof['partition']}: the last 1 events are not signed yet"
    ]

    # the proofs are what vouch for a range: without them, or with one for another event, no
    unproven = tmp_path / "unproven"
    shutil.copytree(folder, unproven)
    (unproven / "proofs.jsonl").write_text("")
    assert any("no signed checkpoint vouches" in p for p in verify_bundle(unproven).problems)
    earlier = tmp_path / "earlier"
    shutil.copytree(folder, earlier)
    (earlier / "proofs.jsonl").write_text(json.dumps(proof | {"sequence": proof["sequence"] - 1}))
    assert any("not for the last signed" in p for p in verify_bundle(earlier).problems)


def test_the_command_line_verifier_exits_non_zero_on_tampering(
    bundle: Path, tmp_path: Path
) -> None:
    import subprocess
    import sys

    command = [sys.executable, "-m", "services.cli.main", "audit", "verify"]
    good = subprocess.run([*command, str(bundle)], capture_output=True, text=True)
    assert good.returncode == 0, good.stdout
    original = lines(bundle)
    tampered = rewrite(bundle, tmp_path, "cli", [*original[:3], *original[4:]])
    bad = subprocess.run([*command, str(tampered)], capture_output=True, text=True)
    assert bad.returncode == 1
    assert "first bad event" in bad.stdout


async def test_signing_on_demand_refuses_the_unauthenticated_and_the_unauthorised(
    servers: Servers,
    pledge_service: RunningService,
) -> None:
    c, pool = pledge_service.client, pledge_service.runtime.pool
    for headers, status in (
        ({}, 401),
        ({"Authorization": "Bearer nonsense"}, 401),
        (servers.auth("township_office", "t-1"), 403),
        (servers.auth("member", "b-1", "m-1"), 403),
    ):
        response = await c.post("/v1/audit/checkpoints", headers=headers)
        assert response.status_code == status, response.text
        assert response.headers["content-type"] == "application/problem+json"
    assert await pool.fetchval("SELECT count(*) FROM checkpoints") == 0
    bad = await c.get(
        "/v1/audit/proofs/inclusion", params={"event_id": "not-an-id", "checkpoint_id": 1}
    )
    assert bad.status_code == 422


async def test_the_command_line_checks_proofs_against_the_public_key(
    servers: Servers, pledge_service: RunningService, tmp_path: Path
) -> None:
    import asyncio
    import sys

    from shared.auth import LocalSigningKey

    c = pledge_service.client
    await Directory(c, servers).build()
    first = await sign(pledge_service, servers)
    event_id = await pledge_service.runtime.pool.fetchval(
        "SELECT id::text FROM events ORDER BY position DESC LIMIT 1"
    )
    await sign(pledge_service, servers)  # nothing new: the same trees
    key_file, wrong_key = tmp_path / "key.pem", tmp_path / "wrong.pem"
    key_file.write_text((await c.get("/v1/audit/public-key")).text)
    wrong_key.write_bytes(LocalSigningKey.generate().public_pem)

    async def prove(key: Path, *args: str) -> tuple[int, str]:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "services.cli.main",
            "audit",
            "prove",
            "--url",
            str(c.base_url),
            "--public-key",
            str(key),
            *args,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        output, _ = await process.communicate()
        return process.returncode or 0, output.decode()

    inclusion = ("--event-id", event_id, "--checkpoint", str(first["id"]))
    code, output = await prove(key_file, *inclusion)
    assert code == 0, output
    assert "proven" in output
    code, output = await prove(key_file, "--old", str(first["id"]), "--new", str(first["id"] + 1))
    assert code == 0, output
    code, output = await prove(wrong_key, *inclusion)
    assert code == 1
    assert "signature does not verify" in output
