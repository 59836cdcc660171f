"""A4, A6: signed checkpoints, inclusion and consistency proofs from the API, and the
offline verifier catching every kind of tampering with an exported bundle."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import load_pem_public_key

from shared.audit import merkle
from shared.audit.bundle import export_bundle
from shared.audit.checkpoints import public_pem, summary_root
from shared.audit.verify import verify_bundle
from shared.envelope import EventEnvelope, canonical_json, chain_hash
from tests.e2e.helpers import Directory, ok
from tests.support import RunningService, Servers


async def sign(service: RunningService, servers: Servers) -> dict:  # type: ignore[type-arg]
    return ok(
        await service.client.post(
            "/v1/audit/checkpoints", headers=servers.auth("auditor", Directory.county)
        ),
        201,
    )


async def after_the_first_pass(service: RunningService) -> None:
    """Once the service's own checkpoint pass at start has run (on an empty log: it signs
    nothing), so the checkpoints a test signs are the only ones; under load its lease could
    come after the test's first events and sign one more."""
    for _ in range(200):
        if "periodic:checkpoints" in service.runtime.leases.held:
            await asyncio.sleep(0.2)  # its pass reads the heads at once
            return
        await asyncio.sleep(0.05)
    raise AssertionError("the checkpoint pass never started")


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


async def export(service: RunningService, folder: Path, **scope: Any) -> dict[str, Any]:
    """The service's log as a bundle: whole, or `partition=` one township's, or a range."""
    key = service.runtime.checkpoint_key
    assert key is not None
    return await export_bundle(
        service.runtime.pool, folder, service="pledge", public_key_pem=public_pem(key), **scope
    )


@pytest.fixture
async def bundle(servers: Servers, pledge_service: RunningService, tmp_path: Path) -> Path:
    c = pledge_service.client
    await after_the_first_pass(pledge_service)
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
    folder = tmp_path / "bundle"
    await export(pledge_service, folder)
    return folder


def lines(folder: Path) -> list[str]:
    return (folder / "events.jsonl").read_text(encoding="utf-8").splitlines()


def rewrite(folder: Path, tmp_path: Path, name: str, new_lines: list[str]) -> Path:
    copy = tmp_path / name
    shutil.copytree(folder, copy)
    (copy / "events.jsonl").write_text("".join(f"{line}\n" for line in new_lines), "utf-8")
    return copy


def signed_checkpoints(folder: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in (folder / "checkpoints.jsonl").read_text().splitlines()]


def with_checkpoints(folder: Path, tmp_path: Path, name: str, signed: list[dict[str, Any]]) -> Path:
    copy = tmp_path / name
    shutil.copytree(folder, copy)
    (copy / "checkpoints.jsonl").write_text("".join(json.dumps(c) + "\n" for c in signed))
    return copy


def resigned(signed: dict[str, Any], key: Ed25519PrivateKey, **changes: Any) -> dict[str, Any]:
    """A checkpoint with its body changed and signed again with `key`."""
    body = json.loads(signed["body"]) | changes
    body["root"] = summary_root(body["partitions"])
    raw = canonical_json(body)
    return signed | {"body": raw.decode(), "signature": key.sign(raw).hex()}


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
    changed = json.loads(original[member])
    partition, sequence = changed["partition"], changed["sequence"]
    signed = signed_checkpoints(bundle)
    sizes = [json.loads(c["body"])["partitions"][partition]["size"] for c in signed]
    # the roots narrow it down to the events between two signed sizes
    upto = next(size for size in sizes if size >= sequence)
    since = max([0, *(size for size in sizes if size < sequence)]) + 1
    assert report.first_bad_event == f"{partition} #{since}..#{upto} (changed)", report.problems


