"""Configuration of one service process (pydantic-settings, `GONGKAI_` environment)."""

from __future__ import annotations

from datetime import timedelta, timezone
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit, urlunsplit

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class ServiceSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="GONGKAI_", extra="ignore")

    service: str = "pledge"
    environment: Literal["development", "production"] = "development"
    host: str = "127.0.0.1"
    port: int = 8101
    # The PostgreSQL server; the service uses its own database on it (gongkai_<service>).
    database_url: str = "postgresql://postgres@127.0.0.1:5432/postgres"
    database_name: str | None = None
    nats_url: str = "nats://127.0.0.1:4222"  # tls://… for TLS (the system's CAs, or the next)
    nats_tls_ca_file: Path | None = None  # the CA (PEM) that signed the brokers' certificates
    nats_tls_cert_file: Path | None = None  # a client certificate (PEM), where brokers ask one
    nats_tls_key_file: Path | None = None  # its private key (PEM)
    stream_replicas: int = 1
    nats_subject_root: str = "gongkai"  # several installations may share one NATS
    jwt_issuer: str = "gongkai-local"
    jwt_audience: str = "gongkai"
    jwt_public_key_file: Path | None = None
    jwks_url: str | None = None  # the identity provider's JWKS (keys by kid)
    # the longest a bearer token may live (exp - iat); revocations (posts ended, people
    # locked) are replayed and remembered this far back. Unless set: 60 in production, 30
    # days in development (`gongkai token --hours`)
    longest_token_minutes: int = 0
    checkpoint_key_file: Path | None = None  # Ed25519 private key (PEM) that signs checkpoints
    checkpoint_interval_seconds: float = 300.0
    local_utc_offset_hours: int = 8  # China Standard Time: how local dates and times are read
    log_json: bool = False  # unless set: true in production, JSON lines for a collector
    relay_enabled: bool = True
    max_body_bytes: int = 1_000_000
    # a multipart upload (an evidence file, with its parts), or a file an official sends as
    # the body (a workbook to import)
    max_upload_bytes: int = 12_000_000
    max_json_depth: int = 32  # deeper request bodies are refused before they are parsed
    # per client address, for callers without an officer's token (readers, raters); 0: off
    public_requests_per_second: float = 20.0
    public_burst: int = 200
    trusted_proxies: str = "127.0.0.1"  # reverse proxies whose X-Forwarded-For is believed
    # the public address the voting page is reached at (the board's or the console's host,
    # where a reverse proxy puts /vote): the links and QR codes on invitations; None: the
    # address the request that issues them came to
    public_base_url: str | None = None
    urn_batch: int = Field(default=10, ge=1, le=1000)  # web ballots appended together, at least

    @model_validator(mode="after")
    def _production_logs_json(self) -> ServiceSettings:
        if "log_json" not in self.model_fields_set:
            self.log_json = self.environment == "production"
        return self

    @model_validator(mode="after")
    def _token_lifetime_bound(self) -> ServiceSettings:
        if self.longest_token_minutes <= 0:
            self.longest_token_minutes = 60 if self.environment == "production" else 30 * 24 * 60
        return self

    @model_validator(mode="after")
    def _production_needs_real_identity(self) -> ServiceSettings:
        if self.service == "identity":
            return self  # the provider verifies tokens with its own keys (services/identity/app.py)
        if self.environment == "production" and not self.jwks_url:
            raise ValueError(
                "production needs GONGKAI_JWKS_URL (the local signing key is for development)"
            )
        if not self.jwks_url and not self.jwt_public_key_file:
            raise ValueError("set GONGKAI_JWT_PUBLIC_KEY_FILE or GONGKAI_JWKS_URL")
        return self

    @property
    def local_timezone(self) -> timezone:
        return timezone(timedelta(hours=self.local_utc_offset_hours))

    @property
    def database(self) -> str:
        return self.database_name or f"gongkai_{self.service}"

    @property
    def service_dsn(self) -> str:
        return with_database(self.database_url, self.database)


def with_database(dsn: str, database: str) -> str:
    parts = urlsplit(dsn)
    return urlunsplit(parts._replace(path=f"/{database}"))
