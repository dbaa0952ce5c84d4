//! The keys of the unified schema, computed exactly as msal Python does, so
//! an entry idflow writes replaces the one msal would have written for the
//! same token (and the other way round).
//!
//! Every credential and account key is lower-cased as a whole; the
//! `AppMetadata` key is not. Absent parts are empty strings.

/// The key an `*_into` function appends, as a new string:
/// `written(|o| account_into(o, home, env, realm))`.
pub fn written(f: impl FnOnce(&mut String)) -> String {
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
fn lower_join_into(out: &mut (impl KeySink + ?Sized), parts: &[&str]) {
    for (i, p) in parts.iter().enumerate() {
        if i > 0 {
            out.push_exact("-");
        }
        out.push_lower(p);
    }
}

/// `{home}-{environment}-AccessToken-{client}-{realm}-{target}`; with an
/// extended cache key, `atext` replaces `AccessToken` and the key is appended.
/// Written to `out` (see [`written`] for a new string).
pub fn access_token_into(
    out: &mut (impl KeySink + ?Sized),
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
/// Written to `out` (see [`written`] for a new string).
pub fn refresh_token_into(
    out: &mut (impl KeySink + ?Sized),
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
/// Written to `out` (see [`written`] for a new string).
pub fn id_token_into(
    out: &mut (impl KeySink + ?Sized),
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
/// Written to `out` (see [`written`] for a new string).
pub fn account_into(
    out: &mut (impl KeySink + ?Sized),
    home_account_id: &str,
    environment: &str,
    realm: &str,
) {
    lower_join_into(out, &[home_account_id, environment, realm]);
}

/// `appmetadata-{environment}-{client}`, not lower-cased.
/// Written to `out` (see [`written`] for a new string).
pub fn app_metadata_into(out: &mut (impl KeySink + ?Sized), environment: &str, client_id: &str) {
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
        let [h, e, c, r, t, x] = [
            "UID.UTID",
            "login.Example",
            "Client",
            "Tenant",
            "Mail.Read User.Read",
            "AbC",
        ];
        type Key<'a> = &'a dyn Fn(&mut dyn KeySink);
        let keys: [Key<'_>; 6] = [
            &|o| access_token_into(o, h, e, c, r, t, None),
            &|o| access_token_into(o, h, e, c, r, t, Some(x)),
            &|o| refresh_token_into(o, h, e, c, t),
            &|o| id_token_into(o, h, e, c, r),
            &|o| account_into(o, h, e, r),
            &|o| app_metadata_into(o, e, c),
        ];
        for key in keys {
            let mut text = String::new();
            key(&mut text);
            let mut counted = KeyLen::default();
            key(&mut counted);
            assert_eq!(counted.0, text.len(), "{text}");
        }
    }

    #[test]
    fn keys_as_msal_computes_them() {
        let cases: [(String, &str); 6] = [
            (
                written(|o| {
                    access_token_into(
                        o,
                        "UID.UTID",
                        "login.microsoftonline.com",
                        "Client",
                        "Tenant",
                        "Mail.Read User.Read",
                        None,
                    )
                }),
                "uid.utid-login.microsoftonline.com-accesstoken-client-tenant-mail.read user.read",
            ),
            (
                written(|o| {
                    access_token_into(
                        o,
                        "",
                        "login.microsoftonline.com",
                        "c",
                        "t",
                        "s",
                        Some("AbC"),
                    )
                }),
                "-login.microsoftonline.com-atext-c-t-s-abc",
            ),
            (
                written(|o| refresh_token_into(o, "U.T", "Login.Example", "C", "a b")),
                "u.t-login.example-refreshtoken-c--a b",
            ),
            (
                written(|o| id_token_into(o, "u.t", "env", "C", "R")),
                "u.t-env-idtoken-c-r-",
            ),
            (written(|o| account_into(o, "U.T", "env", "R")), "u.t-env-r"),
            (
                written(|o| app_metadata_into(o, "env", "Client-ID")),
                "appmetadata-env-Client-ID",
            ),
        ];
        for (got, want) in cases {
            assert_eq!(got, want);
        }
    }
}
