//! The keys of the unified schema, computed exactly as msal Python does, so
//! an entry idflow writes replaces the one msal would have written for the
//! same token (and the other way round).
//!
//! Every credential and account key is lower-cased as a whole; the
//! `AppMetadata` key is not. Absent parts are empty strings.

/// The key an `*_into` function appends, as a new string.
fn built(f: impl FnOnce(&mut String)) -> String {
    let mut out = String::new();
    f(&mut out);
    out
}

/// Where a key's parts go: appended to a string, or only counted
/// ([`KeyLen`], sizing a document before writing it).
pub trait KeySink {
    /// Appends `part` lower-cased.
    fn push_lower(&mut self, part: &str);
    /// Appends `part` as it is.
    fn push_exact(&mut self, part: &str);
}

impl KeySink for String {
    fn push_lower(&mut self, part: &str) {
        super::scopes::push_folded(self, part);
    }
    fn push_exact(&mut self, part: &str) {
        self.push_str(part);
    }
}

/// A key's length in bytes, counted without writing it: exact when its
/// parts are ASCII (lower-casing other text can change its length, so then
/// it is a size hint).
#[derive(Default)]
pub struct KeyLen(pub usize);

impl KeySink for KeyLen {
    fn push_lower(&mut self, part: &str) {
        self.0 += part.len();
    }
    fn push_exact(&mut self, part: &str) {
        self.0 += part.len();
    }
}

/// Appends the parts lower-cased and joined with `-` (no allocation when
/// `out` has room: the store computes keys into one reused buffer).
fn lower_join_into(out: &mut impl KeySink, parts: &[&str]) {
    for (i, p) in parts.iter().enumerate() {
        if i > 0 {
            out.push_exact("-");
        }
        out.push_lower(p);
    }
}

/// `{home}-{environment}-AccessToken-{client}-{realm}-{target}`; with an
/// extended cache key, `atext` replaces `AccessToken` and the key is appended.
pub fn access_token(
    home_account_id: &str,
    environment: &str,
    client_id: &str,
    realm: &str,
    target: &str,
    ext_cache_key: Option<&str>,
) -> String {
    built(|out| {
        access_token_into(
            out,
            home_account_id,
            environment,
            client_id,
            realm,
            target,
            ext_cache_key,
        )
    })
}

/// [`access_token`], appended to `out`.
pub fn access_token_into(
    out: &mut impl KeySink,
    home_account_id: &str,
    environment: &str,
    client_id: &str,
    realm: &str,
    target: &str,
    ext_cache_key: Option<&str>,
) {
    match ext_cache_key.filter(|k| !k.is_empty()) {
        Some(ext) => lower_join_into(
            out,
            &[
                home_account_id,
                environment,
                "atext",
                client_id,
                realm,
                target,
                ext,
            ],
        ),
        None => lower_join_into(
            out,
            &[
                home_account_id,
                environment,
                "AccessToken",
                client_id,
                realm,
                target,
            ],
        ),
    }
}

/// `{home}-{environment}-RefreshToken-{client}--{target}` (no realm: a
/// refresh token is valid across tenants).
pub fn refresh_token(
    home_account_id: &str,
    environment: &str,
    client_id: &str,
    target: &str,
) -> String {
    built(|out| refresh_token_into(out, home_account_id, environment, client_id, target))
}

/// [`refresh_token`], appended to `out`.
pub fn refresh_token_into(
    out: &mut impl KeySink,
    home_account_id: &str,
    environment: &str,
    client_id: &str,
    target: &str,
) {
    lower_join_into(
        out,
        &[
            home_account_id,
            environment,
            "RefreshToken",
            client_id,
            "",
            target,
        ],
    )
}

/// `{home}-{environment}-IdToken-{client}-{realm}-` (the schema keeps an empty scope part).
pub fn id_token(home_account_id: &str, environment: &str, client_id: &str, realm: &str) -> String {
    built(|out| id_token_into(out, home_account_id, environment, client_id, realm))
}

