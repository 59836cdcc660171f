"""The identity service's own settings (`GONGKAI_IDENTITY_*`; the access tokens' lifetime is
`GONGKAI_ACCESS_TOKEN_MINUTES`, as every service reads it)."""

from __future__ import annotations

from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from services.identity.aggregates import LockoutPolicy, PasswordPolicy


class IdentitySettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="GONGKAI_IDENTITY_", extra="ignore")

    access_token_minutes: int = Field(
        5, validation_alias=AliasChoices("GONGKAI_ACCESS_TOKEN_MINUTES", "access_token_minutes")
    )
    refresh_token_hours: int = 8  # a refresh token's family ends this long after sign-in
    code_seconds: int = 120  # an authorization code lives this long, used once
    session_idle_minutes: int = 30
    key_rotation_days: int = 30
    argon2_profile: str = "rfc9106"  # "cheapest" only in tests
    password_min_length: int = 8
    password_history: int = 5
    password_max_age_days: int = 90  # 0: passwords do not expire
    activation_days: int = 14
    lock_failures: int = 5  # 0: no account lockout
    lock_minutes: int = 30
    max_lock_minutes: int = 24 * 60
    address_failures: int = 20  # 0: no per-address limit
    address_window_minutes: int = 15
    # the console, the first registered client: public, PKCE; its redirect URIs (comma-separated)
    console_redirect_uris: str = "http://127.0.0.1:8110/callback"
    cookie_secure: bool = False  # true behind TLS (production)
    # the embedded default's development key (`gongkai token`), published as kid "local-dev"
    dev_public_key_file: str | None = None

    def password_policy(self) -> PasswordPolicy:
        return PasswordPolicy(
            min_length=self.password_min_length,
            history=self.password_history,
            max_age_days=self.password_max_age_days,
        )

    def lockout_policy(self) -> LockoutPolicy:
        return LockoutPolicy(
            failures=self.lock_failures,
            lock_minutes=self.lock_minutes,
            max_lock_minutes=self.max_lock_minutes,
            address_failures=self.address_failures,
            address_window_minutes=self.address_window_minutes,
        )

    @property
    def redirect_uris(self) -> frozenset[str]:
        return frozenset(u.strip() for u in self.console_redirect_uris.split(",") if u.strip())
