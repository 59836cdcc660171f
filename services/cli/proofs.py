"""Checking a service's proofs as an auditor would: fetch them over HTTP, trust only the
public key you were given, and check signatures and Merkle paths locally (A6)."""

from __future__ import annotations

import json
from typing import Any

import httpx
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import load_pem_public_key

from shared.audit import merkle


def _signed_body(checkpoint: dict[str, Any], key: Ed25519PublicKey) -> dict[str, Any]:
    try:
        key.verify(bytes.fromhex(checkpoint["signature"]), checkpoint["body"].encode())
    except InvalidSignature:
        raise ValueError(f"checkpoint {checkpoint['id']}: the signature does not verify") from None
    body: dict[str, Any] = json.loads(checkpoint["body"])
    return body


def public_key(pem: bytes) -> Ed25519PublicKey:
    key = load_pem_public_key(pem)
    if not isinstance(key, Ed25519PublicKey):
        raise ValueError("checkpoint keys are Ed25519")
    return key


def check_inclusion(url: str, key: Ed25519PublicKey, event_id: str, checkpoint_id: int) -> str:
    proof = httpx.get(
        f"{url}/v1/audit/proofs/inclusion",
        timeout=30,
        params={"event_id": event_id, "checkpoint_id": checkpoint_id},
    )
    proof.raise_for_status()
    p = proof.json()
    tree = _signed_body(p["checkpoint"], key)["partitions"][p["partition"]]
    if (tree["size"], tree["root"]) != (p["size"], p["root"]):
        raise ValueError("the proof names another tree than the signed checkpoint")
    if not merkle.verify_inclusion(
        bytes.fromhex(p["leaf"]),
        p["index"],
        p["size"],
        [bytes.fromhex(h) for h in p["path"]],
        bytes.fromhex(p["root"]),
    ):
        raise ValueError("the audit path does not lead to the signed root")
    return (
        f"event {event_id} is #{p['index'] + 1} of {p['size']} in {p['partition']}"
        f" under signed checkpoint {checkpoint_id}"
    )


def check_consistency(url: str, key: Ed25519PublicKey, old: int, new: int) -> str:
    response = httpx.get(
        f"{url}/v1/audit/proofs/consistency", timeout=30, params={"old": old, "new": new}
    )
    response.raise_for_status()
    proof = response.json()
    old_trees = _signed_body(proof["old"], key)["partitions"]
    new_trees = _signed_body(proof["new"], key)["partitions"]
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
