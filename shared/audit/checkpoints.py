"""Signed checkpoints of a service's log (A6), and the proofs an auditor asks for.

A checkpoint lists, for every partition (township), how many events it had and the Merkle
root over their chain hashes; its own `root` is the Merkle root over those entries. The
service signs the canonical JSON of it, its id included, with Ed25519. Proofs follow
RFC 9162 per partition.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from typing import Any

import asyncpg
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from shared.audit import merkle
from shared.envelope import canonical_json, json_time
from shared.errors import NotFound


def key_id(public_pem: bytes) -> str:
    return hashlib.sha256(public_pem).hexdigest()[:16]


def public_pem(key: Ed25519PrivateKey) -> bytes:
    return key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def summary_root(partitions: dict[str, dict[str, Any]]) -> str:
    """The checkpoint's root: a Merkle tree over (partition, size, root), sorted."""
    leaves = [canonical_json([p, v["size"], v["root"]]) for p, v in sorted(partitions.items())]
    return merkle.root(leaves).hex()


async def partition_leaves(conn: Any, partition: str, size: int) -> list[bytes]:
    rows = await conn.fetch(
        "SELECT hash FROM events WHERE partition = $1 AND sequence <= $2 ORDER BY sequence",
        partition,
        size,
    )
    return [r["hash"] for r in rows]


async def sign_checkpoint(
    pool: asyncpg.Pool, key: Ed25519PrivateKey, *, service: str, now: datetime
) -> dict[str, Any]:
    """Sign the current head of every partition (only committed events are counted)."""
    async with pool.acquire() as conn, conn.transaction(isolation="repeatable_read"):
        heads = await conn.fetch("SELECT partition, sequence FROM partition_heads ORDER BY 1")
        partitions = {}
        for head in heads:
            leaves = await partition_leaves(conn, head["partition"], head["sequence"])
            partitions[head["partition"]] = {
                "size": len(leaves),
                "root": merkle.root(leaves).hex(),
            }
        # the id is signed too: a server cannot pass one checkpoint off as another
        checkpoint_id = await conn.fetchval(
            "SELECT nextval(pg_get_serial_sequence('checkpoints', 'id'))"
        )
        body = {
            "id": checkpoint_id,
            "service": service,
            "issued_at": json_time(now),
            "partitions": partitions,
            "root": summary_root(partitions),
        }
        raw = canonical_json(body)
        pem = public_pem(key)
        await conn.execute(
            "INSERT INTO checkpoints (id, issued_at, body, signature, key_id)"
            " VALUES ($1, $2, $3, $4, $5)",
            checkpoint_id,
            now,
            raw,
            key.sign(raw),
            key_id(pem),
        )
    return await checkpoint(pool, checkpoint_id)


def shape(row: asyncpg.Record) -> dict[str, Any]:
    return {
        "id": row["id"],
        "body": row["body"].decode(),
        "signature": row["signature"].hex(),
        "key_id": row["key_id"],
    }


async def checkpoint(pool: Any, checkpoint_id: int) -> dict[str, Any]:
    row = await pool.fetchrow("SELECT * FROM checkpoints WHERE id = $1", checkpoint_id)
    if row is None:
        raise NotFound(f"没有找到检查点 {checkpoint_id}：请核对后再试。")
    return shape(row)


async def checkpoints(pool: Any) -> list[dict[str, Any]]:
    return [shape(r) for r in await pool.fetch("SELECT * FROM checkpoints ORDER BY id")]


async def inclusion(pool: Any, *, event_id: str, checkpoint_id: int) -> dict[str, Any]:
    """The audit path of an event under a checkpoint's root for its partition."""
    signed = await checkpoint(pool, checkpoint_id)
    event = await pool.fetchrow(
        "SELECT partition, sequence, hash FROM events WHERE id = $1::uuid", event_id
    )
    if event is None:
        raise NotFound(f"没有找到事件 {event_id}：请核对后再试。")
    tree = json.loads(signed["body"])["partitions"].get(event["partition"])
    if tree is None or event["sequence"] > tree["size"]:
        raise NotFound(f"事件 {event_id} 不在检查点 {checkpoint_id} 之下：请换一个更新的检查点。")
    leaves = await partition_leaves(pool, event["partition"], tree["size"])
    index = event["sequence"] - 1
    return {
        "checkpoint": signed,
        "partition": event["partition"],
        "leaf": event["hash"].hex(),
        "index": index,
        "size": tree["size"],
        "root": tree["root"],
        "path": [p.hex() for p in merkle.inclusion_proof(leaves, index)],
    }


async def consistency(pool: Any, *, old_id: int, new_id: int) -> dict[str, Any]:
    """Per partition, the proof that the newer checkpoint extends the older one."""
    old, new = await checkpoint(pool, old_id), await checkpoint(pool, new_id)
    old_trees = json.loads(old["body"])["partitions"]
    new_trees = json.loads(new["body"])["partitions"]
    proofs = {}
    for partition, tree in old_trees.items():
        grown = new_trees.get(partition, {"size": 0})["size"]
        if grown < tree["size"]:
            raise NotFound(f"检查点 {new_id} 不包含分区 {partition}：请核对后再试。")
        leaves = await partition_leaves(pool, partition, grown)
        proofs[partition] = [p.hex() for p in merkle.consistency_proof(leaves, tree["size"])]
    return {"old": old, "new": new, "proofs": proofs}
