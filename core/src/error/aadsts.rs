//! The AADSTS numbers idflow knows: every code of Microsoft's public reference
//! of Entra authentication and authorization error codes, read once from
//! `aadsts.json` (compiled in). The Microsoft identity platform warns that
//! apps must not branch on these numbers (they change); idflow uses them only
//! to pick a better mitigation text and, for `explain`, the OAuth error the
//! number usually travels with. Behaviour comes from `error` and `suberror`.
//!
//! Each entry records, for the response the number usually arrives in, the
//! decision idflow's classifier makes (`kind`, `classification`, `action`; the
//! tests hold the classifier to it), who can fix the cause, and a mitigation
//! in idflow's words. `scripts/aadsts-diff.py` compares the numbers with a copy
//! of the reference.

use super::{Action, Classification, ErrorKind, Flow};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::OnceLock;

/// The table's source text, compiled in.
pub const TABLE_JSON: &str = include_str!("aadsts.json");

/// Who can remove the cause of an error.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FixedBy {
    /// The person signing in (sign in again, pick another account, finish MFA...).
    User,
    /// A tenant administrator (policies, assignments, consent, federation).
    Admin,
    /// The app's developer (registration, authority, request parameters).
    Developer,
    /// Nobody on the app's side: the identity platform itself (wait, or report).
    Service,
}

impl FixedBy {
    pub const ALL: [FixedBy; 4] = [
        FixedBy::User,
        FixedBy::Admin,
        FixedBy::Developer,
        FixedBy::Service,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            FixedBy::User => "user",
            FixedBy::Admin => "admin",
            FixedBy::Developer => "developer",
            FixedBy::Service => "service",
        }
    }

    pub fn parse(s: &str) -> Option<FixedBy> {
        FixedBy::ALL.into_iter().find(|f| f.as_str() == s)
    }
}

/// One AADSTS number and idflow's decision for it.
#[derive(Clone, Copy, Debug, Serialize)]
pub struct AadstsRow {
    pub number: i64,
    /// The symbolic name the reference publishes, or (when `name_published`
    /// is false, the reference giving none) a label in the same style.
    pub name: &'static str,
    pub name_published: bool,
    /// The OAuth `error` (and `suberror`) this number is usually sent with.
    pub error: &'static str,
    pub suberror: Option<&'static str>,
    /// The flow it is usually seen in.
    pub flow: Flow,
    /// The decision for that usual response: what `explain` answers.
    pub kind: ErrorKind,
    pub classification: Option<Classification>,
    pub action: Action,
    pub fixed_by: FixedBy,
    /// Whether the emulator offers a named preset (`aadsts_<number>`) for it.
    pub preset: bool,
    pub mitigation: &'static str,
}

impl AadstsRow {
    /// The action when this number arrives with an `error` that is not
    /// interaction-required: the table's action for service errors; for a
    /// number that usually asks for interaction, whoever can fix the cause
    /// decides (an administrator: contact them; the developer: fix the
    /// configuration; else sign in interactively).
    pub fn service_action(&self) -> Action {
        if self.kind != ErrorKind::InteractionRequired {
            return self.action;
        }
        match self.fixed_by {
            FixedBy::Admin => Action::ContactAdmin,
            FixedBy::Developer => Action::FixConfiguration,
            FixedBy::User | FixedBy::Service => Action::AcquireInteractively,
        }
    }
}

/// Where the table's numbers and names were taken from.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Source {
    pub repo: String,
    pub path: String,
    pub commit: String,
    /// The reference's own `ms.date`, as YYYY-MM-DD.
    pub date: String,
}

/// The file's shape. Every field is required in every entry.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    #[allow(dead_code)]
    about: String,
    source: Source,
    /// Shared mitigation texts, referred to as `@key`.
    texts: BTreeMap<String, String>,
    codes: Vec<Entry>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Entry {
    number: i64,
    name: String,
    name_published: bool,
    error: String,
    suberror: Option<String>,
    flow: String,
    kind: String,
    classification: Option<String>,
    action: String,
    fixed_by: String,
    preset: bool,
    mitigation: String,
}

