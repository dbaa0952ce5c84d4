//! Scope sets as the cache compares them.
//!
//! Two requests ask for the same thing when their scopes are equal after
//! case-folding, de-duplication and sorting, with the OpenID Connect scopes
//! (`openid`, `profile`, `offline_access`) left out: the identity platform
//! adds those to every user request and does not list them consistently in
//! the granted scopes.

use std::borrow::Cow;

/// Scopes that never decide whether an access token matches.
pub const OIDC_SCOPES: [&str; 3] = ["openid", "profile", "offline_access"];

/// The suffix of a scope that asks for every permission configured for a resource.
pub const DEFAULT_SUFFIX: &str = "/.default";

/// Lower-cases without allocating when the text is already lower case.
pub(crate) fn fold(s: &str) -> Cow<'_, str> {
    if s.is_ascii() {
        if s.bytes().any(|b| b.is_ascii_uppercase()) {
            Cow::Owned(s.to_ascii_lowercase())
        } else {
            Cow::Borrowed(s)
        }
    } else {
        let l = s.to_lowercase();
        if l == s {
            Cow::Borrowed(s)
        } else {
            Cow::Owned(l)
        }
    }
}

/// Whether `a` and `b` are equal case-folded (as [`fold`] compares them),
/// without allocating when both are ASCII.
#[inline]
pub(crate) fn folded_eq(a: &str, b: &str) -> bool {
    if a.is_ascii() && b.is_ascii() {
        a.eq_ignore_ascii_case(b)
    } else {
        fold(a) == fold(b)
    }
}

/// Appends `s` lower-cased.
pub(crate) fn push_folded(out: &mut String, s: &str) {
    if s.is_ascii() {
        let start = out.len();
        out.push_str(s);
        if let Some(tail) = out.get_mut(start..) {
            tail.make_ascii_lowercase();
        }
    } else {
        out.push_str(&s.to_lowercase());
    }
}

/// The normalized set: folded, without OIDC scopes, sorted, de-duplicated.
pub(crate) fn normalize<'a, I>(scopes: I) -> Vec<Cow<'a, str>>
where
    I: IntoIterator<Item = &'a str>,
{
    let mut v: Vec<Cow<'a, str>> = scopes
        .into_iter()
        .filter(|s| !s.is_empty())
        .map(fold)
        .filter(|s| !OIDC_SCOPES.contains(&s.as_ref()))
        .collect();
    v.sort_unstable();
    v.dedup();
    v
}

/// The normalized set as one string (scopes joined by a space), the key of
/// the exact-set index.
pub(crate) fn set_key<S: AsRef<str>>(norm: &[S]) -> String {
    let mut out = String::with_capacity(norm.iter().map(|s| s.as_ref().len() + 1).sum());
    for (i, s) in norm.iter().enumerate() {
        if i > 0 {
            out.push(' ');
        }
        out.push_str(s.as_ref());
    }
    out
}

/// The resource a scope belongs to: the part before its last `/`
/// (`https://graph.microsoft.com/User.Read` → `https://graph.microsoft.com`,
/// `api://app/.default` → `api://app`). `None` for a bare scope
/// (`User.Read`) or when the `/` is the one of `scheme://`.
pub(crate) fn resource_of(scope: &str) -> Option<&str> {
    let i = scope.rfind('/')?;
    let res = &scope[..i];
    if res.is_empty() || res.ends_with(':') || res.ends_with(":/") {
        return None;
    }
    Some(res)
}

/// Whether a request for `requested` may be answered by the token granted
/// `granted` (both normalized, sorted): every requested scope was granted,
/// or is `<resource>/.default`, or was granted in its short form (the
/// platform lists Microsoft Graph scopes without the resource:
/// `https://graph.microsoft.com/User.Read` comes back as `user.read`).
pub(crate) fn requested_is_covered<S: AsRef<str>, T: AsRef<str>>(
    requested: &[S],
    granted: &[T],
) -> bool {
    let has = |s: &str| granted.binary_search_by(|g| g.as_ref().cmp(s)).is_ok();
    requested.iter().all(|r| {
        let r = r.as_ref();
        has(r) || r.ends_with(DEFAULT_SUFFIX) || r.rfind('/').is_some_and(|i| has(&r[i + 1..]))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalization() {
        let n = normalize([
            "User.Read",
            "openid",
            "mail.read",
            "USER.READ",
            "Profile",
            "offline_access",
            "",
        ]);
        assert_eq!(set_key(&n), "mail.read user.read");
        assert!(normalize(["openid", "profile"]).is_empty());
        assert_eq!(set_key(&normalize(["Ünïcode.Read"])), "ünïcode.read");
    }

    #[test]
    fn resources() {
        assert_eq!(
            resource_of("https://graph.microsoft.com/User.Read"),
            Some("https://graph.microsoft.com")
        );
        assert_eq!(resource_of("api://app-id/.default"), Some("api://app-id"));
        assert_eq!(
            resource_of("00000003-0000-0000-c000-000000000000/User.Read"),
            Some("00000003-0000-0000-c000-000000000000")
        );
        assert_eq!(resource_of("User.Read"), None);
        assert_eq!(resource_of("https://host"), None);
    }

    #[test]
    fn coverage() {
        assert!(requested_is_covered(&["a", "b"], &["a", "b", "c"]));
        assert!(!requested_is_covered(&["a", "d"], &["a", "b", "c"]));
        assert!(requested_is_covered(
            &["https://graph.microsoft.com/user.read"],
            &["mail.read", "user.read"]
        ));
        assert!(requested_is_covered(
            &["api://x/.default"],
            &["api://x/read"]
        ));
    }
}
