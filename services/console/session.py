"""The signed-in person's session: an encrypted cookie, an idle timeout and a CSRF token.

The cookie holds the person's tokens and nothing else of theirs; Fernet (from
`cryptography`, already a dependency) encrypts and authenticates it, so neither the browser's
scripts (HttpOnly) nor the person can read or alter it, and any replica with the key file can
read it (no server-side store). A session unused for `idle_minutes` is over.
"""

from __future__ import annotations

import json
import secrets
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet, InvalidToken

SESSION_COOKIE = "gk_session"
SIGNIN_COOKIE = "gk_signin"  # state, nonce and PKCE verifier between /signin and /callback
SIGNIN_SECONDS = 600
# a random name for the browser, set at sign-in, that the reverse proxy hashes to keep a
# browser on one console replica (deploy/nginx/default.conf.template): token refreshes are
# shared within a process only (signin.Identity.refresh). It says nothing of the person.
ROUTE_COOKIE = "gk_route"


@dataclass
class Session:
    # repr=False: a logged traceback or a debugger's listing never shows a token
    access_token: str = field(repr=False)
    refresh_token: str | None = field(repr=False)
    expires_at: float  # the access token's expiry (epoch seconds)
    id_token: str | None = field(repr=False)
    person: str  # the token's subject
    name: str
    role: str
    org: str | None
    csrf: str = field(default_factory=lambda: secrets.token_urlsafe(24), repr=False)
    seen: float = field(default_factory=time.time)
    todo: int = 0  # the menu's 待办 count, as last asked of the notification service
    todo_at: float = 0.0  # when it was asked (0: ask on the next page)
    # an auditor's "as of" day (ISO date): every page reads the records as they stood then
    as_of: str | None = None

    def idle(self, now: float, idle_seconds: float) -> bool:
        return now - self.seen > idle_seconds


def load_key(path: Path) -> bytes:
    """The cookie key, created once beside the data (owner-only)."""
    if path.exists():
        return path.read_bytes().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    key = Fernet.generate_key()
    path.write_bytes(key)
    path.chmod(0o600)
    return key


class Sealer:
    """Encrypts what the console keeps in cookies, with a time limit on reading it back."""

    def __init__(self, key: bytes) -> None:
        self._fernet = Fernet(key)

    def seal(self, value: dict[str, Any]) -> str:
        return self._fernet.encrypt(json.dumps(value).encode()).decode()

    def open(self, sealed: str | None, max_age: float) -> dict[str, Any] | None:
        if not sealed:
            return None
        try:
            opened = json.loads(self._fernet.decrypt(sealed.encode(), ttl=int(max_age)))
        except (InvalidToken, ValueError):
            return None
        return opened if isinstance(opened, dict) else None

    def session(self, sealed: str | None, idle_seconds: float) -> Session | None:
        """The session in a cookie, or None when there is none, it was altered, or it idled
        out (the cookie is re-sealed on every page, so its age is the time since the last)."""
        opened = self.open(sealed, idle_seconds)
        if opened is None:
            return None
        try:
            return Session(**opened)
        except TypeError:
            return None

    def seal_session(self, session: Session) -> str:
        return self.seal(asdict(session))


def same_token(expected: str, given: str | None) -> bool:
    return given is not None and secrets.compare_digest(expected, given)