/// The parsed table.
#[derive(Debug)]
pub struct Table {
    pub source: Source,
    pub rows: Vec<AadstsRow>,
}

/// Parses the table's JSON; every value must be one the error model knows.
pub fn parse(json: &str) -> Result<Table, String> {
    let file: File = serde_json::from_str(json).map_err(|e| e.to_string())?;
    let leak = |s: String| -> &'static str { Box::leak(s.into_boxed_str()) };
    let mut rows = Vec::with_capacity(file.codes.len());
    for e in file.codes {
        let n = e.number;
        let bad = |field: &str, v: &str| format!("AADSTS{n}: unknown {field} {v:?}");
        let mitigation = match e.mitigation.strip_prefix('@') {
            Some(key) => file
                .texts
                .get(key)
                .cloned()
                .ok_or_else(|| bad("text", key))?,
            None => e.mitigation,
        };
        rows.push(AadstsRow {
            number: n,
            flow: Flow::parse(&e.flow).ok_or_else(|| bad("flow", &e.flow))?,
            kind: ErrorKind::ALL
                .into_iter()
                .find(|k| k.as_str() == e.kind)
                .ok_or_else(|| bad("kind", &e.kind))?,
            classification: match e.classification.as_deref() {
                None => None,
                Some(c) => Some(Classification::parse(c).ok_or_else(|| bad("classification", c))?),
            },
            action: Action::ALL
                .into_iter()
                .find(|a| a.as_str() == e.action)
                .ok_or_else(|| bad("action", &e.action))?,
            fixed_by: FixedBy::parse(&e.fixed_by).ok_or_else(|| bad("fixed_by", &e.fixed_by))?,
            name: leak(e.name),
            name_published: e.name_published,
            error: leak(e.error),
            suberror: e.suberror.map(leak),
            preset: e.preset,
            mitigation: leak(mitigation),
        });
    }
    Ok(Table {
        source: file.source,
        rows,
    })
}

/// The compiled-in table, parsed on first use. A table that does not parse
/// (the tests make sure it does) reads as empty rather than panicking.
pub fn table() -> &'static Table {
    static TABLE: OnceLock<Table> = OnceLock::new();
    TABLE.get_or_init(|| {
        parse(TABLE_JSON).unwrap_or_else(|_| Table {
            source: Source {
                repo: String::new(),
                path: String::new(),
                commit: String::new(),
                date: String::new(),
            },
            rows: Vec::new(),
        })
    })
}

/// Every row, by number. `AADSTS.iter()` and `for row in AADSTS` both work.
pub const AADSTS: Rows = Rows;

/// The rows of [`table`], as a slice.
#[derive(Clone, Copy, Debug)]
pub struct Rows;

impl std::ops::Deref for Rows {
    type Target = [AadstsRow];
    fn deref(&self) -> &Self::Target {
        &table().rows
    }
}

impl IntoIterator for Rows {
    type Item = &'static AadstsRow;
    type IntoIter = std::slice::Iter<'static, AadstsRow>;
    fn into_iter(self) -> Self::IntoIter {
        table().rows.iter()
    }
}

pub fn lookup(number: i64) -> Option<&'static AadstsRow> {
    let rows = &table().rows;
    rows.binary_search_by_key(&number, |r| r.number)
        .ok()
        .map(|i| &rows[i])
}

/// The row that best describes a response: the first of its AADSTS numbers
/// whose usual `error` is the one sent (a body listing `[70002, 70008]` with
/// `invalid_grant` is about the expired grant, not the client secret), else
/// the first number the table knows.
pub fn best_match(error: &str, codes: &[i64]) -> Option<&'static AadstsRow> {
    let known = || codes.iter().filter_map(|n| lookup(*n));
    known()
        .find(|r| r.error == error)
        .or_else(|| known().next())
}

