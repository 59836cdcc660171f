"""Invitation codes (issue 17): random, easy to type, stored only as a hash. Pure.

16 characters of Crockford's base32 alphabet (digits and letters without I, L, O and U),
grouped XXXX-XXXX-XXXX-XXXX: exactly 80 bits from `secrets`. Crockford's alphabet rather than
one without 0 and 1 (31 characters: 16 of them give only 79.3 bits) because what is typed is
forgiven: lower case, spaces and dashes are ignored, O is read as 0 and I or L as 1, so the
look-alikes a person may type all land on the right character.
"""

from __future__ import annotations

import hashlib
import secrets

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford's base32: 5 bits a character
LENGTH = 16  # 80 bits
_LOOK_ALIKES = str.maketrans({"O": "0", "I": "1", "L": "1"})


def new_code() -> str:
    """A fresh code, grouped for reading aloud and typing: `7Q2M-XK4D-…`."""
    raw = "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))
    return "-".join(raw[i : i + 4] for i in range(0, LENGTH, 4))


def normalise(typed: str) -> str | None:
    """The code as typed (any case, spaces, dashes, look-alikes), or None if it cannot be one."""
    raw = "".join(typed.split()).replace("-", "").upper().translate(_LOOK_ALIKES)
    if len(raw) != LENGTH or any(c not in ALPHABET for c in raw):
        return None
    return "-".join(raw[i : i + 4] for i in range(0, LENGTH, 4))


def code_hash(code: str) -> str:
    """What is stored instead of the code. A plain SHA-256 suffices: the code has 80 random
    bits, so nobody can search for it from the hash, and it dies when the round closes."""
    return hashlib.sha256(f"gongkai-invitation:{code}".encode()).hexdigest()


def masked_name(name: str | None) -> str | None:
    """张*兰: enough for a slip to reach its person, not enough to read it off the sheet."""
    if not name:
        return None
    if len(name) <= 2:
        return name[0] + "*"
    return name[0] + "*" * (len(name) - 2) + name[-1]
