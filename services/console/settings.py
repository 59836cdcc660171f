"""The console's configuration (`GONGKAI_CONSOLE_` environment)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class ConsoleSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="GONGKAI_CONSOLE_", extra="ignore")

    environment: Literal["development", "production"] = "development"
    host: str = "127.0.0.1"
    port: int = 8100
    # where people reach the console (the sign-in's redirect URI is <public_url>/callback)
    public_url: str = "http://127.0.0.1:8100"
    # the identity service as browsers reach it: its issuer (tokens' `iss`) and sign-in pages
    identity_url: str = "http://127.0.0.1:8105"
    # where the console itself reaches the identity service (discovery, token, revocation,
    # JWKS), when that is another address than browsers use: behind a reverse proxy the issuer
    # is a public host and this the internal one (http://identity:8105). None: identity_url
    identity_internal_url: str | None = None
    client_id: str = "console"
    client_secret_file: Path | None = None  # a confidential client's secret; none: PKCE only
    # the services the console calls with the person's own token
    pledge_url: str = "http://127.0.0.1:8101"
    review_url: str = "http://127.0.0.1:8102"
    evaluation_url: str = "http://127.0.0.1:8103"
    notification_url: str = "http://127.0.0.1:8104"
    # the public voting page (the evaluation service's `/vote`, wherever the proxy puts it)
    vote_url: str = "http://127.0.0.1:8103/vote"
    # the key that encrypts session cookies (created once, 0600, in development); replicas
    # share the file, so in production it must exist (each replica would make its own)
    session_key_file: Path = Path(".gongkai/keys/console-session.key")
    idle_minutes: int = 30  # a session unused this long signs the person out
    secure_cookies: bool = False  # Secure cookies: on behind HTTPS (production)

    @model_validator(mode="after")
    def _production_shares_a_key(self) -> ConsoleSettings:
        if self.environment == "production" and not self.session_key_file.is_file():
            raise ValueError(
                f"production needs the session key file {self.session_key_file} (one file "
                "shared by every console replica; docs/operations.md says how to make it)"
            )
        return self

    @property
    def identity_backchannel(self) -> str:
        """The identity service's address from the console itself."""
        return (self.identity_internal_url or self.identity_url).rstrip("/")