/// The row whose mitigation describes an error: as [`best_match`], except
/// that an interaction-required error does not take the text of a number that
/// usually arrives, with another `error`, as a service error (an unknown
/// refresh token sent with AADSTS9002313 needs a sign-in, not a request fix).
pub fn mitigation_match(error: &str, kind: ErrorKind, codes: &[i64]) -> Option<&'static AadstsRow> {
    let known = || codes.iter().filter_map(|n| lookup(*n));
    known().find(|r| r.error == error).or_else(|| {
        known().find(|r| {
            kind != ErrorKind::InteractionRequired || r.kind == ErrorKind::InteractionRequired
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::explain::explain;
    use serde_json::Value;
    use std::collections::HashSet;

    const FIELDS: [&str; 12] = [
        "number",
        "name",
        "name_published",
        "error",
        "suberror",
        "flow",
        "kind",
        "classification",
        "action",
        "fixed_by",
        "preset",
        "mitigation",
    ];

    #[test]
    fn the_table_parses_whole_and_sorted_without_duplicates() {
        let t = parse(TABLE_JSON).expect("aadsts.json parses");
        assert_eq!(t.rows.len(), AADSTS.len());
        assert!(t.rows.len() >= 300, "{} rows", t.rows.len());
        let mut seen = HashSet::new();
        for w in t.rows.windows(2) {
            assert!(
                w[0].number < w[1].number,
                "AADSTS{} out of order",
                w[1].number
            );
        }
        for r in &t.rows {
            assert!(seen.insert(r.number), "AADSTS{} twice", r.number);
            assert!(r.number > 0);
        }
        assert_eq!(t.source.commit.len(), 40);
    }

    #[test]
    fn every_entry_has_every_field_and_nothing_else() {
        let v: Value = serde_json::from_str(TABLE_JSON).expect("json");
        let codes = v["codes"].as_array().expect("codes");
        for c in codes {
            let o = c.as_object().expect("an object per code");
            let keys: HashSet<&str> = o.keys().map(String::as_str).collect();
            assert_eq!(keys, FIELDS.into_iter().collect(), "{c}");
            for k in [
                "name",
                "error",
                "flow",
                "kind",
                "action",
                "fixed_by",
                "mitigation",
            ] {
                assert!(
                    o[k].as_str().is_some_and(|s| !s.trim().is_empty()),
                    "{k} of {c}"
                );
            }
            let name = o["name"].as_str().unwrap_or_default();
            assert!(
                name.chars()
                    .all(|ch| ch.is_ascii_alphanumeric() || ch == '_'),
                "name {name}"
            );
        }
        // Unknown values are refused, not skipped.
        let bad = TABLE_JSON.replacen("\"action\": \"retry\"", "\"action\": \"pray\"", 1);
        assert!(parse(&bad).is_err_and(|e| e.contains("pray")));
    }

    #[test]
    fn values_are_ones_the_languages_know() {
        for r in AADSTS {
            assert!(Action::ALL.contains(&r.action), "{}", r.number);
            assert!(ErrorKind::ALL.contains(&r.kind), "{}", r.number);
            assert!(FixedBy::ALL.contains(&r.fixed_by), "{}", r.number);
            // A classification exactly when the kind is interaction-required.
            assert_eq!(
                r.classification.is_some(),
                r.kind == ErrorKind::InteractionRequired,
                "{}",
                r.number
            );
            assert!(r.error.bytes().all(|b| b.is_ascii_lowercase() || b == b'_'));
        }
    }

    #[test]
    fn mitigations_are_written_here_and_short() {
        let sentences = |s: &str| s.split(". ").count();
        for r in AADSTS {
            let m = r.mitigation;
            assert!(m.len() >= 40 && m.len() <= 400, "AADSTS{}: {m}", r.number);
            assert!(m.ends_with('.') || m.ends_with(')'), "AADSTS{}", r.number);
            assert!(sentences(m) <= 4, "AADSTS{}", r.number);
            // Nothing carried over from the reference's markup or placeholders.
            for marker in ["](", "<br", "<li", "{", "}", "~/", "|"] {
                assert!(!m.contains(marker), "AADSTS{} has {marker}", r.number);
            }
            assert!(!m.contains(&format!("AADSTS{}", r.number)));
        }
        // Sentences seen in the reference (for 700027, 90033, 50011, 70011,
        // 50196) must not appear as mitigations.
        for copied in [
            "Client assertion failed signature validation.",
            "The Microsoft Online Directory Service (MSODS) isn't available.",
            "The reply address is missing, misconfigured, or doesn't match reply addresses configured for the app.",
            "The scope requested by the app is invalid.",
            "A client loop has been detected.",
        ] {
            assert!(AADSTS.iter().all(|r| !r.mitigation.contains(copied)), "{copied}");
        }
    }

    /// The decision recorded for each number is the one the classifier makes
    /// for the response the number usually comes in.
    #[test]
    fn every_decision_is_the_classifiers() {
        for r in AADSTS {
            let e = explain(&format!("AADSTS{}", r.number)).expect("explained");
            let got = (e.kind, e.classification, e.action, e.code.as_str());
            let want = (r.kind, r.classification, r.action, r.error);
            assert_eq!(got, want, "AADSTS{}", r.number);
            assert_eq!(e.aadsts(), &[r.number]);
            assert_eq!(e.mitigation, r.mitigation, "AADSTS{}", r.number);
        }
    }

    #[test]
    fn the_seed_rows_keep_their_decisions() {
        let row = |n| lookup(n).expect("seed row");
        let want = [
            (50053, Action::AcquireInteractively, Action::ContactAdmin),
            (50057, Action::AcquireInteractively, Action::ContactAdmin),
            (53003, Action::ContactAdmin, Action::ContactAdmin),
            (70002, Action::FixConfiguration, Action::FixConfiguration),
            (90010, Action::FixConfiguration, Action::FixConfiguration),
            (90033, Action::Retry, Action::Retry),
            (50196, Action::None, Action::None),
            (
                70019,
                Action::AcquireInteractively,
                Action::AcquireInteractively,
            ),
            (
                54005,
                Action::AcquireInteractively,
                Action::AcquireInteractively,
            ),
        ];
        for (n, action, otherwise) in want {
            assert_eq!(
                (row(n).action, row(n).service_action()),
                (action, otherwise),
                "{n}"
            );
        }
        assert_eq!(AADSTS.iter().filter(|r| r.preset).count(), 40);
        assert_eq!(row(65001).suberror, Some("consent_required"));
        assert_eq!(row(50058).flow, Flow::AuthorizePromptNone);
        assert_eq!(row(70016).flow, Flow::DeviceCode);
    }

    #[test]
    fn best_match_prefers_the_number_whose_error_was_sent() {
        assert_eq!(
            best_match("invalid_grant", &[70002, 70008]).map(|r| r.number),
            Some(70008)
        );
        assert_eq!(
            best_match("invalid_client", &[70002, 70008]).map(|r| r.number),
            Some(70002)
        );
        assert_eq!(
            best_match("invalid_grant", &[1, 70002]).map(|r| r.number),
            Some(70002)
        );
        assert!(best_match("invalid_grant", &[1, 2]).is_none());
    }

    #[test]
    fn an_interaction_required_error_keeps_an_interactive_text() {
        let ir = ErrorKind::InteractionRequired;
        // 9002313 usually comes as invalid_request: its text is about fixing the request.
        assert!(mitigation_match("invalid_grant", ir, &[9002313]).is_none());
        assert_eq!(
            mitigation_match("invalid_grant", ir, &[9002313, 50057]).map(|r| r.number),
            Some(50057)
        );
        assert_eq!(
            mitigation_match("invalid_request", ir, &[50057]).map(|r| r.number),
            Some(50057)
        );
        let svc = ErrorKind::Service;
        assert_eq!(
            mitigation_match("invalid_client", svc, &[50057]).map(|r| r.number),
            Some(50057)
        );
        let e = crate::explain::explain("AADSTS9002313 invalid_grant").expect("decided");
        assert_eq!(e.kind, ir);
        assert_ne!(
            e.mitigation,
            lookup(9002313).map(|r| r.mitigation).unwrap_or_default()
        );
    }
}
