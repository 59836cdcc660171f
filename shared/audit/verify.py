"""The offline verifier (A4, A6): given a bundle, no server and no database, check every hash
link, every checkpoint's Merkle roots and signature, and that each later checkpoint extends
the earlier ones. It trusts nothing but the public key in the bundle (compare that key with
the one the county publishes).

It also says what the checks cannot reach: per township, the events after the last signed
checkpoint, held together by hash links alone. Anyone can recompute links, so a chain
rewritten after a change (re-chained) passes them; only a signed root catches it. A township
no checkpoint covers is unsigned, and a bundle stripped of its checkpoints is all unsigned.

A bundle exported with its files (`--with-files`) has each evidence file an event records in
files/, named by its SHA-256: each is checked against the hash and size its event recorded,
and a changed or missing file is named (with the event that records it)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from shared.audit import merkle
from shared.audit.checkpoints import key_id, summary_root
from shared.envelope import GENESIS_HASH, EventEnvelope, canonical_json, chain_hash
from shared.files import file_refs_in, is_sha256, sha256_of


@dataclass
class Coverage:
    """One township's (partition's) events in the bundle, and how far a signature reaches."""

    events: int = 0  # held in the bundle
    last: int = 0  # the sequence of its last event
    signed: int = 0  # the last sequence a verified signed root covers; 0: none does

    @property
    def after(self) -> int:
        """The events held after the last signed checkpoint (all of them when none covers
        the township): hash links vouch for them, no signature does."""
        return min(self.events, self.last - self.signed)


@dataclass
class Report:
    events: int = 0
    partitions: int = 0
    checkpoints: int = 0
    problems: list[str] = field(default_factory=list)
    coverage: dict[str, Coverage] = field(default_factory=dict)  # per partition
    last_checkpoint: tuple[int, str] | None = None  # id and issued_at of the last one
    key_id: str = ""  # of the bundle's public key, as the service's checkpoints name it
    first_bad_event: str | None = None  # its id, or where it is missing when it was removed
    first_bad_checkpoint: int | None = None
    files: int | None = None  # evidence files checked (None: the bundle carries none)

    @property
    def ok(self) -> bool:
        """No check failed. Alone it does not say the events are the ones signed: see
        `verified`."""
        return not self.problems

    @property
    def unsigned(self) -> list[str]:
        """The townships holding events that no signed checkpoint covers."""
        return sorted(p for p, c in self.coverage.items() if c.events and not c.signed)

    @property
    def after(self) -> int:
        """Events after the last signed checkpoint of their township, unsigned ones' too."""
        return sum(c.after for c in self.coverage.values())

    @property
    def verified(self) -> bool:
        """No check failed and a signed checkpoint covers every township: the events up to
        it are the ones signed (those after it, `after`, are only linked)."""
        return self.ok and self.checkpoints > 0 and not self.unsigned

    @property
    def signed(self) -> bool:
        """Verified, and no event lies after the last checkpoint: what --require-signed asks."""
        return self.verified and self.after == 0

    def bad(self, problem: str, event: str | None = None, checkpoint: int | None = None) -> None:
        self.problems.append(problem)
        if event and self.first_bad_event is None:
            self.first_bad_event = event
        if checkpoint is not None and self.first_bad_checkpoint is None:
            self.first_bad_checkpoint = checkpoint


def verify_bundle(folder: Path) -> Report:
    report = Report()
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    scope: str | None = manifest.get("partition")  # a one-township bundle checks that one
    ranged = manifest.get("range") is not None  # starts mid-chain: proofs instead of roots
    leaves = _verify_chains(folder / "events.jsonl", report, ranged=ranged, scope=scope)
    if "files" in manifest:
        _verify_files(folder, report)
    pem = (folder / "public_key.pem").read_bytes()
    key = serialization.load_pem_public_key(pem)
    assert isinstance(key, Ed25519PublicKey)
    report.key_id = key_id(pem)
    bodies: dict[int, dict[str, Any]] = {}
    matched: dict[str, int] = {}  # per partition, the largest size a signed root agrees with
    previous: tuple[int, dict[str, Any]] | None = None
    for line in _lines(folder / "checkpoints.jsonl"):
        signed = json.loads(line)
        held = None if ranged else (leaves, matched)  # a range's roots rest on its proofs
        body = _verify_checkpoint(signed, key, held, report, scope)
        if body is not None:
            bodies[signed["id"]] = body
            report.last_checkpoint = (signed["id"], str(body.get("issued_at")))
        if body is not None and previous is not None and not ranged:
            _verify_extension(previous, (signed["id"], body), leaves, report, scope)
        previous = (signed["id"], body) if body is not None else previous
        report.checkpoints += 1
    if ranged:
        _verify_range_proofs(_lines(folder / "proofs.jsonl"), bodies, leaves, report)
    else:
        for partition, size in matched.items():
            if partition in report.coverage:
                report.coverage[partition].signed = size
    return report