def test_removing_signed_events_at_the_tail_names_the_first_missing_one(
    bundle: Path, tmp_path: Path
) -> None:
    original = lines(bundle)
    township = json.loads(next(e for e in original if '"MemberEnrolled"' in e))["partition"]
    ends = [i for i, e in enumerate(original) if json.loads(e)["partition"] == township][-2:]
    gone = json.loads(original[ends[0]])  # the township's last two events, both signed
    tampered = [e for i, e in enumerate(original) if i not in ends]
    report = verify_bundle(rewrite(bundle, tmp_path, "tail", tampered))
    assert not report.ok
    assert report.first_bad_event == f"{township} #{gone['sequence']} (missing)", report.problems
    # every event removed: nothing left to link, and the checkpoints still say what was signed
    emptied = verify_bundle(rewrite(bundle, tmp_path, "emptied", []))
    assert not emptied.ok
    assert emptied.first_bad_event is not None
    assert emptied.first_bad_event.endswith("#1 (missing)")


def test_tampered_checkpoints_are_caught_and_named(
    bundle: Path, tmp_path: Path, pledge_service: RunningService
) -> None:
    service_key = pledge_service.runtime.checkpoint_key
    assert service_key is not None
    first, second = signed_checkpoints(bundle)
    earlier_trees = json.loads(first["body"])["partitions"]
    later_trees = json.loads(second["body"])["partitions"]
    grew = next(p for p, tree in later_trees.items() if tree != earlier_trees.get(p))

    # signed by someone else: the body claims other roots
    forged_trees = later_trees | {grew: later_trees[grew] | {"root": "00" * 32}}
    forged = resigned(second, Ed25519PrivateKey.generate(), partitions=forged_trees)
    report = verify_bundle(with_checkpoints(bundle, tmp_path, "forged", [first, forged]))
    assert report.first_bad_checkpoint == second["id"], report.problems
    assert any("signature does not verify" in p for p in report.problems)

    # signed by the service, but rolled back: it drops events the one before signed
    rolled_back_trees = later_trees | {grew: earlier_trees[grew]}
    rolled_back = resigned(second, service_key, id=second["id"] + 1, partitions=rolled_back_trees)
    rolled_back["id"] = second["id"] + 1
    signed = [first, second, rolled_back]
    report = verify_bundle(with_checkpoints(bundle, tmp_path, "rolled-back", signed))
    assert report.first_bad_checkpoint == rolled_back["id"], report.problems
    assert any("does not extend" in p for p in report.problems)
    assert report.first_bad_event is None  # the events are the ones signed

    # the second again, as if it were a third: its signature says otherwise
    again = with_checkpoints(
        bundle, tmp_path, "again", [first, second, second | {"id": second["id"] + 1}]
    )
    report = verify_bundle(again)
    assert report.first_bad_checkpoint == second["id"] + 1, report.problems
    assert report.problems == [f"checkpoint {second['id'] + 1}: it signs the id {second['id']}"]

    # in the wrong order, the later one is older than the one before it
    report = verify_bundle(with_checkpoints(bundle, tmp_path, "swapped", [second, first]))
    assert report.first_bad_checkpoint == first["id"], report.problems


async def test_one_township_s_bundle_verifies_and_holds_that_township_only(
    bundle: Path, pledge_service: RunningService, tmp_path: Path
) -> None:
    everything = lines(bundle)
    township = json.loads(next(e for e in everything if '"MemberEnrolled"' in e))["partition"]
    folder = tmp_path / "township"
    manifest = await export(pledge_service, folder, partition=township)
    held = lines(folder)
    assert held == [e for e in everything if json.loads(e)["partition"] == township]
    assert (manifest["partition"], manifest["events"], manifest["checkpoints"]) == (
        township,
        len(held),
        2,
    )
    report = verify_bundle(folder)
    assert report.ok, report.problems
    assert (report.events, report.partitions, report.checkpoints) == (len(held), 1, 2)

    member = next(i for i, e in enumerate(held) if '"MemberEnrolled"' in e)
    others = [e for e in everything if json.loads(e)["partition"] != township]
    cases = {
        "changed": [*held[:member], _changed(held[member]), *held[member + 1 :]],
        "removed at the end": held[:-1],
        # another township's events are checked against no signed root in this bundle
        "another township's": [*held, *others],
    }
    for name, tampered in cases.items():
        report = verify_bundle(rewrite(folder, tmp_path, name, tampered))
        assert not report.ok, name
        assert report.first_bad_event is not None, (name, report.problems)
    foreign = json.loads(others[0])["id"]
    assert verify_bundle(tmp_path / "another township's").first_bad_event == foreign


