"""Every ``client_credential`` form msal Python takes, through msal Python 1.39
(PyPI) and idflow against the same emulator registration in the same run:
both accept (or both refuse) each form, and the client assertions the
emulator receives carry the same JOSE header fields (``alg``, ``typ``,
``x5t`` / ``x5t#S256``, ``x5c``) with the same values. The emulator's request
log keeps each assertion's header (never the assertion).

Certificates and keys are made here, at test time, with ``cryptography``
(msal's own dependency). msal accepts only https authorities and the emulator
listens on plain http on 127.0.0.1, so msal talks to it through
:class:`_HttpsOnLoopback`, a transport that swaps the scheme both ways."""

from __future__ import annotations

import datetime
import os

import msal  # the peer: scripts/setup-python.sh installs it (a missing peer fails, never skips)
import pytest
import requests
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID

import idflow
import servers
from servers import EMULATOR_TENANT

CLIENT = "3f2a9b10-5c7d-4e8f-9a0b-1c2d3e4f5a6b"
GRAPH_APP = ["https://graph.microsoft.com/.default"]
PASSPHRASE = "pfx and pem passphrase for tests"
TRUSTED_SUBJECT = "peer-sni.idflow.test"
WORKLOAD = "system:serviceaccount:default:peer-workload"


class _Response:
    def __init__(self, r: requests.Response, text: str):
        self.status_code, self.headers, self.text = r.status_code, r.headers, text
        self._r = r

    def raise_for_status(self) -> None:
        self._r.raise_for_status()


class _HttpsOnLoopback:
    """msal's ``http_client``: its https URLs go out as the emulator's http
    ones, and the emulator's URLs in answers come back as https."""

    def __init__(self, http_base: str):
        self._http, self._https = http_base, "https://" + http_base[len("http://"):]
        self._session = requests.Session()

    def _back(self, r: requests.Response) -> _Response:
        return _Response(r, r.text.replace(self._http, self._https))

    def post(self, url, params=None, data=None, headers=None, **kwargs):
        return self._back(self._session.post(url.replace(self._https, self._http), params=params,
                                             data=data, headers=headers, timeout=10))

    def get(self, url, params=None, headers=None, **kwargs):
        return self._back(self._session.get(url.replace(self._https, self._http), params=params,
                                            headers=headers, timeout=10))

    def close(self) -> None:
        self._session.close()


def _certificate(common_name):
    """A fresh RSA key and a self-signed certificate for ``common_name``."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(hours=1))
            .not_valid_after(now + datetime.timedelta(days=1))
            .sign(key, hashes.SHA256()))
    return key, cert


def _key_pem(key, passphrase=None):
    encryption = (serialization.BestAvailableEncryption(passphrase.encode()) if passphrase
                  else serialization.NoEncryption())
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             encryption).decode()


def _cert_pem(cert):
    return cert.public_bytes(serialization.Encoding.PEM).decode()


@pytest.fixture(scope="module")
def material(tmp_path_factory):
    """The registered certificate in every file form, and an unregistered one."""
    directory = tmp_path_factory.mktemp("certs")
    key, cert = _certificate(TRUSTED_SUBJECT)
    pfx = directory / "client.pfx"
    pfx.write_bytes(pkcs12.serialize_key_and_certificates(
        b"client", key, cert, None, serialization.BestAvailableEncryption(PASSPHRASE.encode())))
    other_key, other_cert = _certificate("untrusted.idflow.test")
    return {
        "key_pem": _key_pem(key),
        "encrypted_key_pem": _key_pem(key, PASSPHRASE),
        "cert_pem": _cert_pem(cert),
        "thumbprint": cert.fingerprint(hashes.SHA1()).hex().upper(),
        "pfx_path": str(pfx),
        "other_key_pem": _key_pem(other_key),
        "other_cert_pem": _cert_pem(other_cert),
        "other_thumbprint": other_cert.fingerprint(hashes.SHA1()).hex(),
    }


@pytest.fixture
def registered(admin, material):
    """The client, registered with the certificate, the trusted subject and a
    federated credential for the emulator's own federation issuer."""
    issuer = admin.call("POST", "federated-token", {"subject": WORKLOAD})["issuer"]
    admin.call("POST", "clients", {
        "client_id": CLIENT, "confidential": True, "roles": ["Data.Read.All"],
        "keys": [material["cert_pem"]],
        "trusted_subjects": [TRUSTED_SUBJECT],
        "federated_credentials": [{"issuer": issuer, "subject": WORKLOAD}],
    })
    return admin


