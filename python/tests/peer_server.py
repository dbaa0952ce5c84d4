"""A small HTTPS identity provider on 127.0.0.1 for running msal Python's real
code (real requests over real TLS, no mocked HTTP) against a vector's
response: OIDC discovery, and a token endpoint that grants one seed refresh
token and answers every other token request with the programmed response.

msal refuses plain-http authorities, so the server has a throw-away
self-signed certificate for IP:127.0.0.1, which the caller trusts through
REQUESTS_CA_BUNDLE."""

from __future__ import annotations

import base64
import datetime
import ipaddress
import json
import ssl
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Dict, List, Optional, Tuple
from urllib.parse import parse_qs

TENANT = "idflow-peer-tenant"
CLIENT_ID = "00000000-0000-4000-8000-00000000c11e"
SEED_REFRESH_TOKEN = "rt-seed"
CACHED_REFRESH_TOKEN = "rt-cached"
HOME_UID, HOME_UTID = "peer-uid", "peer-utid"
_HOP_BY_HOP = {"content-length", "transfer-encoding", "connection", "keep-alive"}


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def write_self_signed_cert(directory: Path) -> Tuple[Path, Path]:
    """A certificate for IP:127.0.0.1 and its key (PEM files)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "idflow test provider")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(hours=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(key.public_key()), critical=False
        )
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "provider-cert.pem", directory / "provider-key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


class PeerProvider:
    """The server; `program()` sets the answer to the next token requests."""

    def __init__(self, directory: Path):
        self.cert_path, key_path = write_self_signed_cert(directory)
        self.requests: List[Tuple[str, str, Dict[str, str]]] = []
        self._programmed: Optional[Tuple[int, List[Tuple[str, str]], bytes]] = None
        provider = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # One write per response, sent at once: no 40 ms delayed-ACK stalls.
            wbufsize = 1 << 16
            disable_nagle_algorithm = True

            def log_message(self, *_args):  # keep test output clean
                pass

            def _send(self, status, headers, body):
                self.send_response(status)
                for name, value in headers:
                    if name.lower() not in _HOP_BY_HOP:
                        self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self):
                provider.requests.append(("GET", self.path, {}))
                if self.path == f"/{TENANT}/.well-known/openid-configuration":
                    self._send(200, [("Content-Type", "application/json")],
                               json.dumps(provider.openid_configuration()).encode())
                else:
                    self._send(404, [], b"")

            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
                provider.requests.append(("POST", self.path, form))
                if self.path != f"/{TENANT}/oauth2/v2.0/token":
                    self._send(404, [], b"")
                elif form.get("refresh_token") == SEED_REFRESH_TOKEN:
                    self._send(200, [("Content-Type", "application/json")],
                               json.dumps(provider.seed_tokens(form)).encode())
                elif provider._programmed is None:
                    self._send(500, [], b"no response programmed")
                else:
                    self._send(*provider._programmed)

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(self.cert_path, key_path)
        self._httpd.socket = ctx.wrap_socket(self._httpd.socket, server_side=True)
        self.port = self._httpd.server_address[1]
        self.issuer = f"https://127.0.0.1:{self.port}/{TENANT}"
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)
        self._thread.start()

    def openid_configuration(self) -> dict:
        return {
            "issuer": self.issuer,
            "authorization_endpoint": f"{self.issuer}/oauth2/v2.0/authorize",
            "token_endpoint": f"{self.issuer}/oauth2/v2.0/token",
            "device_authorization_endpoint": f"{self.issuer}/oauth2/v2.0/devicecode",
            "response_types_supported": ["code"],
            "subject_types_supported": ["pairwise"],
            "id_token_signing_alg_values_supported": ["RS256"],
        }

    def seed_tokens(self, form: Dict[str, str]) -> dict:
        """Tokens for the seed refresh token: an access token msal treats as
        expired (under its 5-minute margin), so the next silent call refreshes."""
        now = int(time.time())
        claims = {
            "iss": self.issuer, "aud": CLIENT_ID, "iat": now, "nbf": now, "exp": now + 3600,
            "sub": "peer-sub", "oid": HOME_UID, "tid": HOME_UTID,
            "preferred_username": "peer@example.test",
        }
        id_token = ".".join([
            _b64url(json.dumps({"alg": "none", "typ": "JWT"}).encode()),
            _b64url(json.dumps(claims).encode()),
            _b64url(b"unsigned"),
        ])
        return {
            "token_type": "Bearer",
            "access_token": "at-seed",
            "expires_in": 60,
            "refresh_token": CACHED_REFRESH_TOKEN,
            "id_token": id_token,
            "client_info": _b64url(json.dumps({"uid": HOME_UID, "utid": HOME_UTID}).encode()),
            "scope": form.get("scope", ""),
        }

    def program(self, status: int, headers: List[Tuple[str, str]], body: bytes) -> None:
        self._programmed = (status, headers, body)

    def token_requests(self) -> List[Dict[str, str]]:
        return [form for method, path, form in self.requests if method == "POST"]

    def close(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)
