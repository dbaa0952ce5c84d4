"""Service Fabric's managed identity as the platform serves it: over https
with the cluster's own certificate, which only the thumbprint in
IDENTITY_SERVER_THUMBPRINT makes a client trust. msal Python 1.39 and idflow
against the same emulator (``idflow emulator --tls --cert --key`` with a
self-signed certificate made here): the same dicts and equal caches for a
token, the same refusal of a wrong secret, and both refusing to talk to an
endpoint whose certificate is not the pinned one."""

from __future__ import annotations

import datetime
import hashlib
import ipaddress
import json
import os
import ssl
import subprocess
import urllib.request
from typing import Any, Dict, Iterator, Tuple

import msal
import pytest
import requests
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

import idflow
from test_managed_identity import (
    RESOURCE,
    VARIABLES,
    assert_equal_caches,
    assert_same,
    outcome,
)


def _self_signed(tmp) -> Tuple[str, str, str]:
    """A certificate for 127.0.0.1 that no root signs: (cert file, key file, SHA-1 hex)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "service fabric cluster")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(hours=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName(
            [x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = tmp / "cluster.pem", tmp / "cluster.key"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    der = cert.public_bytes(serialization.Encoding.DER)
    return str(cert_file), str(key_file), hashlib.sha1(der).hexdigest().upper()


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Dict[str, Any]]:
    cli = os.environ.get("IDFLOW_CLI")
    assert cli, "IDFLOW_CLI is unset: run the suite through scripts/test-python.sh"
    cert, key, thumbprint = _self_signed(tmp_path_factory.mktemp("service-fabric"))
    proc = subprocess.Popen([cli, "emulator", "--tls", "--cert", cert, "--key", key, "--port", "0"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        base = proc.stdout.readline().strip()
        assert base.startswith("https://127.0.0.1:"), (base, proc.stderr and proc.stderr.read())
        # The admin API over the same certificate: trusted for this one call.
        insecure = ssl.create_default_context()
        insecure.check_hostname = False
        insecure.verify_mode = ssl.CERT_NONE
        with urllib.request.urlopen(f"{base}/_admin/managed_identity", timeout=10,
                                    context=insecure) as resp:
            info = json.loads(resp.read())
        env = dict(info["sources"]["service_fabric"])
        assert env["IDENTITY_ENDPOINT"].startswith("https://"), env
        env["IDENTITY_SERVER_THUMBPRINT"] = thumbprint
        yield {"env": env, "thumbprint": thumbprint}
    finally:
        proc.terminate()
        proc.wait(timeout=10)


@pytest.fixture
def service_fabric(cluster, monkeypatch):
    for name in VARIABLES:
        monkeypatch.delenv(name, raising=False)
    for name, value in cluster["env"].items():
        monkeypatch.setenv(name, value)
    return cluster


def both():
    mc = msal.ManagedIdentityClient(msal.SystemAssignedManagedIdentity(),
                                    http_client=requests.Session(),
                                    token_cache=msal.SerializableTokenCache())
    ic = idflow.ManagedIdentityClient(dict(msal.SystemAssignedManagedIdentity()),
                                      token_cache=idflow.SerializableTokenCache())
    return mc, ic


def test_a_token_over_the_pinned_certificate_same_dicts_and_caches(service_fabric):
    mc, ic = both()
    first_m = mc.acquire_token_for_client(resource=RESOURCE)
    first_i = ic.acquire_token_for_client(resource=RESOURCE)
    assert "access_token" in first_m, first_m
    assert_same(first_m, first_i, "service fabric")
    assert first_i["token_source"] == "identity_provider"
    again_m = mc.acquire_token_for_client(resource=RESOURCE)
    again_i = ic.acquire_token_for_client(resource=RESOURCE)
    assert_same(again_m, again_i, "service fabric, cached")
    assert again_i["token_source"] == "cache"
    assert_equal_caches(mc, ic, "service fabric")


def test_a_wrong_secret_is_refused_alike(service_fabric, monkeypatch):
    monkeypatch.setenv("IDENTITY_HEADER", "not-the-secret")
    mc, ic = both()
    m = outcome(lambda: mc.acquire_token_for_client(resource=RESOURCE))
    i = outcome(lambda: ic.acquire_token_for_client(resource=RESOURCE))
    assert isinstance(m, dict) and "error" in m, m
    assert_same(m, i, "service fabric, wrong secret")


def test_another_certificate_is_not_trusted_by_either(service_fabric, monkeypatch):
    wrong = "0123456789ABCDEF0123456789ABCDEF01234567"
    assert wrong != service_fabric["thumbprint"]
    monkeypatch.setenv("IDENTITY_SERVER_THUMBPRINT", wrong)
    mc, ic = both()
    m = outcome(lambda: mc.acquire_token_for_client(resource=RESOURCE))
    i = outcome(lambda: ic.acquire_token_for_client(resource=RESOURCE))
    assert m[:2] == ("raised", "OSError"), m
    assert i[:2] == ("raised", "OSError"), i