/// [`id_token`], appended to `out`.
pub fn id_token_into(
    out: &mut impl KeySink,
    home_account_id: &str,
    environment: &str,
    client_id: &str,
    realm: &str,
) {
    lower_join_into(
        out,
        &[
            home_account_id,
            environment,
            "IdToken",
            client_id,
            realm,
            "",
        ],
    )
}

/// `{home}-{environment}-{realm}`.
pub fn account(home_account_id: &str, environment: &str, realm: &str) -> String {
    built(|out| account_into(out, home_account_id, environment, realm))
}

/// [`account`], appended to `out`.
pub fn account_into(out: &mut impl KeySink, home_account_id: &str, environment: &str, realm: &str) {
    lower_join_into(out, &[home_account_id, environment, realm]);
}

/// `appmetadata-{environment}-{client}`, not lower-cased.
pub fn app_metadata(environment: &str, client_id: &str) -> String {
    built(|out| app_metadata_into(out, environment, client_id))
}

/// [`app_metadata`], appended to `out`.
pub fn app_metadata_into(out: &mut impl KeySink, environment: &str, client_id: &str) {
    out.push_exact("appmetadata-");
    out.push_exact(environment);
    out.push_exact("-");
    out.push_exact(client_id);
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each key written into a string and counted into a [`KeyLen`]: the
    /// count is the written length for ASCII parts (what sizes a document).
    #[test]
    fn counted_keys_have_the_written_length() {
        let parts = [
            "UID.UTID",
            "login.Example",
            "Client",
            "Tenant",
            "Mail.Read User.Read",
            "AbC",
        ];
        let [h, e, c, r, t, x] = parts;
        let cases: Vec<(String, usize)> = vec![
            (access_token(h, e, c, r, t, None), {
                let mut n = KeyLen::default();
                access_token_into(&mut n, h, e, c, r, t, None);
                n.0
            }),
            (access_token(h, e, c, r, t, Some(x)), {
                let mut n = KeyLen::default();
                access_token_into(&mut n, h, e, c, r, t, Some(x));
                n.0
            }),
            (refresh_token(h, e, c, t), {
                let mut n = KeyLen::default();
                refresh_token_into(&mut n, h, e, c, t);
                n.0
            }),
            (id_token(h, e, c, r), {
                let mut n = KeyLen::default();
                id_token_into(&mut n, h, e, c, r);
                n.0
            }),
            (account(h, e, r), {
                let mut n = KeyLen::default();
                account_into(&mut n, h, e, r);
                n.0
            }),
            (app_metadata(e, c), {
                let mut n = KeyLen::default();
                app_metadata_into(&mut n, e, c);
                n.0
            }),
        ];
        for (key, counted) in cases {
            assert_eq!(counted, key.len(), "{key}");
        }
    }

    #[test]
    fn keys_as_msal_computes_them() {
        assert_eq!(
            access_token(
                "UID.UTID",
                "login.microsoftonline.com",
                "Client",
                "Tenant",
                "Mail.Read User.Read",
                None
            ),
            "uid.utid-login.microsoftonline.com-accesstoken-client-tenant-mail.read user.read"
        );
        assert_eq!(
            access_token("", "login.microsoftonline.com", "c", "t", "s", Some("AbC")),
            "-login.microsoftonline.com-atext-c-t-s-abc"
        );
        assert_eq!(
            refresh_token("U.T", "Login.Example", "C", "a b"),
            "u.t-login.example-refreshtoken-c--a b"
        );
        assert_eq!(id_token("u.t", "env", "C", "R"), "u.t-env-idtoken-c-r-");
        assert_eq!(account("U.T", "env", "R"), "u.t-env-r");
        assert_eq!(
            app_metadata("env", "Client-ID"),
            "appmetadata-env-Client-ID"
        );
    }
}
