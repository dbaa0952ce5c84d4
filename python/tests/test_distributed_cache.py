"""``token_cache=idflow.DistributedTokenCache(...)``: a confidential client's
tokens shared through a real redis-server (started here on a free loopback
port; ``scripts/setup-redis.sh`` installs it, and the test fails without it)."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time

import pytest

import idflow
import servers

SCOPE = ["https://graph.microsoft.com/.default"]


@pytest.fixture
def redis_url():
    binary = os.environ.get("IDFLOW_REDIS_SERVER") or shutil.which("redis-server")
    assert binary, "redis-server is missing: run scripts/setup-redis.sh"
    port = servers.closed_port()
    data = tempfile.mkdtemp()
    proc = subprocess.Popen(
        [binary, "--bind", "127.0.0.1", "--port", str(port), "--save", "", "--dir", data],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    cli = os.path.join(os.path.dirname(binary), "redis-cli")
    for _ in range(200):
        if subprocess.run([cli, "-p", str(port), "PING"], capture_output=True).stdout.strip() == b"PONG":
            break
        time.sleep(0.02)
    yield f"redis://127.0.0.1:{port}/", cli, port
    proc.kill()
    proc.wait()
    shutil.rmtree(data, ignore_errors=True)


def token_requests(admin):
    return [r for r in admin.requests() if r.get("endpoint") == "token"]


def test_a_second_instance_reads_the_first_ones_token(admin, redis_url):
    url, _, _ = redis_url
    first = servers.confidential_app(token_cache=idflow.DistributedTokenCache(url))
    r1 = first.acquire_token_for_client(SCOPE)
    assert r1["token_source"] == "identity_provider"
    # Another process would build its own cache and app: same here.
    second = servers.confidential_app(token_cache=idflow.DistributedTokenCache(url))
    r2 = second.acquire_token_for_client(SCOPE)
    assert r2["token_source"] == "cache"
    assert r2["access_token"] == r1["access_token"]
    assert len(token_requests(admin)) == 1


def test_encrypted_partitions_hold_nothing_in_clear(admin, redis_url):
    url, cli, port = redis_url
    cache = idflow.DistributedTokenCache(url, encryption_key=bytes(range(32)))
    token = servers.confidential_app(token_cache=cache).acquire_token_for_client(SCOPE)["access_token"]
    keys = subprocess.run([cli, "-p", str(port), "--scan"], capture_output=True, text=True).stdout.split()
    assert keys, "the partition is in Redis"
    dump = b"".join(
        subprocess.run([cli, "-p", str(port), "HGETALL", k], capture_output=True).stdout for k in keys)
    assert token.encode() not in dump
    assert servers.EMULATOR_CONFIDENTIAL.encode() not in dump + " ".join(keys).encode()


def test_redis_down_never_fails_a_call(admin):
    cache = idflow.DistributedTokenCache(f"redis://127.0.0.1:{servers.closed_port()}/")
    app = servers.confidential_app(token_cache=cache)
    assert "access_token" in app.acquire_token_for_client(SCOPE)
    assert app.acquire_token_for_client(SCOPE)["token_source"] == "cache"
    assert cache.degraded


def test_bad_configuration_is_a_value_error():
    with pytest.raises(ValueError):
        idflow.DistributedTokenCache("redis://127.0.0.1:1/", encryption_key=b"short")
    with pytest.raises(ValueError):
        idflow.DistributedTokenCache("not a url")


def test_another_instance_answers_silently_for_the_id_it_kept(admin, redis_url):
    # A web farm: the instance that signed the user in kept only the
    # home_account_id in the session; another instance, with its own app over
    # the same Redis, has read no partition (get_accounts is empty), yet
    # acquire_token_silent with that id reads the user's partition first and
    # answers from it, with no request to the identity provider.
    url, _, _ = redis_url
    first = servers.confidential_app(token_cache=idflow.DistributedTokenCache(url))
    signed_in = first.acquire_token_by_username_password(
        servers.EMULATOR_USER, servers.EMULATOR_PASSWORD, ["User.Read"])
    assert "access_token" in signed_in, signed_in.get("error_description")
    home = first.get_accounts()[0]["home_account_id"]
    session = {"home_account_id": home}
    second = servers.confidential_app(token_cache=idflow.DistributedTokenCache(url))
    assert second.get_accounts() == []
    again = second.acquire_token_silent(["User.Read"], account=session)
    assert again is not None
    assert again["token_source"] == "cache"
    assert again["access_token"] == signed_in["access_token"]
    assert len(token_requests(admin)) == 1
    # An id no instance signed in finds nothing: None, as msal's miss.
    assert second.acquire_token_silent(["User.Read"], account={"home_account_id": "nobody.x"}) is None