def _msal(credential):
    http_base = servers.emulator_url()
    return msal.ConfidentialClientApplication(
        CLIENT, client_credential=credential, http_client=_HttpsOnLoopback(http_base),
        authority="https://" + http_base[len("http://"):] + "/" + EMULATOR_TENANT,
        instance_discovery=False)


def _idflow(credential):
    return idflow.ConfidentialClientApplication(
        CLIENT, client_credential=credential, authority=servers.emulator_authority(), timeout=5)


def _last_header(admin):
    tokens = [r for r in admin.requests() if r["endpoint"] == "token"]
    assert tokens, "no token request was logged"
    return tokens[-1].get("client_assertion_header")


def _normalised(header):
    """Padding and line breaks are encodings of the same value: msal keeps
    the base64 padding of thumbprints and the PEM line breaks in x5c."""
    out = dict(header)
    for k in ("x5t", "x5t#S256"):
        if k in out:
            out[k] = out[k].rstrip("=")
    if "x5c" in out:
        out["x5c"] = ["".join(c.split()) for c in out["x5c"]]
    return out


def _both(admin, credential, scopes=GRAPH_APP):
    """Each library's result and the header of the assertion it sent."""
    got = []
    for make in (_msal, _idflow):
        result = make(credential).acquire_token_for_client(scopes)
        got.append((result, _last_header(admin)))
    return got


FORMS = {
    # name: (credential from material, alg, thumbprint header, x5c sent)
    "pfx_with_passphrase": (
        lambda m: {"private_key_pfx_path": m["pfx_path"], "passphrase": PASSPHRASE},
        "PS256", "x5t#S256", False),
    "pfx_with_public_certificate_true": (
        lambda m: {"private_key_pfx_path": m["pfx_path"], "passphrase": PASSPHRASE,
                   "public_certificate": True},
        "PS256", "x5t#S256", True),
    "key_and_thumbprint": (
        lambda m: {"private_key": m["key_pem"], "thumbprint": m["thumbprint"]},
        "RS256", "x5t", False),
    "encrypted_key_passphrase_and_thumbprint": (
        lambda m: {"private_key": m["encrypted_key_pem"], "passphrase": PASSPHRASE,
                   "thumbprint": m["thumbprint"]},
        "RS256", "x5t", False),
    "key_and_public_certificate": (
        lambda m: {"private_key": m["key_pem"], "public_certificate": m["cert_pem"]},
        "PS256", "x5t#S256", True),
    "encrypted_key_thumbprint_and_public_certificate": (
        lambda m: {"private_key": m["encrypted_key_pem"], "passphrase": PASSPHRASE,
                   "thumbprint": m["thumbprint"], "public_certificate": m["cert_pem"]},
        "RS256", "x5t", True),
}


@pytest.mark.parametrize("form", sorted(FORMS))
def test_certificate_form_accepted_alike_with_the_same_header(registered, material, form):
    make, alg, thumbprint_field, x5c = FORMS[form]
    (msal_result, msal_header), (ours, our_header) = _both(registered, make(material))
    assert "access_token" in msal_result, msal_result
    assert "access_token" in ours, ours
    assert msal_header["alg"] == alg and thumbprint_field in msal_header, msal_header
    assert ("x5c" in msal_header) is x5c, msal_header
    assert _normalised(our_header) == _normalised(msal_header)


def test_wrong_passphrase_is_a_value_error_in_both(registered, material):
    wrong = "not-the-passphrase-7f3a"
    for form in ({"private_key_pfx_path": material["pfx_path"], "passphrase": wrong},
                 {"private_key": material["encrypted_key_pem"], "passphrase": wrong,
                  "thumbprint": material["thumbprint"]}):
        with pytest.raises(ValueError):
            _msal(form)
        with pytest.raises(ValueError) as caught:
            _idflow(form)
        assert caught.value.result["error"] == "certificate_password_incorrect"
        assert wrong not in str(caught.value) and PASSPHRASE not in str(caught.value)
        assert wrong not in repr(caught.value.result)