async def test_a_range_bundle_verifies_against_the_signed_checkpoints(
    servers: Servers, pledge_service: RunningService, tmp_path: Path
) -> None:
    c = pledge_service.client
    await after_the_first_pass(pledge_service)
    d = await Directory(c, servers).build()
    for name in ("王德明", "赵丽华", "孙永福", "李春梅"):
        member = {"branch_id": d.branch, "name": name, "post": "党员服务岗", "duties": "服务群众"}
        ok(await c.post("/v1/members", json=member, headers=d.office), 201)
    await sign(pledge_service, servers)
    member = {"branch_id": d.branch, "name": "周建国", "post": "党员服务岗", "duties": "巡河"}
    ok(await c.post("/v1/members", json=member, headers=d.office), 201)  # not yet signed
    runtime = pledge_service.runtime
    enrolled = await runtime.pool.fetch(
        "SELECT position FROM events WHERE type = 'MemberEnrolled' ORDER BY position"
    )
    folder = tmp_path / "range"
    manifest = await export(
        pledge_service, folder, first=enrolled[1]["position"], last=enrolled[-1]["position"]
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
    coverage = verify_bundle(folder).coverage[proof["partition"]]
    assert (coverage.signed, coverage.after) == (proof["sequence"], 1)  # the last: linked only

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

    command = [sys.executable, "-m", "gongkai.main", "audit", "verify"]
    good = subprocess.run([*command, str(bundle)], capture_output=True, text=True)
    assert good.returncode == 0, good.stdout
    original = lines(bundle)
    tampered = rewrite(bundle, tmp_path, "cli", [*original[:3], *original[4:]])
    bad = subprocess.run([*command, str(tampered)], capture_output=True, text=True)
    assert bad.returncode == 1
    assert "first bad event" in bad.stdout
    last = json.loads(original[-1])  # by partition and sequence: the last township's last
    tail = rewrite(bundle, tmp_path, "cli-tail", original[:-1])
    bad = subprocess.run([*command, str(tail)], capture_output=True, text=True)
    assert bad.returncode == 1
    assert f"first bad event: {last['partition']} #{last['sequence']} (missing)" in bad.stdout
    first, second = signed_checkpoints(bundle)
    forged = second | {"signature": "00" * 64}
    tampered = with_checkpoints(bundle, tmp_path, "cli-forged", [first, forged])
    bad = subprocess.run([*command, str(tampered)], capture_output=True, text=True)
    assert bad.returncode == 1
    assert f"first bad checkpoint: {second['id']}" in bad.stdout
    assert "first bad event" not in bad.stdout


def test_the_command_line_verifier_says_what_is_not_signed(
    bundle: Path, tmp_path: Path, pledge_service: RunningService
) -> None:
    """Verified only under signed checkpoints: a bundle stripped of them is unsigned (a
    re-chained forgery of it too), events after the last checkpoint are counted per
    township, and --require-signed fails on either."""
    import subprocess
    import sys

    def verify(folder: Path, *options: str) -> tuple[int, str]:
        command = [sys.executable, "-m", "gongkai.main", "audit", "verify"]
        done = subprocess.run(
            [*command, str(folder), *options],
            capture_output=True,
            text=True,
            env=os.environ | {"COLUMNS": "200"},
        )
        return done.returncode, done.stdout

    original = lines(bundle)
    townships = sorted({json.loads(e)["partition"] for e in original})
    for options in ((), ("--require-signed",)):
        code, output = verify(bundle, *options)
        assert code == 0, output
        assert "verified: every link, root and signature holds, and every event is signed" in output
        for township in townships:
            held = sum(json.loads(e)["partition"] == township for e in original)
            assert (
                f"{township}: {held} events, {held} signed, 0 after the last checkpoint" in output
            )

    stripped = with_checkpoints(bundle, tmp_path, "stripped", [])
    member = next(i for i, e in enumerate(original) if '"MemberEnrolled"' in e)
    forged = _resealed([*original[:member], _changed(original[member]), *original[member + 1 :]])
    for folder in (stripped, rewrite(stripped, tmp_path, "stripped-forged", forged)):
        code, output = verify(folder)
        assert code == 0, output  # nothing failed, and nothing is vouched for
        assert "UNSIGNED" in output
        assert "verified" not in output
        code, output = verify(folder, "--require-signed")
        assert code == 3, output
        assert "verified" not in output

    # the last checkpoint dropped: the events only it signed lie after the one before it
    first, second = signed_checkpoints(bundle)
    earlier = json.loads(first["body"])["partitions"]
    later = json.loads(second["body"])["partitions"]
    assert set(earlier) == set(later)  # the members joined townships signed before
    tail = with_checkpoints(bundle, tmp_path, "tail", [first])
    code, output = verify(tail)
    assert code == 0, output
    assert "verified up to the last checkpoint" in output
    for township, tree in later.items():
        signed, after = earlier[township]["size"], tree["size"] - earlier[township]["size"]
        line = f"{township}: {tree['size']} events, {signed} signed, {after} after the last"
        assert line in output, output
    grown = sum(tree["size"] - earlier[t]["size"] for t, tree in later.items())
    assert grown > 0
    assert f"{grown} events after the last checkpoint: hash links only" in output
    code, output = verify(tail, "--require-signed")
    assert code == 3, output


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


async def grown_log(
    service: RunningService, servers: Servers
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Two signed checkpoints, a member enrolled between them: the second's tree is larger."""
    d = await Directory(service.client, servers).build()
    first = await sign(service, servers)
    member = {"branch_id": d.branch, "name": "王德明", "post": "党员服务岗", "duties": "巡河"}
    ok(await service.client.post("/v1/members", json=member, headers=d.office), 201)
    return first, await sign(service, servers)


async def test_proofs_from_a_server_that_lies_are_not_proven(
    servers: Servers, pledge_service: RunningService
) -> None:
    from gongkai.operator import proofs

    c, runtime = pledge_service.client, pledge_service.runtime
    first, second = await grown_log(pledge_service, servers)
    key = proofs.public_key((await c.get("/v1/audit/public-key")).text.encode())
    events = "SELECT id::text, hash FROM events ORDER BY position"
    newest = await runtime.pool.fetchrow(f"{events} DESC LIMIT 1")  # signed by the second only
    oldest = await runtime.pool.fetchrow(f"{events} LIMIT 1")  # signed by both

    async def answer(path: str, **params: str | int) -> dict[str, Any]:
        return dict(ok(await c.get(f"/v1/audit/proofs/{path}", params=params)))

    def answering(answer: dict[str, Any]) -> proofs.Fetch:
        """A server that sends this, whatever it is asked."""

        def fetch(path: str, params: dict[str, Any]) -> dict[str, Any]:
            return answer

        return fetch

    included = await answer("inclusion", event_id=newest["id"], checkpoint_id=second["id"])
    other_leaf = await answer("inclusion", event_id=oldest["id"], checkpoint_id=second["id"])
    earlier = await answer("inclusion", event_id=oldest["id"], checkpoint_id=first["id"])
    extended = await answer("consistency", old=first["id"], new=second["id"])
    same = await answer("consistency", old=first["id"], new=first["id"])
    grew = next(p for p, path in extended["proofs"].items() if path)
    assert runtime.checkpoint_key is not None  # the server's other second checkpoint
    forked = resigned(second, runtime.checkpoint_key, issued_at="2027-01-05T00:00:00.000000Z")

    def include(answer: dict[str, Any], event: Any, mine: proofs.Held) -> str:
        return proofs.check_inclusion(answering(answer), key, event["id"], second["id"], mine)

    def extend(answer: dict[str, Any], mine: proofs.Held = proofs.Held()) -> str:
        return proofs.check_consistency(answering(answer), key, first["id"], second["id"], mine)

    held_newest, held_oldest = (proofs.Held(e["hash"].hex()) for e in (newest, oldest))
    assert "under signed checkpoint" in include(included, newest, held_newest)
    assert "extends" in extend(extended)
    lies = [
        # a true proof, but for another event's leaf
        (lambda: include(other_leaf, newest, held_newest), "not event"),
        (lambda: include(included, newest, held_oldest), "not event"),
        (lambda: include(included, newest, proofs.Held()), "hash is needed"),
        # a true proof under another checkpoint than the one asked for, as is or relabelled
        (lambda: include(earlier, oldest, held_oldest), "asked for checkpoint"),
        (
            lambda: include(
                earlier | {"checkpoint": first | {"id": second["id"]}}, oldest, held_oldest
            ),
            "asked for checkpoint",
        ),
        # the earlier checkpoint twice, which trivially extends itself
        (lambda: extend(same), "asked for checkpoint"),
        (lambda: extend(same | {"new": first | {"id": second["id"]}}), "asked for checkpoint"),
        (lambda: extend(extended | {"old": second, "new": first}), "asked for checkpoint"),
        # a checkpoint signed with the right key and id, but not the one the auditor holds
        (
            lambda: extend(extended, proofs.Held(checkpoints={second["id"]: forked})),
            "not the one you hold",
        ),
        # a tampered or missing consistency proof
        (
            lambda: extend(
                extended | {"proofs": {grew: ["00" * 32, *extended["proofs"][grew][1:]]}}
            ),
            "does not extend",
        ),
        (lambda: extend(extended | {"proofs": {}}), "does not extend"),
    ]
    for lie, complaint in lies:
        with pytest.raises(ValueError, match=complaint):
            lie()


async def test_the_command_line_checks_proofs_against_the_public_key(
    servers: Servers, pledge_service: RunningService, tmp_path: Path
) -> None:
    import asyncio
    import sys

    from shared.auth import LocalSigningKey

    c, runtime = pledge_service.client, pledge_service.runtime
    first, second = await grown_log(pledge_service, servers)
    event_id, event_hash = await runtime.pool.fetchrow(
        "SELECT id::text, hash FROM events ORDER BY position DESC LIMIT 1"
    )
    other_hash = await runtime.pool.fetchval("SELECT hash FROM events ORDER BY position LIMIT 1")
    key_file, wrong_key = tmp_path / "key.pem", tmp_path / "wrong.pem"
    key_file.write_text((await c.get("/v1/audit/public-key")).text)
    wrong_key.write_bytes(LocalSigningKey.generate().public_pem)
    bundle = tmp_path / "bundle"  # what the auditor exported and holds
    await export(pledge_service, bundle)

    async def prove(key: Path, *args: str) -> tuple[int, str]:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "gongkai.main",
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

    inclusion = ("--event-id", event_id, "--checkpoint", str(second["id"]))
    for held in (("--bundle", str(bundle)), ("--event-hash", event_hash.hex())):
        code, output = await prove(key_file, *inclusion, *held)
        assert code == 0, output
        assert "proven" in output
    code, output = await prove(key_file, *inclusion, "--event-hash", other_hash.hex())
    assert code == 1
    assert "not proven" in output
    both = ("--bundle", str(bundle), "--event-hash", other_hash.hex())  # they disagree
    code, output = await prove(key_file, *inclusion, *both)
    assert code == 1
    assert "not the hash of event" in output
    code, output = await prove(key_file, *inclusion)  # the server's word for the leaf: no
    assert code == 1
    assert "hash is needed" in output
    grown = ("--old", str(first["id"]), "--new", str(second["id"]))
    code, output = await prove(key_file, *grown, "--bundle", str(bundle))
    assert code == 0, output
    assert f"checkpoint {second['id']} extends checkpoint {first['id']}" in output
    code, output = await prove(key_file, "--old", str(second["id"]), "--new", str(first["id"]))
    assert code == 1  # the older one does not extend the newer
    assert "not proven" in output
    code, output = await prove(wrong_key, *inclusion, "--bundle", str(bundle))
    assert code == 1
    assert "signature does not verify" in output
