"""The identity service's composition root: `DEFINITION`, served by `main()`
(`gongkai serve identity`, or `python -m services.identity.app`).

At start it makes the OpenID Connect provider (signing keys from its table, rotated on
schedule) and the credential policies from `GONGKAI_IDENTITY_*`, and verifies bearer tokens
with the provider's own keys (and the development key where it is published): it cannot
fetch its own JWKS over HTTP while serving the request that needs it."""

from __future__ import annotations

from services.identity.api import ROUTERS
from services.identity.events import REGISTRY
from services.identity.handlers import Secrets
from services.identity.oidc.config import IdentitySettings
from services.identity.oidc.passwords import Hasher
from services.identity.oidc.provider import Provider
from services.identity.policies import subscriptions
from services.identity.projections import READ_MODELS
from shared.runtime import Periodic, Runtime, ServiceDefinition, serve
from shared.settings import ServiceSettings

KEY_CHECK_SECONDS = 3600.0


def development_key(s: ServiceSettings, settings: IdentitySettings) -> str | None:
    """The development key the JWKS also publishes (kid "local-dev", so `gongkai token` works
    on the embedded default), or none: never in production, where whoever holds the data
    directory's key could mint tokens every service accepts."""
    if s.environment == "production":
        if settings.identity_dev_public_key_file:
            raise ValueError("GONGKAI_IDENTITY_DEV_PUBLIC_KEY_FILE is for development only")
        return None
    if settings.identity_dev_public_key_file:
        return settings.identity_dev_public_key_file
    return str(s.jwt_public_key_file) if s.jwt_public_key_file else None


def periodic(runtime: Runtime) -> list[Periodic]:
    s = runtime.settings
    settings = IdentitySettings()
    dev_key = development_key(s, settings)
    provider = Provider(
        runtime.pool,
        settings,
        runtime.clock,
        issuer=s.jwt_issuer,
        audience=s.jwt_audience,
        dev_public_pem=open(dev_key, "rb").read() if dev_key else None,  # noqa: SIM115
    )
    runtime.components["provider"] = provider
    runtime.components["secrets"] = Secrets(
        Hasher(settings.identity_argon2_profile),
        settings.password_policy(),
        settings.lockout_policy(),
        settings.identity_activation_days,
    )
    provider.revocations = getattr(runtime, "revocations", None)
    runtime.verifier = provider  # type: ignore[assignment]
    return [Periodic("signing-keys", KEY_CHECK_SECONDS, provider.load_keys)]


DEFINITION = ServiceDefinition(
    name="identity",
    title="Gongkai identity service",
    description="People and the posts they hold (from the directory, or granted here), "
    "credentials, and sign-in: an OpenID Connect provider whose tokens every service verifies.",
    registry=REGISTRY,
    read_models=READ_MODELS,
    routers=ROUTERS,
    subscriptions=lambda runtime: subscriptions(runtime.executor),
    migrations=("services.identity.migrations",),
    periodic=periodic,
    default_port=8105,
)


def main() -> None:
    serve(DEFINITION)


if __name__ == "__main__":
    main()
