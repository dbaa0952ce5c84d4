"""``serialize`` / ``deserialize`` move the cache's JSON with one copy each way
(``idflow/_bulk.py``): the results must be exactly the generated binding's,
for every kind of input, and the short path must really be the one taken on
CPython (a silent fall back to the generated calls would hide a rename)."""

from __future__ import annotations

import base64
import json
import platform

import pytest

import idflow
from idflow import _bulk

ENV = "login.example.com"


def _b64(obj):
    return base64.urlsafe_b64encode(json.dumps(obj).encode()).rstrip(b"=").decode()


def _event(uid, username):
    return {
        "client_id": "c1", "scope": ["User.Read"],
        "token_endpoint": f"https://{ENV}/t1/oauth2/v2.0/token",
        "response": {
            "access_token": f"at-{uid}", "refresh_token": f"rt-{uid}", "expires_in": 3600,
            "id_token": "e30." + _b64({"oid": f"oid-{uid}", "tid": "t1",
                                       "preferred_username": username}) + ".c2ln",
            "client_info": _b64({"uid": uid, "utid": "t1"}), "token_type": "Bearer",
        },
        "data": {}, "grant_type": "authorization_code",
    }


def _cache(*users):
    cache = idflow.SerializableTokenCache()
    for uid, username in users:
        cache.add(_event(uid, username), now=1_700_000_000)
    return cache


ASCII = (("u1", "ann@example.com"), ("u2", 'quote"back\\slash@example.com'))
UNICODE = (("u3", "zoë@exämple.com"), ("u4", "\U0001f600@example.com"))


def test_the_short_path_is_taken_on_cpython():
    # The C API is CPython's: elsewhere the generated calls are the path.
    on_cpython = platform.python_implementation() == "CPython"
    assert (_bulk._API is not None) == on_cpython


@pytest.mark.parametrize("users", [ASCII, UNICODE, ASCII + UNICODE, ()])
def test_serialize_is_the_generated_calls_text(users):
    cache = _cache(*users)
    text = cache.serialize()
    assert type(text) is str
    assert text == cache._native.serialize()
    assert json.loads(text) == json.loads(cache._native.serialize())
    accounts = json.loads(text).get("Account", {}).values()
    assert sorted(a["username"] for a in accounts) == sorted(u for _, u in users)
    assert not cache.has_state_changed


@pytest.mark.parametrize("users", [ASCII, UNICODE, ASCII + UNICODE])
def test_every_kind_of_state_loads_the_same(users):
    text = _cache(*users).serialize()
    want = json.loads(text)
    escaped = json.dumps(want)  # the same content, ASCII only (\u escapes)
    assert escaped.isascii()
    for state in (text, escaped, text.encode(), bytearray(text.encode())):
        cache = idflow.SerializableTokenCache()
        cache.deserialize(state)
        assert json.loads(cache.serialize()) == want, type(state)
        assert sorted(a["username"] for a in cache.search("Account")) == sorted(u for _, u in users)


def test_empty_states_empty_the_cache():
    for state in (None, "", b""):
        cache = _cache(*ASCII)
        cache.deserialize(state)
        assert json.loads(cache.serialize()) == json.loads(idflow.SerializableTokenCache().serialize())


@pytest.mark.parametrize("bad", ['{"AccessToken": ', "[1, 2]", "not json", '{"AccessToken": {"k": 5}}',
                                 '{"Account": {"k": {"home_account_id": "\ud800"}}}'])
def test_bad_states_raise_value_error_and_change_nothing(bad):
    cache = _cache(*ASCII)
    before = cache.serialize()
    with pytest.raises(ValueError):
        cache.deserialize(bad)
    assert cache.serialize() == before


def test_a_lent_state_is_left_as_it_was():
    text = _cache(*ASCII).serialize()
    copy = "".join(text)
    cache = idflow.SerializableTokenCache()
    for _ in range(3):
        cache.deserialize(text)
    assert text == copy
    assert cache.serialize() == text
