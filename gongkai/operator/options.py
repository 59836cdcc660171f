"""What the command line's verbs share: the console, the common options and the local key."""

from __future__ import annotations

import time
from datetime import timedelta, timezone
from pathlib import Path
from typing import Annotated

import jwt
import typer
from cryptography.hazmat.primitives import serialization
from rich.console import Console

from shared.auth import LocalSigningKey, Role

console = Console()

DataDir = Annotated[
    Path, typer.Option(help="Where embedded data, keys and logs live.", envvar="GONGKAI_DATA_DIR")
]
DatabaseUrl = Annotated[
    str | None,
    typer.Option(
        help="An external PostgreSQL server (owner role) instead of the embedded one.",
        envvar="GONGKAI_DATABASE_URL",
    ),
]
NatsUrl = Annotated[
    str | None,
    typer.Option(
        help="An external NATS server with JetStream instead of the embedded one.",
        envvar="GONGKAI_NATS_URL",
    ),
]
CHINA = timezone(timedelta(hours=8))


LOCAL_ISSUER = "gongkai-local"  # a data directory whose stack has not named its issuer
DEV_KID = "local-dev"  # the development key's id in the identity service's JWKS


class DevKey(LocalSigningKey):
    """The data directory's development key, as the stack there trusts it: tokens carry the
    stack's issuer (the identity service's URL, which `gongkai up` writes beside the key)
    and the key id the identity JWKS publishes it under."""

    issuer = LOCAL_ISSUER

    def issue(
        self,
        *,
        issuer: str | None = None,
        audience: str = "gongkai",
        subject: str,
        role: Role | str,
        org: str | None = None,
        name: str | None = None,
        ttl_seconds: int = 8 * 3600,
    ) -> str:
        now = int(time.time())
        claims = {
            "iss": self.issuer if issuer in (None, LOCAL_ISSUER) else issuer,
            "aud": audience,
            "sub": subject,
            "role": str(role),
            "org": org,
            "name": name,
            "iat": now,
            "exp": now + ttl_seconds,
        }
        private = serialization.load_pem_private_key(self.private_pem, password=None)
        return jwt.encode(claims, private, algorithm="EdDSA", headers={"kid": DEV_KID})  # type: ignore[arg-type]


def issuer_file(data_dir: Path) -> Path:
    return data_dir / "keys" / "issuer"


def signing_key(data_dir: Path) -> tuple[DevKey, Path]:
    """The local key pair for the embedded default (created on first use), stamping the
    issuer of the stack that last ran on this data directory."""
    loaded = LocalSigningKey.load_or_create(data_dir / "keys" / "signing.pem")
    key = DevKey(loaded.private_pem)
    if issuer_file(data_dir).exists():
        key.issuer = issuer_file(data_dir).read_text(encoding="utf-8").strip() or LOCAL_ISSUER
    public = data_dir / "keys" / "signing.pub.pem"
    public.write_bytes(key.public_pem)
    return key, public
