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
    match case_of(s) {
        Case::Lower => Cow::Borrowed(s),
        Case::Upper => Cow::Owned(s.to_ascii_lowercase()),
        Case::Other => {
            let l = s.to_lowercase();
            if l == s {
                Cow::Borrowed(s)
            } else {
                Cow::Owned(l)
            }
        }
    }
}

/// Whether lower-casing leaves `s` as it is and it is ASCII.
pub(crate) fn is_lower_ascii(s: &str) -> bool {
    case_of(s) == Case::Lower
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

/// What lower-casing does to a text.
#[derive(Debug, PartialEq, Eq)]
enum Case {
    /// ASCII without a capital: it stays as it is.
    Lower,
    /// ASCII with a capital.
    Upper,
    /// Not ASCII.
    Other,
}

/// [`Case`] of `s`, 8 bytes at a time: the document keys are computed from
/// an entry's fields on every serialize, and their parts (ids, hosts) are
/// mostly lower case already, copied then without a second pass.
fn case_of(s: &str) -> Case {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGHS: u64 = 0x8080_8080_8080_8080;
    let b = s.as_bytes();
    let mut words = b.chunks_exact(8);
    let (mut high, mut upper) = (0u64, 0u64);
    for word in &mut words {
        let mut w = [0u8; 8];
        w.copy_from_slice(word);
        let w = u64::from_le_bytes(w);
        high |= w;
        // For bytes below 0x80 (no carry between them): the high bit is set
        // in `w + 0x3f` from `A` (0x41) up, in `w + 0x25` from `[` (0x5b) up.
        upper |= w.wrapping_add(ONES * 0x3f) & !w.wrapping_add(ONES * 0x25);
    }
    let rest = words.remainder();
    if high & HIGHS != 0 || !rest.is_ascii() {
        Case::Other
    } else if upper & HIGHS != 0 || rest.iter().any(u8::is_ascii_uppercase) {
        Case::Upper
    } else {
        Case::Lower
    }
}

/// Appends `s` lower-cased.
pub(crate) fn push_folded(out: &mut String, s: &str) {
    match case_of(s) {
        Case::Lower => out.push_str(s),
        Case::Upper => {
            let start = out.len();
            out.push_str(s);
            if let Some(tail) = out.get_mut(start..) {
                tail.make_ascii_lowercase();
            }
        }
        Case::Other => out.push_str(&s.to_lowercase()),
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
    #[test]
    fn push_folded_lower_cases_every_byte_at_every_position() {
        let mut cases: Vec<String> = vec![String::new(), "ÄBC".into(), "abcdefgh-ÄÖ".into()];
        for b in 0u8..0x80 {
            for pad in 0..17 {
                cases.push(format!(
                    "{}{}{}",
                    "x".repeat(pad),
                    char::from(b),
                    "y".repeat(16 - pad)
                ));
            }
        }
        for c in ['é', 'É', '€', 'İ', '😀'] {
            for pad in 0..9 {
                cases.push(format!("{}{c}", "Ab".repeat(pad)));
            }
        }
        for s in &cases {
            let mut out = String::from("keep-");
            super::push_folded(&mut out, s);
            assert_eq!(out, format!("keep-{}", s.to_lowercase()), "{s:?}");
            let want = if !s.is_ascii() {
                super::Case::Other
            } else if s.bytes().any(|b| b.is_ascii_uppercase()) {
                super::Case::Upper
            } else {
                super::Case::Lower
            };
            assert_eq!(super::case_of(s), want, "{s:?}");
        }
    }

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
