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


class _FillOnly:
    """The native cache with only the two calls that write into a new
    ``str``: any other way to the document (the generated ``serialize``, or
    the copying path's handle) fails the test."""

    def __init__(self, native):
        self._n = native
        self.serialized_len_hint = native.serialized_len_hint
        self.serialize_into_address = native.serialize_into_address

    def serialize(self):
        raise AssertionError("copied, not written in place")

    def _uniffi_clone_handle(self):
        raise AssertionError("copied, not written in place")


def _state(**extra):
    at = {"credential_type": "AccessToken", "secret": "s", "home_account_id": "u.t",
          "environment": ENV, "client_id": "c1", "realm": "t", "target": "User.Read",
          "cached_at": "1700000000", "expires_on": "1700003600"}
    at.update(extra)
    return json.dumps({"AccessToken": {f"u.t-{ENV}-accesstoken-c1-t-user.read": at}})


@pytest.mark.parametrize("secret_len", [10, 5 << 20])
def test_an_ascii_document_is_written_into_the_str_itself(secret_len):
    # 5 MiB: the buffer spans whole 2 MiB pages, offered to the kernel as huge pages.
    cache = idflow.SerializableTokenCache()
    cache.deserialize(_state(secret="a" * secret_len))
    want = cache._native.serialize()
    cache.has_state_changed = True
    # Off CPython (no C API: test_the_short_path_is_taken_on_cpython) the
    # generated call is the path, and the text must still be the same.
    native = _FillOnly(cache._native) if _bulk._API is not None else cache._native
    text = _bulk.serialize(native)
    assert type(text) is str and text.isascii()
    assert text == want and len(text) == len(want)
    assert hash(text) == hash(want)
    assert not cache.has_state_changed


@pytest.mark.parametrize("state, why", [
    (_state(realm='q"uote'), "an escaped string is longer than predicted"),
    (_state(realm="zoë"), "UTF-8 text"),
    (_state(x_count=7, x_float=0.5), "numbers are predicted at their longest"),
])
def test_documents_the_prediction_misses_are_still_the_generated_text(state, why):
    cache = idflow.SerializableTokenCache()
    cache.deserialize(state)
    want = cache._native.serialize()
    assert json.loads(want)["AccessToken"] == json.loads(state)["AccessToken"], why
    cache.has_state_changed = True
    text = cache.serialize()
    assert type(text) is str
    assert text == want, why
    assert not cache.has_state_changed
