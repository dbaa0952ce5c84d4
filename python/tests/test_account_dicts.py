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
