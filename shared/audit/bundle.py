"""Export a service's log as a portable bundle: events.jsonl (every envelope, by partition
and sequence), checkpoints.jsonl (signed), public_key.pem, manifest.json.

A bundle may hold the whole log, one township's partition, or a range of log positions. A
range starts mid-chain, so its Merkle roots cannot be recomputed from what it holds; instead
it carries proofs.jsonl: per partition, the inclusion proof of its last event that a signed
checkpoint covers. That event's hash commits to every link before it, so the chain checked
back from it to the range's first event is the one that was signed.

With `files` (`gongkai audit export --with-files`), the evidence files the exported events
record (shared/files.py) are written to files/, each named by its SHA-256: the verifier checks
each against the hash and size its event recorded.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import asyncpg

from shared.audit import merkle
from shared.audit.checkpoints import partition_leaves, shape
from shared.eventstore.postgres import COLUMNS, decode_row
from shared.files import file_refs_in, is_sha256

# the bytes of a file by its hash, read on the export's connection (None: not in the store)
FileReader = Callable[[asyncpg.Connection, str], Awaitable[bytes | None]]

SCOPE = (
    "($1::text IS NULL OR partition = $1)"
    " AND ($2::bigint IS NULL OR position >= $2) AND ($3::bigint IS NULL OR position <= $3)"
)


async def positions(
    pool: asyncpg.Pool, first: int | datetime | None, last: int | datetime | None
) -> tuple[int | None, int | None]:
    """A range given by log positions or times (inclusive) as log positions: from the first
    event at or after `first`, up to the last one at or before `last`. Nothing at or after
    `first` is a range past the end (empty), not the whole log."""
    earliest = (
        "SELECT coalesce(min(position), (SELECT coalesce(max(position), 0) + 1 FROM events))"
        " FROM events WHERE time >= $1"
    )
    latest = "SELECT coalesce(max(position), 0) FROM events WHERE time <= $1"
    return (
        await pool.fetchval(earliest, first) if isinstance(first, datetime) else first,
        await pool.fetchval(latest, last) if isinstance(last, datetime) else last,
    )


async def export_bundle(
    pool: asyncpg.Pool,
    folder: Path,
    *,
    service: str,
    public_key_pem: bytes,
    partition: str | None = None,
    first: int | None = None,
    last: int | None = None,
    progress: Callable[[int, int], None] | None = None,
    files: FileReader | None = None,
) -> dict[str, Any]:
    """Write the bundle; `first`/`last` (log positions, inclusive) make it a range bundle;
    with `files`, the evidence files its events record, in files/."""
    folder.mkdir(parents=True, exist_ok=True)
    ranged = first is not None or last is not None
    scope = (partition, first, last)
    async with pool.acquire() as conn, conn.transaction(isolation="repeatable_read"):
        total = await conn.fetchval(f"SELECT count(*) FROM events WHERE {SCOPE}", *scope)
        written, spans = 0, dict[str, tuple[int, int]]()  # partition: first, last sequence
        recorded: set[str] = set()  # the files the events record
        with (folder / "events.jsonl").open("w", encoding="utf-8") as out:
            query = f"SELECT {COLUMNS} FROM events WHERE {SCOPE} ORDER BY partition, sequence"
            async for row in conn.cursor(query, *scope, prefetch=2000):
                envelope = decode_row(row)
                out.write(envelope.model_dump_json() + "\n")
                if files is not None:
                    recorded |= {f["sha256"] for f in file_refs_in(envelope.data)}
                start, _ = spans.get(envelope.partition, (envelope.sequence, 0))
                spans[envelope.partition] = (start, envelope.sequence)
                written += 1
                if progress and written % 500 == 0:
                    progress(written, total)
        rows = await conn.fetch("SELECT * FROM checkpoints ORDER BY id")
        signed = [shape(row) for row in rows if _covers(row, partition)]
        proofs = await _range_proofs(conn, signed, spans) if ranged else []
        absent = await _write_files(conn, folder, recorded, files) if files is not None else []
    if ranged:  # only the checkpoints the proofs rest on
        used = {p["checkpoint_id"] for p in proofs}
        signed = [s for s in signed if s["id"] in used]
        _write_lines(folder / "proofs.jsonl", proofs)
    _write_lines(folder / "checkpoints.jsonl", signed)
    (folder / "public_key.pem").write_bytes(public_key_pem)
    manifest: dict[str, Any] = {
        "service": service,
        "partition": partition,
        "range": {"first": first, "last": last} if ranged else None,
        "events": written,
        "checkpoints": len(signed),
    }
    if files is not None:  # the verifier checks the files only in a bundle made with them
        manifest["files"] = len(recorded) - len(absent)
        manifest["files_missing_at_export"] = absent
    (folder / "manifest.json").write_text(json.dumps(manifest, indent=2), encoding="utf-8")
    if progress:
        progress(written, total)
    return manifest


async def _write_files(
    conn: asyncpg.Connection, folder: Path, recorded: set[str], read: FileReader
) -> list[str]:
    """Write each recorded file as files/<sha256>, as stored (the verifier, not the export,
    judges the bytes); the hashes the store does not have."""
    (folder / "files").mkdir(exist_ok=True)
    absent = []
    for sha in sorted(recorded):
        data = await read(conn, sha) if is_sha256(sha) else None
        if data is None:
            absent.append(sha)
        else:
            (folder / "files" / sha).write_bytes(data)
    return absent


def _covers(row: asyncpg.Record, partition: str | None) -> bool:
    """A one-township bundle keeps the checkpoints that cover that township."""
    return partition is None or partition in json.loads(row["body"])["partitions"]


async def _range_proofs(
    conn: asyncpg.Connection, signed: list[dict[str, Any]], spans: dict[str, tuple[int, int]]
) -> list[dict[str, Any]]:
    """Per partition: the latest checkpoint covering part of the range, and the inclusion
    proof of the range's last event under it (events after it are only hash-linked)."""
    proofs = []
    for partition, (start, end) in sorted(spans.items()):
        for checkpoint in reversed(signed):
            tree = json.loads(checkpoint["body"])["partitions"].get(partition)
            if tree is None or tree["size"] < start:
                continue
            sequence = min(end, tree["size"])
            leaves = await partition_leaves(conn, partition, tree["size"])
            proofs.append(
                {
                    "checkpoint_id": checkpoint["id"],
                    "partition": partition,
                    "sequence": sequence,
                    "path": [p.hex() for p in merkle.inclusion_proof(leaves, sequence - 1)],
                }
            )
            break
    return proofs


def _write_lines(path: Path, items: list[dict[str, Any]]) -> None:
    with path.open("w", encoding="utf-8") as out:
        for item in items:
            out.write(json.dumps(item) + "\n")
