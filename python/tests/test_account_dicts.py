"""get_accounts' dicts as the native side lists them: built from a separator-
joined text, or from JSON when a value holds the separator. No server: the
cache is msal's JSON written here."""

from __future__ import annotations

import json

import idflow

CLIENT = "11111111-2222-3333-4444-555555555555"
HOST = "login.microsoftonline.com"
TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47"


def _cache(users):
    """msal's cache JSON: per (uid, realm, username) an account and its refresh token."""
    rts, accounts = {}, {}
    for uid, realm, username in users:
        home = f"{uid}.{TENANT}"
        rts[f"{home}-{HOST}-refreshtoken-{CLIENT}--"] = {
            "credential_type": "RefreshToken", "secret": f"rt-{uid}", "home_account_id": home,
            "environment": HOST, "client_id": CLIENT}
        accounts[f"{home}-{HOST}-{realm}"] = {
            "home_account_id": home, "environment": HOST, "realm": realm, "local_account_id": uid,
            "username": username, "authority_type": "MSSTS"}
    doc = {"AccessToken": {}, "RefreshToken": rts, "IdToken": {}, "Account": accounts,
           "AppMetadata": {}}
    cache = idflow.SerializableTokenCache()
    cache.deserialize(json.dumps(doc))
    return cache


def _app(cache):
    return idflow.PublicClientApplication(CLIENT, authority=f"https://{HOST}/{TENANT}",
                                          token_cache=cache)


USERS = [("a", TENANT, "ann@example.com"), ("b", "adfs", "b\u00e9@example.com"),
         ("c", TENANT, 'quote"and\\backslash@example.com'), ("d", TENANT, "")]


def test_the_dicts_are_the_json_ones_in_both_paths():
    for users in (USERS, USERS + [("e", TENANT, "unit\x1fseparator@example.com")]):
        app = _app(_cache(users))
        from_json = json.loads(app._native.get_accounts_json(None))
        fields = app._native.get_accounts_fields(None)
        # The separator in a value sends get_accounts to the JSON.
        assert (fields is None) == (len(users) > len(USERS))
        assert app.get_accounts() == from_json
        assert len(from_json) == len(users)
        assert [a["authority_type"] for a in from_json][:2] == ["MSSTS", "ADFS"]
        assert [list(a) for a in app.get_accounts()] == [list(a) for a in from_json], "key order"
        assert app.get_accounts(username="ANN@example.com") == from_json[:1]


def test_no_accounts_is_an_empty_list():
    app = _app(_cache([]))
    assert app._native.get_accounts_fields(None) == ""
    assert app.get_accounts() == []
    assert app.get_accounts(username="nobody@example.com") == []


def test_the_list_survives_a_token_refresh_and_follows_an_account_change():
    cache = _cache(USERS[:2])
    app = _app(cache)
    first = app.get_accounts()
    # A refresh as the cache sees it: the refresh token rewritten, an access
    # token added. The accounts are the same: the dicts read before are
    # handed out again (msal's own dicts would be equal, not the same).
    [rt] = cache.search("RefreshToken", query={"home_account_id": f"a.{TENANT}"})
    cache.modify("RefreshToken", rt, {"secret": "rt-a-next"})
    home = f"a.{TENANT}"
    cache.modify("AccessToken", {
        "credential_type": "AccessToken", "secret": "at", "home_account_id": home,
        "environment": HOST, "client_id": CLIENT, "realm": TENANT, "target": "user.read",
        "cached_at": "1", "expires_on": "9999999999"}, {"token_type": "Bearer"})
    again = app.get_accounts()
    assert again == first and all(x is y for x, y in zip(again, first))
    # A new account is listed at once.
    cache.modify("Account", {
        "home_account_id": f"z.{TENANT}", "environment": HOST, "realm": TENANT,
        "local_account_id": "z", "username": "zed@example.com", "authority_type": "MSSTS"},
        {"authority_type": "MSSTS"})
    cache.modify("RefreshToken", {
        "credential_type": "RefreshToken", "secret": "rt-z", "home_account_id": f"z.{TENANT}",
        "environment": HOST, "client_id": CLIENT}, {"secret": "rt-z"})
    assert [a["username"] for a in app.get_accounts()] == [
        "ann@example.com", "b\u00e9@example.com", "zed@example.com"]
    # A sign-out too.
    app.remove_account(app.get_accounts()[0])
    assert [a["local_account_id"] for a in app.get_accounts()] == ["b", "z"]


def _whole(app):
    return json.loads(app._native.get_accounts_json(None))


def _sign_in(cache, uid, username):
    home = f"{uid}.{TENANT}"
    cache.modify("Account", {
        "home_account_id": home, "environment": HOST, "realm": TENANT,
        "local_account_id": uid, "username": username, "authority_type": "MSSTS"},
        {"authority_type": "MSSTS"})
    cache.modify("RefreshToken", {
        "credential_type": "RefreshToken", "secret": f"rt-{uid}", "home_account_id": home,
        "environment": HOST, "client_id": CLIENT}, {"secret": f"rt-{uid}"})


def test_an_account_change_crosses_as_steps_and_keeps_the_other_dicts():
    cache = _cache([(f"u{i:02}", TENANT, f"u{i}@example.com") for i in range(30)])
    app = _app(cache)
    first = app.get_accounts()
    _sign_in(cache, "u10b", "newcomer@example.com")
    after = app.get_accounts()
    assert after == _whole(app)
    assert after[11]["username"] == "newcomer@example.com"
    # The accounts the change did not touch are the dicts read before: the
    # list was brought up to date, not parsed again.
    assert all(x is y for x, y in zip(after[:11], first[:11]))
    assert all(x is y for x, y in zip(after[12:], first[11:]))
    assert len(first) == 30, "a list handed out stays as it was"
    app.remove_account(after[3])
    again = app.get_accounts()
    assert again == _whole(app) and len(again) == 30
    assert all(x is y for x, y in zip(again[4:], after[5:]))
    # A load reads the list whole.
    cache.deserialize(cache.serialize())
    loaded = app.get_accounts()
    assert loaded == _whole(app) and not any(x is y for x, y in zip(loaded, again))


def test_a_list_kept_by_steps_is_the_list_read_whole():
    import random
    rnd = random.Random(7)
    cache = _cache(USERS[:2])
    app = _app(cache)
    uids = [f"r{i}" for i in range(12)]
    for step in range(400):
        uid = rnd.choice(uids)
        what = rnd.randrange(5)
        if what <= 1:
            _sign_in(cache, uid, rnd.choice(["one@example.com", "two@example.com"]))
        elif what == 2:
            for a in app.get_accounts():
                if a["local_account_id"] == uid:
                    app.remove_account(a)
        elif what == 3 and step % 10 == 0:
            cache.deserialize(cache.serialize())
        if rnd.randrange(3):
            assert app.get_accounts() == _whole(app), f"step {step}"


def test_steps_that_do_not_fit_are_refused():
    from idflow.application import _apply_account_steps
    values = "\x1f".join(["h", "e", "u", "MSSTS", "l", "r"])
    accounts = [{"n": 0}, {"n": 1}]
    assert _apply_account_steps(accounts, "S")
    assert _apply_account_steps(accounts, f"S-0\x1f+1\x1f{values}")
    assert accounts[0] == {"n": 1} and accounts[1]["username"] == "u"
    for bad in ("S-2", f"S+3\x1f{values}", "S+0\x1fh\x1fe", "S*0", "S-x"):
        assert not _apply_account_steps([{"n": 0}], bad), bad
