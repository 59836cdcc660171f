"""What /metrics counts of sign-in (beside every service's metrics)."""

from __future__ import annotations

from prometheus_client import Counter

SIGN_INS = Counter("gongkai_identity_sign_ins_total", "Sign-in attempts by outcome", ["outcome"])
LOCKOUTS = Counter("gongkai_identity_lockouts_total", "Accounts locked after repeated failures")
TOKENS = Counter(
    "gongkai_identity_tokens_total", "Tokens issued or refused by grant", ["grant", "outcome"]
)