def test_refused_certificates_are_refused_alike(registered, material):
    forms = [
        # A key whose thumbprint the app does not know.
        {"private_key": material["other_key_pem"], "thumbprint": material["other_thumbprint"]},
        # Subject name / issuer auth with a subject the app does not trust.
        {"private_key": material["other_key_pem"], "public_certificate": material["other_cert_pem"]},
    ]
    for form in forms:
        (msal_result, msal_header), (ours, our_header) = _both(registered, form)
        assert msal_result["error"] == ours["error"] == "invalid_client", (msal_result, ours)
        assert msal_result["error_codes"] == ours["error_codes"], (msal_result, ours)
        assert _normalised(our_header) == _normalised(msal_header)


def test_a_key_that_is_not_the_certificate_s_is_refused_before_any_request(registered, material):
    form = {"private_key": material["other_key_pem"], "public_certificate": material["cert_pem"]}
    with pytest.raises(ValueError) as caught:
        _idflow(form)
    assert caught.value.result["error"] == "certificate_key_mismatch"
    # msal builds the same credential without checking, and the server refuses it.
    result = _msal(form).acquire_token_for_client(GRAPH_APP)
    assert result["error"] == "invalid_client", result


def _federated_token(admin, subject=WORKLOAD):
    return admin.call("POST", "federated-token", {"subject": subject})["token"]


def test_callable_client_assertion_is_called_per_request_alike(registered):
    calls = {"msal": [], "idflow": []}

    def source(name, with_context):
        def plain():
            calls[name].append(None)
            return _federated_token(registered)

        def with_ctx(context):
            calls[name].append(dict(context))
            return _federated_token(registered)
        return with_ctx if with_context else plain

    for with_context in (False, True):
        for name, make in (("msal", _msal), ("idflow", _idflow)):
            app = make({"client_assertion": source(name, with_context)})
            for scopes in (GRAPH_APP, [f"api://{CLIENT}/.default"]):
                result = app.acquire_token_for_client(scopes)
                assert "access_token" in result, (name, result)
            assert _last_header(registered)["alg"] == "RS256"
    assert len(calls["msal"]) == len(calls["idflow"]) == 4
    contexts = [(c["client_id"], c["token_endpoint"].split("://", 1)[1])
                for c in calls["msal"] + calls["idflow"] if c is not None]
    assert len(contexts) == 4 and len(set(contexts)) == 1, contexts
    assert contexts[0][0] == CLIENT and contexts[0][1].endswith("/oauth2/v2.0/token")


def test_a_failing_callable_fails_the_request_not_the_process(registered):
    def broken():
        raise RuntimeError("token source down")
    result = _idflow({"client_assertion": broken}).acquire_token_for_client(GRAPH_APP)
    assert result["error"] == "client_assertion_unavailable", result
    assert result["action"] == "fix_configuration"
    with pytest.raises(RuntimeError):  # msal lets the callable's exception through
        _msal({"client_assertion": broken}).acquire_token_for_client(GRAPH_APP)


def test_federated_token_file_is_read_before_each_request(registered, tmp_path, monkeypatch):
    path = tmp_path / "azure-identity-token"
    monkeypatch.setenv("AZURE_FEDERATED_TOKEN_FILE", str(path))
    token_file = idflow.FederatedTokenFile()
    assert token_file.path == str(path)
    apps = {"msal": _msal({"client_assertion": token_file}),
            "idflow": _idflow({"client_assertion": token_file})}
    path.write_text(_federated_token(registered) + "\n")
    for app in apps.values():
        assert "access_token" in app.acquire_token_for_client(GRAPH_APP)
    # Rotated to a token for another workload: the next request sends it and is refused.
    path.write_text(_federated_token(registered, "system:serviceaccount:default:other"))
    refused = {n: a.acquire_token_for_client([f"api://{CLIENT}/.default"]) for n, a in apps.items()}
    assert refused["msal"]["error"] == refused["idflow"]["error"] == "invalid_client", refused
    assert 700213 in refused["idflow"]["error_codes"]
    assert refused["msal"]["error_codes"] == refused["idflow"]["error_codes"]
    os.remove(path)
    missing = apps["idflow"].acquire_token_for_client(["api://other/.default"])
    assert missing["error"] == "client_assertion_unavailable", missing
