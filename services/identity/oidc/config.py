"""The identity service's own settings (`GONGKAI_IDENTITY_*`, and the access tokens' lifetime
`GONGKAI_ACCESS_TOKEN_MINUTES`); docs/operations.md lists them."""

from __future__ import annotations

from pydantic_settings import BaseSettings, SettingsConfigDict

from services.identity.aggregates import LockoutPolicy, PasswordPolicy


class IdentitySettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="GONGKAI_", extra="ignore")

    access_token_minutes: int = 5
    identity_refresh_token_hours: int = 8  # a refresh token's family ends this long after sign-in
    identity_code_seconds: int = 120  # an authorization code lives this long, used once
    identity_session_idle_minutes: int = 30
    identity_key_rotation_days: int = 30
    identity_argon2_profile: str = "rfc9106"  # "cheapest" only in tests
    identity_password_min_length: int = 8
    identity_password_history: int = 5
    identity_password_max_age_days: int = 90  # 0: passwords do not expire
    identity_activation_days: int = 14
    identity_lock_failures: int = 5  # 0: no account lockout
    identity_lock_minutes: int = 30
    identity_max_lock_minutes: int = 24 * 60
    identity_address_failures: int = 20  # 0: no per-address limit
    identity_address_window_minutes: int = 15
    # the console, the first registered client: public, PKCE; its redirect URIs (comma-separated)
    identity_console_redirect_uris: str = "http://127.0.0.1:8100/callback"
    identity_cookie_secure: bool = False  # true behind TLS (production)
    # the embedded default's development key (`gongkai token`), published as kid "local-dev"
    identity_dev_public_key_file: str | None = None

    # a county's own OpenID Connect provider (issue 16.4), when it has one: the issuer exactly
    # as it names itself, this service's client there, and the claim of a verified ID number
    identity_upstream_issuer: str | None = None
    identity_upstream_client_id: str | None = None
    identity_upstream_client_secret: str | None = None
    identity_upstream_scopes: str = "openid phone"
    identity_upstream_id_number_claim: str | None = None

    def password_policy(self) -> PasswordPolicy:
        return PasswordPolicy(
            min_length=self.identity_password_min_length,
            history=self.identity_password_history,
            max_age_days=self.identity_password_max_age_days,
        )

    def lockout_policy(self) -> LockoutPolicy:
        return LockoutPolicy(
            failures=self.identity_lock_failures,
            lock_minutes=self.identity_lock_minutes,
            max_lock_minutes=self.identity_max_lock_minutes,
            address_failures=self.identity_address_failures,
            address_window_minutes=self.identity_address_window_minutes,
        )

    @property
    def console_url(self) -> str | None:
        """Where people reach the console: its first registered redirect URI without the
        `/callback` the console answers sign-in on (its public_url); None when it names none."""
        first = next((u.strip() for u in self.identity_console_redirect_uris.split(",")), "")
        return first.removesuffix("/callback") + "/" if first.endswith("/callback") else None

    @property
    def redirect_uris(self) -> frozenset[str]:
        return frozenset(
            u.strip() for u in self.identity_console_redirect_uris.split(",") if u.strip()
        )
