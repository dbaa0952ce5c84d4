//! Fault rules as data: which requests a rule matches, what it answers
//! with, and the book of armed rules.
//!
//! A rule has a matcher (every field optional: endpoint, path, method,
//! grant type, scope, client id, tenant), a count (the next N matching
//! requests, or unlimited) and an effect. Rules are tried in the order they
//! were added; the first that matches answers, and its count goes down.

use crate::wire::request::{Endpoint, Req};
use serde::{Deserialize, Serialize};

/// The longest delay a rule may ask for.
pub const MAX_DELAY_MS: u64 = 120_000;
/// The largest body an `oversized_body` rule may ask for.
pub const MAX_OVERSIZED_BYTES: u64 = 64 * 1024 * 1024;

/// Which requests a rule applies to; an absent field matches anything.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Matcher {
    pub endpoint: Option<Endpoint>,
    /// The exact path, or a prefix when it ends with `*`.
    pub path: Option<String>,
    pub method: Option<String>,
    /// `device_code` also matches the URN form and vice versa.
    pub grant_type: Option<String>,
    /// Matches when the request's `scope` contains this scope (case-insensitive).
    pub scope: Option<String>,
    pub client_id: Option<String>,
    /// The tenant segment of the path (`common`, a domain, a GUID).
    pub tenant: Option<String>,
}

/// `Retry-After`, as delta-seconds or as an HTTP-date that many seconds ahead.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RetryAfter {
    pub seconds: u64,
    #[serde(default)]
    pub http_date: bool,
}

/// What a rule answers with.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Effect {
    /// An OAuth error in the platform's shape: JSON from the token and
    /// device-code endpoints (status 400 unless given; 200 makes an "error on
    /// 200"), a redirect from the authorize endpoint.
    OauthError {
        /// May be left out when the first AADSTS number is in idflow's table:
        /// the number's usual error (and suberror) are used.
        #[serde(default)]
        error: String,
        #[serde(default)]
        error_description: Option<String>,
        #[serde(default)]
        error_codes: Vec<i64>,
        #[serde(default)]
        suberror: Option<String>,
        #[serde(default)]
        claims: Option<String>,
        #[serde(default = "status_400")]
        status: u16,
        #[serde(default)]
        retry_after: Option<RetryAfter>,
    },
    /// A status with no OAuth body (429, 500, 503...), optionally with Retry-After.
    Status {
        status: u16,
        #[serde(default)]
        retry_after: Option<RetryAfter>,
        #[serde(default)]
        body: StatusBody,
    },
    /// Wait, then answer normally.
    Delay { ms: u64 },
    /// JSON cut off mid-way.
    MalformedJson {
        #[serde(default = "status_400")]
        status: u16,
    },
    /// An HTML error page, as a proxy or load balancer sends.
    HtmlPage {
        #[serde(default = "status_500")]
        status: u16,
    },
    /// No body at all.
    EmptyBody {
        #[serde(default = "status_500")]
        status: u16,
    },
    /// A JSON error padded to exactly `bytes` bytes.
    OversizedBody {
        bytes: u64,
        #[serde(default = "status_500")]
        status: u16,
    },
    /// Close the connection before any response.
    DropConnection,
    /// Send the headers and part of the body, then reset the connection.
    ResetMidBody {
        #[serde(default = "status_200")]
        status: u16,
    },
    /// A 200 token response without `access_token`.
    MissingAccessToken,
    /// The normal answer with `id_token` and `client_info` taken out of a
    /// successful token response (OpenID Connect lets a refresh answer leave
    /// the id token out; an on-behalf-of answer may have neither). Any
    /// other answer passes unchanged.
    StripAccountInfo,
    /// Conditional Access: unless the request's `claims` parameter (a JSON
    /// object) holds every member of `claims` (a JSON object, compared as a
    /// deep subset), answer `error` (`interaction_required`, AADSTS50079)
    /// with `claims` as the claims challenge; a request that satisfies it is
    /// answered normally.
    RequireClaims {
        claims: String,
        #[serde(default = "interaction_required")]
        error: String,
        #[serde(default = "codes_50079")]
        error_codes: Vec<i64>,
        #[serde(default = "status_400")]
        status: u16,
    },
    /// A token response whose bytes are not valid UTF-8 (JSON must be).
    InvalidUtf8 {
        #[serde(default = "status_200")]
        status: u16,
    },
    /// A 200 token response with a string `access_token` but members of the
    /// wrong JSON types (`expires_in` an object, `scope` a number, ...).
    WrongJsonTypes,
    /// Read the request and never answer: the client's timeout must end it.
    /// After `ms` (default and at most 120000) the connection is closed.
    NoAnswer {
        #[serde(default = "max_delay_ms")]
        ms: u64,
    },
    /// Exactly this status, these headers and this body.
    Raw {
        status: u16,
        #[serde(default)]
        headers: Vec<(String, String)>,
        #[serde(default)]
        body: String,
    },
}

/// The body of a [`Effect::Status`] answer.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StatusBody {
    #[default]
    Empty,
    Html,
    Text,
}

fn interaction_required() -> String {
    "interaction_required".into()
}
fn codes_50079() -> Vec<i64> {
    vec![50079]
}
fn status_200() -> u16 {
    200
}
fn status_400() -> u16 {
    400
}
fn status_500() -> u16 {
    500
}
fn max_delay_ms() -> u64 {
    MAX_DELAY_MS
}
fn one() -> Option<u32> {
    Some(1)
}

