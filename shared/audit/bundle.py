"""Export a service's log as a portable bundle: events.jsonl (every envelope, by partition
and sequence), checkpoints.jsonl (signed), public_key.pem, manifest.json."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import asyncpg

from shared.eventstore.postgres import COLUMNS, decode_row


async def export_bundle(
    pool: asyncpg.Pool,
    folder: Path,
    *,
    service: str,
    public_key_pem: bytes,
    partition: str | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> dict[str, Any]:
    folder.mkdir(parents=True, exist_ok=True)
    async with pool.acquire() as conn, conn.transaction(isolation="repeatable_read"):
        total = await conn.fetchval(
            "SELECT count(*) FROM events WHERE $1::text IS NULL OR partition = $1", partition
        )
        written = 0
        with (folder / "events.jsonl").open("w", encoding="utf-8") as out:
            query = (
                f"SELECT {COLUMNS} FROM events WHERE $1::text IS NULL OR partition = $1"
                " ORDER BY partition, sequence"
            )
            async for row in conn.cursor(query, partition, prefetch=2000):
                out.write(decode_row(row).model_dump_json() + "\n")
                written += 1
                if progress and written % 500 == 0:
                    progress(written, total)
        rows = await conn.fetch("SELECT * FROM checkpoints ORDER BY id")
    with (folder / "checkpoints.jsonl").open("w", encoding="utf-8") as out:
        for row in rows:
            if partition is not None and partition not in json.loads(row["body"])["partitions"]:
                continue  # a one-township bundle keeps the checkpoints that cover it
            out.write(
                json.dumps(
                    {
                        "id": row["id"],
                        "body": row["body"].decode(),
                        "signature": row["signature"].hex(),
                        "key_id": row["key_id"],
                    }
                )
                + "\n"
            )
    (folder / "public_key.pem").write_bytes(public_key_pem)
    manifest = {
        "service": service,
        "partition": partition,
        "events": written,
        "checkpoints": len(rows),
    }
    (folder / "manifest.json").write_text(json.dumps(manifest, indent=2), encoding="utf-8")
    if progress:
        progress(written, total)
    return manifest
