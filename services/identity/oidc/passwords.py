"""Hashing secrets with argon2id (argon2-cffi). The default parameters are RFC 9106's second
recommended option (t=3, m=64 MiB, p=4), above OWASP's minimum (m=19 MiB, t=2, p=1);
`GONGKAI_IDENTITY_ARGON2_PROFILE=cheapest` is for tests only. Hashing is CPU work: it runs in
a worker thread, so the event loop keeps serving."""

from __future__ import annotations

import asyncio
import hmac
import secrets
from hashlib import sha256

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from argon2.profiles import CHEAPEST, RFC_9106_LOW_MEMORY

from shared.phone import mobile, plain

PROFILES = {"rfc9106": RFC_9106_LOW_MEMORY, "cheapest": CHEAPEST}
# activation codes: no 0/O, 1/I/L, so a printed code reads back unambiguously
ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"


class Hasher:
    def __init__(self, profile: str = "rfc9106") -> None:
        self.hasher = PasswordHasher.from_parameters(PROFILES[profile])
        # verified against when a login name is unknown: the same work, the same answer
        self._decoy = self.hasher.hash(secrets.token_urlsafe(16))

    async def hash(self, secret: str) -> str:
        return await asyncio.to_thread(self.hasher.hash, secret)

    async def verify(self, hashed: str | None, secret: str) -> bool:
        def check() -> bool:
            try:
                return self.hasher.verify(hashed or self._decoy, secret) and hashed is not None
            except (VerificationError, InvalidHashError):
                return False

        return await asyncio.to_thread(check)


def activation_code() -> str:
    """A one-time code for a first sign-in: 12 characters (about 59 bits), in groups of 4."""
    raw = "".join(secrets.choice(ALPHABET) for _ in range(12))
    return "-".join(raw[i : i + 4] for i in range(0, 12, 4))


def normal_code(code: str) -> str:
    return code.replace("-", "").replace(" ", "").upper()


def login_hash(pepper: bytes, login_name: str) -> str:
    """The login name as the credential table keeps it: a keyed hash (HMAC-SHA256 under a
    key that never leaves the database), so the table holds no phone or ID number. A mobile
    number is its 11 digits however it is typed (with spaces, +86), as the office issued it."""
    key = mobile(login_name) or plain(login_name).upper()  # an ID number in ASCII too
    return hmac.new(pepper, key.encode(), sha256).hexdigest()


def token_hash(token: str) -> str:
    """Codes, refresh tokens and session ids are kept only as their SHA-256."""
    return sha256(token.encode()).hexdigest()
