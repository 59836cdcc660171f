"""The console's configuration (`GONGKAI_CONSOLE_` environment)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic_settings import BaseSettings, SettingsConfigDict


class ConsoleSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="GONGKAI_CONSOLE_", extra="ignore")

    environment: Literal["development", "production"] = "development"
    host: str = "127.0.0.1"
    port: int = 8100
    # where people reach the console (the sign-in's redirect URI is <public_url>/callback)
    public_url: str = "http://127.0.0.1:8100"
    # the identity service: issuer and OpenID Connect discovery
    identity_url: str = "http://127.0.0.1:8105"
    client_id: str = "console"
    client_secret_file: Path | None = None  # a confidential client's secret; none: PKCE only
    # the services the console calls with the person's own token
    pledge_url: str = "http://127.0.0.1:8101"
    review_url: str = "http://127.0.0.1:8102"
    evaluation_url: str = "http://127.0.0.1:8103"
    notification_url: str = "http://127.0.0.1:8104"
    # the public voting page (the evaluation service's `/vote`, wherever the proxy puts it)
    vote_url: str = "http://127.0.0.1:8103/vote"
    # the key that encrypts session cookies (created once, 0600); replicas share the file
    session_key_file: Path = Path(".gongkai/keys/console-session.key")
    idle_minutes: int = 30  # a session unused this long signs the person out
    secure_cookies: bool = False  # Secure cookies: on behind HTTPS (production)