def _verify_files(folder: Path, report: Report) -> None:
    """Each file an event records, against the hash and size the event recorded."""
    checked: dict[str, bool] = {}
    with (folder / "events.jsonl").open(encoding="utf-8") as lines:
        for line in lines:
            try:
                event = EventEnvelope.model_validate_json(line)
            except ValueError:
                continue  # named by the chain's check
            for ref in file_refs_in(event.data):
                sha = str(ref["sha256"])
                if sha in checked:
                    continue
                name = f"file {sha} ({ref.get('name')}) recorded by event {event.id}"
                path = folder / "files" / sha
                if not is_sha256(sha) or not path.is_file():
                    report.bad(f"{name}: missing from the bundle", event.id)
                    checked[sha] = False
                    continue
                data = path.read_bytes()
                if sha256_of(data) != sha:
                    report.bad(
                        f"{name}: changed, its content does not match the recorded SHA-256",
                        event.id,
                    )
                elif len(data) != ref.get("size"):
                    report.bad(f"{name}: {len(data)} bytes where {ref.get('size')} were recorded")
                checked[sha] = True
    report.files = len(checked)


def _lines(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").splitlines() if path.exists() else []


def _verify_chains(
    path: Path, report: Report, *, ranged: bool, scope: str | None
) -> dict[str, list[bytes]]:
    """Every link of every partition's chain; the chain hashes (leaves) per partition. A
    range's first event per partition is taken as its anchor (its proof vouches for it)."""
    leaves: dict[str, list[bytes]] = {}
    last: dict[str, tuple[int, str]] = {}
    with path.open(encoding="utf-8") as lines:
        for number, line in enumerate(lines, start=1):
            try:
                event = EventEnvelope.model_validate_json(line)
            except ValueError as error:
                report.bad(f"line {number}: not an event envelope ({error})", f"line {number}")
                continue
            report.events += 1
            if scope is not None and event.partition != scope:  # no checkpoint check covers it
                report.bad(f"event {event.id}: not of the bundle's township {scope}", event.id)
            if ranged and event.partition not in last:
                last[event.partition] = (event.sequence - 1, event.prevhash)
                leaves[event.partition] = [b""] * (event.sequence - 1)  # outside the range
            sequence, prev = last.get(event.partition, (0, GENESIS_HASH))
            where = f"event {event.id} ({event.partition} #{event.sequence}, line {number})"
            if event.sequence != sequence + 1:
                report.bad(
                    f"{where}: sequence {event.sequence} where {sequence + 1} was due"
                    " (an event was removed, inserted or reordered)",
                    event.id,
                )
            elif event.prevhash != prev:
                report.bad(f"{where}: does not link to the event before it", event.id)
            if chain_hash(event.prevhash, event.sequence, event.body()) != event.hash:
                report.bad(f"{where}: its content does not match its hash (changed)", event.id)
            last[event.partition] = (event.sequence, event.hash)
            leaves.setdefault(event.partition, []).append(bytes.fromhex(event.hash))
            report.coverage.setdefault(event.partition, Coverage()).events += 1
    report.partitions = len(leaves)
    for partition, held in leaves.items():
        report.coverage[partition].last = len(held)
    return leaves


def _verify_checkpoint(
    signed: dict[str, Any],
    key: Ed25519PublicKey,
    held: tuple[dict[str, list[bytes]], dict[str, int]] | None,
    report: Report,
    scope: str | None,
) -> dict[str, Any] | None:
    """Its signature and summary root; and, given the bundle's leaves (and the sizes earlier
    checkpoints agreed with), that it signed exactly these events."""
    raw, number = signed["body"].encode(), signed["id"]
    name = f"checkpoint {number}"
    try:
        key.verify(bytes.fromhex(signed["signature"]), raw)
    except InvalidSignature:
        report.bad(f"{name}: the signature does not verify", checkpoint=number)
        return None
    body: dict[str, Any] = json.loads(raw)
    if body.get("id") != number:  # else one checkpoint could stand in for another
        report.bad(f"{name}: it signs the id {body.get('id')}", checkpoint=number)
    if canonical_json(body) != raw or summary_root(body["partitions"]) != body["root"]:
        report.bad(f"{name}: its root does not match its partitions", checkpoint=number)
    if held is None:
        return body
    leaves, matched = held
    for partition, tree in body["partitions"].items():
        if scope is None or partition == scope:
            _verify_signed_tree(name, partition, tree, leaves.get(partition, []), matched, report)
    return body


def _verify_signed_tree(
    name: str,
    partition: str,
    tree: dict[str, Any],
    have: list[bytes],
    matched: dict[str, int],
    report: Report,
) -> None:
    """The bundle holds the events a checkpoint signed for a partition; when not, name the
    first missing one, or the span a changed one hides in (between the last size a signed
    root agreed with and this one: a root cannot tell which leaf differs)."""
    size = tree["size"]
    if len(have) < size:
        report.bad(
            f"{name}: partition {partition} has {size} events signed, the bundle holds"
            f" {len(have)} (removed from #{len(have) + 1})",
            f"{partition} #{len(have) + 1} (missing)",
        )
    elif merkle.root(have[:size]).hex() != tree["root"]:
        since = matched.get(partition, 0) + 1
        report.bad(
            f"{name}: the events of {partition} are not the ones signed"
            f" (changed between #{since} and #{size})",
            f"{partition} #{since}..#{size} (changed)",
        )
    elif size > matched.get(partition, 0):
        matched[partition] = size


def _verify_extension(
    older: tuple[int, dict[str, Any]],
    newer: tuple[int, dict[str, Any]],
    leaves: dict[str, list[bytes]],
    report: Report,
    scope: str | None,
) -> None:
    (old_id, old), (new_id, new) = older, newer
    for partition, tree in old["partitions"].items():
        if scope is not None and partition != scope:
            continue
        grown = new["partitions"].get(partition)
        if grown is None or grown["size"] < tree["size"]:
            report.bad(
                f"checkpoint {new_id} drops events of {partition} that checkpoint {old_id}"
                " signed: it does not extend it",
                checkpoint=new_id,
            )
            continue
        have = leaves.get(partition, [])
        if len(have) < grown["size"]:
            continue  # already reported
        proof = merkle.consistency_proof(have[: grown["size"]], tree["size"])
        if not merkle.verify_consistency(
            tree["size"],
            grown["size"],
            bytes.fromhex(tree["root"]),
            bytes.fromhex(grown["root"]),
            proof,
        ):
            report.bad(
                f"checkpoint {new_id} does not extend checkpoint {old_id} for {partition}",
                checkpoint=new_id,
            )


def _verify_range_proofs(
    proofs: list[str],
    bodies: dict[int, dict[str, Any]],
    leaves: dict[str, list[bytes]],
    report: Report,
) -> None:
    """Each partition of a range: a signed root vouches for its last event that a checkpoint
    covers (whose hash commits to every link back to the range's start), and the proof is
    for the event this bundle holds at that place. A range nothing vouches for fails: its
    first link is only the bundle's word."""
    proven = set()
    for line in proofs:
        proof = json.loads(line)
        partition, sequence = proof["partition"], proof["sequence"]
        body = bodies.get(proof["checkpoint_id"])
        tree = body["partitions"].get(partition) if body else None
        have = leaves.get(partition, [])
        if tree is None or not 0 < sequence <= len(have) or not have[sequence - 1]:
            report.bad(f"{partition}: the proof names an event this bundle does not hold")
            continue
        if sequence != min(len(have), tree["size"]):
            report.bad(f"{partition}: the proof is not for the last signed event of the range")
            continue
        path = [bytes.fromhex(h) for h in proof["path"]]
        root = bytes.fromhex(tree["root"])
        if not merkle.verify_inclusion(have[sequence - 1], sequence - 1, tree["size"], path, root):
            report.bad(f"{partition} #{sequence}: the events are not the ones signed")
        else:
            report.coverage[partition].signed = sequence  # those after it: linked only
        proven.add(partition)
    for partition in sorted(set(leaves) - proven):
        report.bad(f"{partition}: no signed checkpoint vouches for this range (sign one first)")
