"""One cache file shared at the same time by idflow and msal-extensions'
``PersistedTokenCache``: both follow msal-extensions' lock protocol on
``<file>.lockfile``, so concurrent writers in separate processes lose no
entry and neither waits the other out."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import servers

WRITES = 50

# The emulator's Graph scopes: a token for one does not intersect (and so
# does not replace) a token for another.
SCOPES = ["User.Read", "User.ReadBasic.All", "User.Read.All", "Mail.Read", "Mail.Send",
          "Files.Read", "Files.ReadWrite", "Calendars.Read", "Directory.Read.All"]

# Runs in its own process: idflow's cache attached to the file, one sign-in
# per write, cycling through the scopes (each a new access token written
# under the lock); prints a digest of the last token per scope.
IDFLOW_WRITER = r"""
import sys, time, pathlib, hashlib, json
import idflow, servers
SCOPES = None
path, n, go = sys.argv[1], int(sys.argv[2]), pathlib.Path(sys.argv[3])
cache = idflow.SerializableTokenCache()
cache.attach_file(path)
app = servers.public_app(token_cache=cache)
while not go.exists():
    time.sleep(0.005)
last = {}
for i in range(n):
    scope = SCOPES[i % len(SCOPES)]
    r = app.acquire_token_by_username_password(
        servers.EMULATOR_USER, servers.EMULATOR_PASSWORD, [scope])
    assert "access_token" in r, r
    last[scope.lower()] = hashlib.sha256(r["access_token"].encode()).hexdigest()
print(json.dumps(last))
"""

# Runs in its own process: msal-extensions' file persistence and its
# PersistedTokenCache, each add() one locked reload-modify-save.
MSAL_EXTENSIONS_WRITER = r"""
import sys, time, logging, pathlib
import msal_extensions
logging.basicConfig(level=logging.WARNING)
path, n, go = sys.argv[1], int(sys.argv[2]), pathlib.Path(sys.argv[3])
cache = msal_extensions.PersistedTokenCache(msal_extensions.FilePersistence(path))
while not go.exists():
    time.sleep(0.005)
for i in range(n):
    cache.add({
        "client_id": "msal-extensions-writer",
        "scope": [f"api://msalx-{i}/.default"],
        "token_endpoint": "https://login.microsoftonline.com/common/oauth2/v2.0/token",
        "grant_type": "client_credentials",
        "response": {"access_token": f"msalx-{i}", "token_type": "Bearer",
                     "expires_in": 3600},
    })
"""


def _spawn(code: str, path: Path, go: Path) -> subprocess.Popen:
    here = Path(__file__).resolve().parent
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(here.parent), str(here),
                                         env.get("PYTHONPATH", "")])
    code = code.replace("SCOPES = None", f"SCOPES = {SCOPES!r}")
    return subprocess.Popen([sys.executable, "-c", code, str(path), str(WRITES), str(go)],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)


def test_idflow_and_msal_extensions_write_one_file_at_once_and_lose_nothing(admin, tmp_path):
    path = tmp_path / "shared_cache.json"
    go = tmp_path / "go"
    procs = [_spawn(IDFLOW_WRITER, path, go), _spawn(MSAL_EXTENSIONS_WRITER, path, go)]
    time.sleep(1.0)  # both imported and waiting
    started = time.monotonic()
    go.touch()
    outputs = []
    results = []
    for p in procs:
        out, err = p.communicate(timeout=120)
        outputs.append(err)
        results.append(out)
        assert p.returncode == 0, err
    elapsed = time.monotonic() - started

    # Neither side waited the other out: msal-extensions warns when it gave up
    # creating the lock file (after 5 s), and the run stays well under that.
    assert "failed to create lock file" not in outputs[1], outputs[1]
    assert elapsed < 60, elapsed
    assert not (tmp_path / "shared_cache.json.lockfile").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["go", "shared_cache.json"]

    stored = list(json.loads(path.read_text("utf-8"))["AccessToken"].values())
    targets = [e["target"].lower() for e in stored]
    for i in range(WRITES):
        assert f"api://msalx-{i}/.default" in targets, i
    # idflow's latest token for every scope is the one stored.
    last = json.loads(results[0])
    assert len(last) == len(SCOPES)
    digests = {scope: hashlib.sha256(e["secret"].encode()).hexdigest()
               for e in stored for scope in e["target"].lower().split()
               if scope not in ("openid", "profile", "offline_access")}
    for scope, digest in last.items():
        assert digests.get(scope) == digest, scope
