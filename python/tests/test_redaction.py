"""Every value that holds a secret, formatted every way Python formats a value
(repr, str, f-strings, print, inside a container): the secret never appears and
the other fields still do. msal's result dicts are left as msal returns them."""

from __future__ import annotations

import io
import json

import idflow
from idflow import _native

SECRETS = [
    "at-SECRET-access", "rt-SECRET-refresh", "it-SECRET-id", "pj-SECRET-json", "cs-SECRET-client",
    "pk-SECRET-key", "ca-SECRET-assertion", "rj-SECRET-result", "claims-SECRET-pii",
]
AUTHORITY = "https://login.microsoftonline.com/common"


def _token():
    return _native.TokenResult(
        access_token="at-SECRET-access", token_type="Bearer", expires_on=1_900_000_000,
        scopes=["User.Read"], refresh_token="rt-SECRET-refresh", id_token="it-SECRET-id",
        id_token_claims_json=json.dumps({"name": "claims-SECRET-pii"}),
        account=_native.AccountInfo(
            home_account_id="uid.utid", environment="login.example", tenant_id="utid",
            username="ada@example.com", local_account_id="uid"),
        correlation_id="corr-visible", token_source=_native.TokenSource.IDENTITY_PROVIDER,
        refresh_on=None, family_id="1", python_json=json.dumps({"access_token": "pj-SECRET-json"}))


def _credentials():
    return [
        _native.ClientCredential.SECRET(secret="cs-SECRET-client"),
        _native.ClientCredential.SECRET_BASIC(secret="cs-SECRET-client"),
        _native.ClientCredential.CERTIFICATE(
            certificate_pem="-----BEGIN CERTIFICATE-----", private_key_pem="pk-SECRET-key", send_x5c=True),
        _native.ClientCredential.ASSERTION(assertion="ca-SECRET-assertion"),
        _native.ClientCredential.PKCS12(pfx=b"pfx-SECRET-bytes", password="pw-SECRET-pass",
                                        send_x5c=True, thumbprint_kid=False),
        _native.ClientCredential.PRIVATE_KEY(
            private_key_pem="pk-SECRET-key", passphrase="pp-SECRET-pass", certificate_pem=None,
            sha1_thumbprint="AB12", send_x5c=False, thumbprint_kid=False),
    ]


def _forms(value):
    out = io.StringIO()
    print(value, file=out)
    return [repr(value), str(value), f"{value}", f"{value!r}", "%s" % (value,), str([value]), out.getvalue()]


def _assert_no_secret(value):
    for form in _forms(value):
        for secret in SECRETS:
            assert secret not in form, f"{secret} in {form}"


def test_token_result_shows_its_fields_but_not_its_tokens():
    token = _token()
    _assert_no_secret(token)
    text = str(token)
    for visible in ("Bearer", "1900000000", "User.Read", "corr-visible", "ada@example.com", "[redacted]"):
        assert visible in text, (visible, text)
    assert token.access_token == "at-SECRET-access"
    assert token.refresh_token == "rt-SECRET-refresh"


def test_client_credentials_name_their_kind_but_not_the_secret():
    for credential in _credentials():
        _assert_no_secret(credential)
        assert "[redacted]" in repr(credential)
    assert "Certificate" in repr(_credentials()[2])
    assert _credentials()[0].secret == "cs-SECRET-client"


def test_classified_shows_the_outcome_but_not_the_result():
    decision = _native.Classified(
        outcome=_native.Outcome.SUCCESS, polling=None, error=None,
        result_json=json.dumps({"access_token": "rj-SECRET-result"}))
    _assert_no_secret(decision)
    assert "Success" in str(decision)
    assert "rj-SECRET-result" in decision.result_json


