"""Checking a service's proofs as an auditor would: fetch them over HTTP, trust only the
public key you were given and what you already hold, and check signatures and Merkle paths
locally (A6).

The server's answer is only its word: an inclusion proof is checked for the event's hash as
the auditor knows it (recomputed from the event in their bundle, or given to them), at the
place the event holds; a consistency proof for the checkpoints asked for, which must agree
with any copy of them the auditor holds."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import load_pem_public_key

from shared.audit import merkle
from shared.envelope import EventEnvelope, chain_hash

Fetch = Callable[[str, dict[str, Any]], Any]  # a path and its query: the answer's JSON


@dataclass(frozen=True)
class Held:
    """What the auditor knows without the server: an event's hash (and its place, when they
    hold the event itself) and signed checkpoints, by id, from an earlier export."""

    event_hash: str | None = None
    partition: str | None = None
    sequence: int | None = None
    checkpoints: dict[int, dict[str, Any]] = field(default_factory=dict)


def over_http(url: str) -> Fetch:
    def fetch(path: str, params: dict[str, Any]) -> Any:
        response = httpx.get(f"{url}{path}", timeout=30, params=params)
        if response.is_error:  # e.g. a later checkpoint that no longer covers a township
            raise ValueError(f"the server answered {response.status_code}: {response.text}")
        return response.json()

    return fetch


def held(bundle: Path | None, event_id: str | None, event_hash: str | None) -> Held:
    """What the auditor holds: from their bundle, or the hash they were given; both must agree."""
    if bundle is None:
        return Held(event_hash)
    known = held_in_bundle(bundle, event_id)
    if event_hash is not None and event_hash != known.event_hash:
        raise ValueError(f"the hash given is not the hash of event {event_id} in your bundle")
    return known


def held_in_bundle(folder: Path, event_id: str | None) -> Held:
    """The bundle's checkpoints, and the event with its hash recomputed from its content."""
    checkpoints = {}
    for line in _lines(folder / "checkpoints.jsonl"):
        signed = json.loads(line)
        checkpoints[signed["id"]] = signed
    event = _bundled_event(folder, event_id) if event_id is not None else None
    if event is None:
        return Held(checkpoints=checkpoints)
    return Held(event.hash, event.partition, event.sequence, checkpoints)


def _lines(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").splitlines() if path.exists() else []


def _bundled_event(folder: Path, event_id: str) -> EventEnvelope:
    for line in _lines(folder / "events.jsonl"):
        if event_id not in line:  # most lines: no need to parse them
            continue
        event = EventEnvelope.model_validate_json(line)
        if event.id != event_id:
            continue
        if chain_hash(event.prevhash, event.sequence, event.body()) != event.hash:
            raise ValueError(f"your copy of event {event_id} does not match its own hash")
        return event
    raise ValueError(f"event {event_id} is not in {folder}")


def _signed_body(
    checkpoint: dict[str, Any], asked: int, key: Ed25519PublicKey, held: Held
) -> dict[str, Any]:
    """The body of the checkpoint asked for: signed by the key, with the id asked for inside
    the signature, and the same as any copy of it you hold."""
    try:
        key.verify(bytes.fromhex(checkpoint["signature"]), checkpoint["body"].encode())
    except InvalidSignature:
        raise ValueError(f"checkpoint {checkpoint['id']}: the signature does not verify") from None
    body: dict[str, Any] = json.loads(checkpoint["body"])
    if (body.get("id"), checkpoint["id"]) != (asked, asked):
        raise ValueError(f"asked for checkpoint {asked}, the server sent {body.get('id')}")
    mine = held.checkpoints.get(asked)
    if mine is not None and (mine["body"], mine["signature"]) != (
        checkpoint["body"],
        checkpoint["signature"],
    ):
        raise ValueError(f"checkpoint {asked} is not the one you hold")
    return body


def public_key(pem: bytes) -> Ed25519PublicKey:
    key = load_pem_public_key(pem)
    if not isinstance(key, Ed25519PublicKey):
        raise ValueError("checkpoint keys are Ed25519")
    return key


def check_inclusion(
    fetch: Fetch, key: Ed25519PublicKey, event_id: str, checkpoint_id: int, held: Held
) -> str:
    if held.event_hash is None:
        raise ValueError("the event's hash is needed: the server's leaf is only its word")
    p = fetch("/v1/audit/proofs/inclusion", {"event_id": event_id, "checkpoint_id": checkpoint_id})
    if p["leaf"] != held.event_hash:
        raise ValueError(f"the proof is for leaf {p['leaf']}, not event {event_id}'s hash")
    if held.partition is not None and (p["partition"], p["index"] + 1) != (
        held.partition,
        held.sequence,
    ):
        raise ValueError(
            f"the proof puts the event at {p['partition']} #{p['index'] + 1},"
            f" it is {held.partition} #{held.sequence}"
        )
    tree = _signed_body(p["checkpoint"], checkpoint_id, key, held)["partitions"].get(p["partition"])
    if tree is None or (tree["size"], tree["root"]) != (p["size"], p["root"]):
        raise ValueError("the proof names another tree than the signed checkpoint")
    if not merkle.verify_inclusion(
        bytes.fromhex(held.event_hash),
        p["index"],
        tree["size"],
        [bytes.fromhex(h) for h in p["path"]],
        bytes.fromhex(tree["root"]),
    ):
        raise ValueError("the audit path does not lead to the signed root")
    return (
        f"event {event_id} is #{p['index'] + 1} of {p['size']} in {p['partition']}"
        f" under signed checkpoint {checkpoint_id}"
    )


def check_consistency(fetch: Fetch, key: Ed25519PublicKey, old: int, new: int, held: Held) -> str:
    proof = fetch("/v1/audit/proofs/consistency", {"old": old, "new": new})
    old_trees = _signed_body(proof["old"], old, key, held)["partitions"]
    new_trees = _signed_body(proof["new"], new, key, held)["partitions"]
    for partition, tree in old_trees.items():
        grown = new_trees.get(partition)
        path = [bytes.fromhex(h) for h in proof["proofs"].get(partition, [])]
        if grown is None or not merkle.verify_consistency(
            tree["size"],
            grown["size"],
            bytes.fromhex(tree["root"]),
            bytes.fromhex(grown["root"]),
            path,
        ):
            raise ValueError(f"checkpoint {new} does not extend {old} for {partition}")
    return f"checkpoint {new} extends checkpoint {old} in all {len(old_trees)} townships"
