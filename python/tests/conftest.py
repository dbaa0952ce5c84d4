"""Fixtures the suites share: the emulator's admin API around each test, and
the TLS node-oidc-provider instance msal Python can talk to. Helpers that are
not fixtures (addresses, sign-ins, closed ports) are in servers.py."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

import servers

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def admin():
    """The emulator's admin API, reset (users, scripts, faults, request log)
    before the test; fault rules cleared after it. A module that needs other
    settings overrides this fixture, taking it as its argument."""
    a = servers.Admin(servers.emulator_url())
    a.reset()
    a.call("DELETE", "requests")
    yield a
    a.call("DELETE", "faults")


def _ca_and_server_cert(directory):
    """A throw-away CA and a server certificate for IP:127.0.0.1 it signed
    (rustls refuses a CA certificate as the server's own: CaUsedAsEndEntity);
    returns the paths of the CA (to trust), the server certificate and its key."""
    import datetime
    import ipaddress
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    now = datetime.datetime.now(datetime.timezone.utc)

    def build(subject, issuer, public_key, signing_key, ca):
        b = (x509.CertificateBuilder().subject_name(subject).issuer_name(issuer)
             .public_key(public_key).serial_number(x509.random_serial_number())
             .not_valid_before(now - datetime.timedelta(hours=1))
             .not_valid_after(now + datetime.timedelta(days=1))
             .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True))
        if not ca:
            b = (b.add_extension(x509.SubjectAlternativeName(
                    [x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
                 .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False))
        return b.sign(signing_key, hashes.SHA256())

    ca_key, key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "idflow test CA")])
    ca = build(ca_name, ca_name, ca_key.public_key(), ca_key, True)
    leaf = build(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]), ca_name,
                 key.public_key(), ca_key, False)
    paths = [directory / n for n in ("ca.pem", "server.pem", "server-key.pem")]
    paths[0].write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    paths[1].write_bytes(leaf.public_bytes(serialization.Encoding.PEM))
    paths[2].write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return paths


@pytest.fixture(scope="module")
def provider(tmp_path_factory):
    """node-oidc-provider over TLS (msal refuses http), started for one test
    module: its info (issuer, clients) plus ``cafile``, the CA to trust."""
    ca, cert, key = _ca_and_server_cert(tmp_path_factory.mktemp("tls"))
    proc = subprocess.Popen(
        ["node", str(REPO / "testing/oidc-provider/server.mjs"), "--port", "0",
         "--issuer-path", "/tenant", "--tls-cert", str(cert), "--tls-key", str(key),
         "--device-interval", "1", "--exit-on-stdin-close"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        info = json.loads(proc.stdout.readline())
        saved = os.environ.get("REQUESTS_CA_BUNDLE")
        os.environ["REQUESTS_CA_BUNDLE"] = str(ca)  # msal (requests) trusts only this
        info["cafile"] = str(ca)
        yield info
    finally:
        if "saved" in locals():
            if saved is None:
                os.environ.pop("REQUESTS_CA_BUNDLE", None)
            else:
                os.environ["REQUESTS_CA_BUNDLE"] = saved
        proc.terminate()
        proc.wait(timeout=10)