/// A rule as the admin API takes it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FaultSpec {
    #[serde(default, rename = "match")]
    pub matcher: Matcher,
    /// How many matching requests it answers; `null` for every one. Default 1.
    #[serde(default = "one")]
    pub count: Option<u32>,
    pub effect: Effect,
    /// A name shown in listings and the request log (presets set it).
    #[serde(default)]
    pub label: Option<String>,
}

/// An armed rule.
#[derive(Clone, Debug, Serialize)]
pub struct FaultRule {
    pub id: u64,
    #[serde(rename = "match")]
    pub matcher: Matcher,
    /// Matching requests it still answers; `null` for unlimited.
    pub remaining: Option<u32>,
    pub effect: Effect,
    pub label: Option<String>,
}

impl FaultSpec {
    /// Refuses rules that cannot be honoured, so a typo fails when arming, not later.
    pub fn validate(&self) -> Result<(), String> {
        let status_ok = |s: u16| (200..=599).contains(&s);
        match &self.effect {
            Effect::OauthError {
                error,
                error_codes,
                error_description,
                ..
            } if error.trim().is_empty()
                && table_row(error_codes, error_description.as_deref()).is_none() =>
            {
                return Err(
                    "oauth_error needs a non-empty error, or an AADSTS number of idflow's table"
                        .into(),
                );
            }
            Effect::OauthError { status, .. }
            | Effect::Status { status, .. }
            | Effect::MalformedJson { status }
            | Effect::HtmlPage { status }
            | Effect::EmptyBody { status }
            | Effect::ResetMidBody { status }
            | Effect::InvalidUtf8 { status }
            | Effect::Raw { status, .. }
                if !status_ok(*status) =>
            {
                return Err(format!("status {status} is not 200-599"));
            }
            Effect::OversizedBody { bytes, status }
                if *bytes > MAX_OVERSIZED_BYTES || !status_ok(*status) =>
            {
                return Err(format!(
                    "oversized_body takes at most {MAX_OVERSIZED_BYTES} bytes and a 200-599 status"
                ));
            }
            Effect::Delay { ms } | Effect::NoAnswer { ms } if *ms > MAX_DELAY_MS => {
                return Err(format!("delay and no_answer are at most {MAX_DELAY_MS} ms"));
            }
            Effect::RequireClaims { claims, status, .. } => {
                if !matches!(
                    serde_json::from_str::<serde_json::Value>(claims),
                    Ok(serde_json::Value::Object(_))
                ) {
                    return Err("require_claims needs claims that are a JSON object".into());
                }
                if !status_ok(*status) {
                    return Err(format!("status {status} is not 200-599"));
                }
            }
            _ => {}
        }
        if self.count == Some(0) {
            return Err("count must be at least 1 (or null for unlimited)".into());
        }
        Ok(())
    }
}

impl Matcher {
    pub fn matches(&self, req: &Req) -> bool {
        let eq = |want: &Option<String>, got: Option<&str>| {
            want.as_deref()
                .is_none_or(|w| got.is_some_and(|g| g.eq_ignore_ascii_case(w)))
        };
        let path_ok = self
            .path
            .as_deref()
            .is_none_or(|p| match p.strip_suffix('*') {
                Some(prefix) => req.path.starts_with(prefix),
                None => req.path == p,
            });
        let grant = self
            .grant_type
            .as_deref()
            .map(crate::grant_types::normalize);
        let scope_ok = self.scope.as_deref().is_none_or(|want| {
            req.params()
                .get("scope")
                .is_some_and(|s| s.split_whitespace().any(|x| x.eq_ignore_ascii_case(want)))
        });
        self.endpoint.is_none_or(|e| e == req.endpoint)
            && path_ok
            && eq(&self.method, Some(req.method.as_str()))
            && grant.is_none_or(|g| req.grant_type() == Some(g))
            && scope_ok
            && eq(&self.client_id, req.params().get("client_id"))
            && eq(&self.tenant, req.tenant.as_deref())
    }
}

/// The armed rules.
#[derive(Debug, Default)]
pub struct FaultBook {
    next_id: u64,
    rules: Vec<FaultRule>,
}

impl FaultBook {
    pub fn add(&mut self, spec: FaultSpec) -> u64 {
        self.next_id += 1;
        self.rules.push(FaultRule {
            id: self.next_id,
            matcher: spec.matcher,
            remaining: spec.count,
            effect: spec.effect,
            label: spec.label,
        });
        self.next_id
    }

    /// The first rule matching `req`, consumed once.
    pub fn take(&mut self, req: &Req) -> Option<FaultRule> {
        let i = self.rules.iter().position(|r| r.matcher.matches(req))?;
        let rule = self.rules.get_mut(i)?;
        let fired = rule.clone();
        if let Some(n) = rule.remaining.as_mut() {
            *n = n.saturating_sub(1);
            if *n == 0 {
                self.rules.remove(i);
            }
        }
        Some(fired)
    }

    pub fn list(&self) -> &[FaultRule] {
        &self.rules
    }

    pub fn remove(&mut self, id: u64) -> bool {
        let before = self.rules.len();
        self.rules.retain(|r| r.id != id);
        before != self.rules.len()
    }

    pub fn clear(&mut self) {
        self.rules.clear();
    }
}

/// The table row of an error's first AADSTS number (from `error_codes`, else
/// the description's leading `AADSTSnnnn`).
pub(crate) fn table_row(
    codes: &[i64],
    description: Option<&str>,
) -> Option<&'static idflow::error::AadstsRow> {
    codes
        .first()
        .copied()
        .or_else(|| description.and_then(idflow::error::leading_aadsts))
        .and_then(idflow::error::aadsts::lookup)
}