def test_applications_and_caches_say_what_they_are_without_secrets():
    values = [
        idflow.ConfidentialClientApplication("client-visible", client_credential="cs-SECRET-client",
                                             authority=AUTHORITY),
        idflow.ConfidentialClientApplication("client-visible", authority=AUTHORITY,
                                             client_credential={"client_assertion": "ca-SECRET-assertion"}),
        idflow.PublicClientApplication("client-visible", authority=AUTHORITY),
    ]
    for app in values:
        _assert_no_secret(app)
        assert "client-visible" in repr(app) and type(app).__name__ in repr(app), repr(app)
    cache = idflow.SerializableTokenCache()
    cache.deserialize(json.dumps({"AccessToken": {"k": {
        "home_account_id": "", "environment": "login.microsoftonline.com", "credential_type": "AccessToken",
        "client_id": "client-visible", "secret": "at-SECRET-access", "target": "s", "realm": "common",
        "cached_at": "1", "expires_on": "9999999999", "extended_expires_on": "9999999999"}}}))
    for c in (cache, idflow.TokenCache()):
        _assert_no_secret(c)
        assert type(c).__name__ in repr(c), repr(c)


CREDENTIALS_IN_RECORDS = [
    "pw-SECRET-proxy", "ih-SECRET-header", "ms-SECRET-msi", "Basic Y2xpZW50OmNzLVNFQ1JFVA==",
    "fv-SECRET-form", "at-SECRET-access", "pj-SECRET-json", "ek-SECRET-key", "pd-SECRET-data",
]


def _assert_no_credential(value):
    for form in _forms(value):
        for secret in CREDENTIALS_IN_RECORDS:
            assert secret not in form, f"{secret} in {form}"


def test_app_config_shows_its_proxies_without_their_password():
    config = _native.AppConfig(
        client_id="client-visible", authority=AUTHORITY,
        proxies={"https": "http://ada:pw-SECRET-proxy@proxy.example:3128", "no_proxy": "localhost"})
    _assert_no_credential(config)
    assert "proxy.example:3128" in str(config) and "client-visible" in repr(config), repr(config)
    assert config.proxies["https"] == "http://ada:pw-SECRET-proxy@proxy.example:3128"


def test_records_crossing_the_boundary_print_without_their_secrets():
    byte_key = b"ek-SECRET-key".ljust(32, b"-")
    values = [
        _native.ManagedIdentityConfig(environment={
            "IDENTITY_ENDPOINT": "http://127.0.0.1:1/msi", "IDENTITY_HEADER": "ih-SECRET-header",
            "MSI_SECRET": "ms-SECRET-msi"}),
        _native.Header(name="Authorization", value="Basic Y2xpZW50OmNzLVNFQ1JFVA=="),
        _native.FormField(name="client_secret", value="fv-SECRET-form"),
        _native.HttpClientResponse(status=200, headers=[], body=b'{"access_token":"at-SECRET-access"}'),
        _native.PartitionData(data=b"pd-SECRET-data", version="v7"),
        _native.RedisCacheOptions(encryption_key=byte_key),
        _native.ManagedIdentityTokenResult(
            access_token="at-SECRET-access", token_type="Bearer", expires_on=1_900_000_000, expires_in=3600,
            resource="https://vault.azure.net", refresh_on=None, from_cache=False,
            source=_native.ManagedIdentitySource.IMDS, correlation_id="corr-visible",
            python_json=json.dumps({"access_token": "pj-SECRET-json"})),
    ]
    for value in values:
        _assert_no_credential(value)
        assert type(value).__name__ in repr(value), repr(value)
    assert "IDENTITY_HEADER" in str(values[0])
    assert "Authorization" in str(values[1])
    assert "client_secret" in str(values[2])
    assert "200" in str(values[3]) and "v7" in str(values[4])
    assert "vault.azure.net" in str(values[6])
    assert values[2].value == "fv-SECRET-form" and values[4].data == b"pd-SECRET-data"


def test_applications_with_a_proxy_password_do_not_show_it():
    app = idflow.ConfidentialClientApplication(
        "client-visible", client_credential="cs-SECRET-client", authority=AUTHORITY,
        proxies={"https": "http://ada:pw-SECRET-proxy@proxy.example:3128"})
    _assert_no_credential(app)
    _assert_no_secret(app)
