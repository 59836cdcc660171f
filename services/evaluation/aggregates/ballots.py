"""What a ballot carries instead of a rater id (E3), in rounds and satisfaction checks alike."""

from __future__ import annotations

import hashlib


def token_hash(scope_id: str, token: str) -> str:
    """What a ballot carries instead of a rater id: the hash of a one-time token."""
    return hashlib.sha256(f"{scope_id}:{token}".encode()).hexdigest()
