"""TLS to the broker, for deployments over several machines (issue 21): a service verifies
the broker by the county's own CA (GONGKAI_NATS_TLS_CA_FILE) and serves through it; a client
that does not know that CA is refused the connection."""

from __future__ import annotations

import ipaddress
import ssl
from datetime import UTC, datetime, timedelta
from pathlib import Path

import nats
import nats.errors
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from services.pledge.app import DEFINITION as PLEDGE
from shared.clock import FixedClock
from shared.embedded import EmbeddedNats
from shared.messaging import connect, tls_context
from tests.e2e.helpers import Directory, eventually
from tests.support import Servers, running


def _certificate(
    subject: str, key: ec.EllipticCurvePrivateKey, issuer: x509.Name | None, signer: object
) -> x509.Certificate:
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)])
    now = datetime.now(UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(issuer or name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=1))
    )
    if issuer is None:  # the CA
        builder = builder.add_extension(x509.BasicConstraints(ca=True, path_length=0), True)
    else:
        san = [x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")]
        builder = builder.add_extension(x509.SubjectAlternativeName(san), False)
    return builder.sign(signer, hashes.SHA256())  # type: ignore[arg-type]


def county_ca(folder: Path) -> tuple[Path, Path, Path]:
    """A CA of the county's and a broker certificate it signed: (ca, cert, key) PEM files."""
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = _certificate("县级 CA", ca_key, None, ca_key)
    key = ec.generate_private_key(ec.SECP256R1())
    cert = _certificate("nats", key, ca.subject, ca_key)
    files = folder / "ca.pem", folder / "nats.pem", folder / "nats-key.pem"
    files[0].write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    files[1].write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    files[2].write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return files


async def test_a_service_reaches_the_broker_over_tls_by_the_countys_ca(
    servers: Servers, tmp_path: Path
) -> None:
    ca, cert, key = county_ca(tmp_path)
    broker = EmbeddedNats(
        tmp_path / "nats",
        extra_config=f'tls {{\n  cert_file: "{cert}"\n  key_file: "{key}"\n}}\n',
    )
    broker.start()
    try:
        url = broker.url.replace("nats://", "tls://")
        # the system's CAs do not know the county's: no connection
        with pytest.raises((ssl.SSLError, OSError, nats.errors.NoServersError)):
            await nats.connect(url, allow_reconnect=False, max_reconnect_attempts=0)
        clock = FixedClock(datetime(2027, 1, 4, 2, 0, tzinfo=UTC))
        async with running(servers, [PLEDGE], clock, nats_url=url, nats_tls_ca_file=ca) as services:
            pledge = services["pledge"]
            await Directory(pledge.client, servers).build()
            js = pledge.runtime.js
            assert js is not None
            assert pledge.runtime.nc is not None
            assert pledge.runtime.nc.connected_url is not None
            assert pledge.runtime.nc.connected_url.scheme == "tls"
            stream = pledge.subjects.stream("pledge")

            async def relayed() -> bool:
                count = await pledge.runtime.pool.fetchval("SELECT count(*) FROM events")
                return bool((await js.stream_info(stream)).state.messages == count)

            await eventually(relayed)
        reader = await connect(url, name="reader", tls=tls_context(ca))
        await reader.close()
    finally:
        broker.stop()
