"""Personal data inside events, erasable (A7): crypto-shredding with a key per person.

A member of the public's name, phone number or ID number goes into an event only sealed:
AES-256-GCM under that person's key, with the person id as associated data (a sealed value
cannot be moved to another person). The keys live in the service's `person_keys` table and
never leave the database: not in an event, an export or a message. Erasure deletes the key;
the event's bytes, and so the hash chain, stay as they were, and every later read of the
envelope (a rebuild, a replay as of any time, a read model's query) gets None: "erased".
Read models keep the envelope as it is, sealed; a query opens it when it is read.
"""

from __future__ import annotations

import base64
import json
import secrets
from collections.abc import Sequence
from typing import Any

import asyncpg
import structlog
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

log = structlog.get_logger()

NONCE_BYTES = 12
ERASED = "已删除"  # what a read model shows in place of an erased person's data
UNREADABLE = "无法读取（数据已损坏）"  # ... in place of sealed data whose bytes were altered


class Unreadable(ValueError):
    """Sealed personal data that does not open with its person's key: its bytes were altered
    (or it is no envelope at all). Never erasure, which reads as None."""


def _canonical(fields: dict[str, str]) -> bytes:
    return json.dumps(fields, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()


async def _key(conn: asyncpg.Connection, person_id: str) -> bytes | None:
    key: bytes | None = await conn.fetchval(
        "SELECT key FROM person_keys WHERE person_id = $1", person_id
    )
    return key


async def seal(conn: asyncpg.Connection, person_id: str, fields: dict[str, str]) -> dict[str, str]:
    """The envelope an event carries: {"person": id, "sealed": base64(nonce + ciphertext)}.

    The person's key is made on first use, in the caller's transaction (so it goes if the
    command's events do not commit)."""
    await conn.execute(
        "INSERT INTO person_keys (person_id, key) VALUES ($1, $2) ON CONFLICT DO NOTHING",
        person_id,
        AESGCM.generate_key(bit_length=256),
    )
    key = await _key(conn, person_id)
    if key is None:
        raise ValueError(f"no key for {person_id}")
    nonce = secrets.token_bytes(NONCE_BYTES)
    sealed = AESGCM(key).encrypt(nonce, _canonical(fields), person_id.encode())
    return {"person": person_id, "sealed": base64.b64encode(nonce + sealed).decode()}


async def unseal(conn: asyncpg.Connection, envelope: dict[str, Any]) -> dict[str, str] | None:
    """The fields sealed in `envelope`, or None once the person's key is destroyed."""
    return _open(await _key(conn, envelope["person"]), envelope)


async def unseal_all(
    conn: asyncpg.Connection, envelopes: Sequence[dict[str, Any]]
) -> list[dict[str, str] | None]:
    """`unseal` of each envelope, in order, reading the keys they need at once (a list of
    people, as a read shows it, is one query, not one per person)."""
    keys = await _keys(conn, envelopes)
    return [_open(keys.get(envelope["person"]), envelope) for envelope in envelopes]


async def unseal_each(
    conn: asyncpg.Connection, envelopes: Sequence[dict[str, Any]]
) -> list[dict[str, str] | Unreadable | None]:
    """`unseal_all`, except that an envelope that does not open (its bytes altered in a read
    model or a log) is given as its `Unreadable` error, logged, for the list to show it as
    unreadable: one damaged record does not hide every other one."""
    keys = await _keys(conn, envelopes)
    opened: list[dict[str, str] | Unreadable | None] = []
    for envelope in envelopes:
        person = envelope.get("person") if isinstance(envelope, dict) else None
        try:
            if not isinstance(person, str):
                raise Unreadable("not a sealed envelope")
            opened.append(_open(keys.get(person), envelope))
        except Unreadable as error:
            log.error("personal_data_unreadable", person_id=person, why=str(error))
            opened.append(error)
    return opened


async def _keys(conn: asyncpg.Connection, envelopes: Sequence[dict[str, Any]]) -> dict[str, bytes]:
    if not envelopes:
        return {}
    rows = await conn.fetch(
        "SELECT person_id, key FROM person_keys WHERE person_id = ANY($1::text[])",
        sorted({str(e.get("person")) for e in envelopes if isinstance(e, dict)}),
    )
    return {row["person_id"]: row["key"] for row in rows}


def _open(key: bytes | None, envelope: dict[str, Any]) -> dict[str, str] | None:
    if key is None:
        return None
    person_id = envelope["person"]
    try:
        raw = base64.b64decode(envelope["sealed"], validate=True)
        plain = AESGCM(key).decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], person_id.encode())
        fields = json.loads(plain)
    except (InvalidTag, ValueError, TypeError, KeyError) as error:
        raise Unreadable(f"personal data of {person_id} does not open with its key") from error
    if not isinstance(fields, dict):
        raise Unreadable(f"personal data of {person_id} is not a set of fields")
    return fields


async def destroy_key(conn: asyncpg.Connection, person_id: str) -> bool:
    """Erase the person: delete their key. True if there was one."""
    deleted = await conn.fetchval(
        "DELETE FROM person_keys WHERE person_id = $1 RETURNING person_id", person_id
    )
    return deleted is not None


def mask_phone(phone: str) -> str:
    """138****5678: the first three and the last four digits (two and two if short)."""
    keep = (3, 4) if len(phone) >= 10 else (2, 2)
    return phone[: keep[0]] + "*" * (len(phone) - sum(keep)) + phone[-keep[1] :]


def mask_id_number(number: str) -> str:
    """110105********002X: the region code and the last four characters."""
    return number[:6] + "*" * (len(number) - 10) + number[-4:]
