//! Fault injection: rules that answer matching requests with a failure
//! instead of the emulated platform's normal answer.
//!
//! A rule has a matcher (every field optional: endpoint, path, method,
//! grant type, scope, client id, tenant), a count (the next N matching
//! requests, or unlimited) and an effect. Rules are tried in the order they
//! were added; the first that matches answers, and its count goes down.

use crate::aad_error::AadError;
use crate::fault_bodies::{FillerBody, ResetBody};
use crate::request::{json, respond, Endpoint, Req};
use crate::state::App;
use axum::body::Body;
use axum::response::Response;
use serde::{Deserialize, Serialize};
use std::time::Duration;

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
        let grant = self.grant_type.as_deref().map(|g| match g {
            "device_code" => crate::token::DEVICE_CODE_GRANT,
            other => other,
        });
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

/// What applying an effect leads to.
pub enum Applied {
    /// Answer with this.
    Respond(Response),
    /// Carry on with the normal answer (after a delay).
    PassThrough,
    /// The connection has been told to close; never answer.
    Dropped,
}

/// Applies `effect` to `req`.
pub async fn apply(effect: &Effect, req: &Req, app: &App) -> Applied {
    let ctx = &req.ctx;
    let retry_headers = |r: &Option<RetryAfter>| -> Vec<(String, String)> {
        match r {
            None => Vec::new(),
            Some(RetryAfter {
                seconds,
                http_date: false,
            }) => {
                vec![("retry-after".into(), seconds.to_string())]
            }
            Some(RetryAfter {
                seconds,
                http_date: true,
            }) => {
                let now = app.clock.now();
                let at = now + Duration::from_secs((*seconds).min(10 * 365 * 86_400));
                vec![
                    ("date".into(), crate::clock::http_date(now)),
                    ("retry-after".into(), crate::clock::http_date(at)),
                ]
            }
        }
    };
    let with_platform = |mut extra: Vec<(String, String)>| {
        let mut h = ctx.platform_headers();
        h.append(&mut extra);
        h
    };
    let response = match effect {
        Effect::Delay { ms } => {
            tokio::time::sleep(Duration::from_millis((*ms).min(MAX_DELAY_MS))).await;
            return Applied::PassThrough;
        }
        Effect::NoAnswer { ms } => {
            tokio::time::sleep(Duration::from_millis((*ms).min(MAX_DELAY_MS))).await;
            match &req.conn {
                Some(conn) => {
                    conn.drop_connection();
                    return Applied::Dropped;
                }
                None => respond(504, Vec::new(), Body::empty()),
            }
        }
        Effect::DropConnection => match &req.conn {
            Some(conn) => {
                conn.drop_connection();
                return Applied::Dropped;
            }
            // Not served by the emulator's own loop: the closest it can do.
            None => respond(500, Vec::new(), Body::empty()),
        },
        Effect::OauthError {
            error,
            error_description,
            error_codes,
            suberror,
            claims,
            status,
            retry_after,
        } => {
            let mut codes = error_codes.clone();
            if codes.is_empty() {
                codes.extend(
                    error_description
                        .as_deref()
                        .and_then(idflow::error::leading_aadsts),
                );
            }
            // Just a number: its usual error and suberror, from the table.
            let row = table_row(&codes, None).filter(|_| error.trim().is_empty());
            let error = row.map_or_else(|| error.clone(), |r| r.error.to_owned());
            let suberror = suberror
                .clone()
                .or_else(|| row.and_then(|r| r.suberror).map(str::to_owned));
            let message = error_description.clone().unwrap_or_else(|| {
                codes
                    .first()
                    .and_then(|n| idflow::error::aadsts::lookup(*n))
                    .map_or_else(
                        || format!("{error} (injected by the emulator)."),
                        |r| format!("{}.", r.name),
                    )
            });
            let e = AadError {
                status: *status,
                error: error.clone(),
                codes,
                message,
                suberror: suberror.clone(),
                claims: claims.clone(),
                headers: retry_headers(retry_after),
            };
            if req.endpoint == Endpoint::Authorize {
                if let Some(uri) = req
                    .query
                    .get("redirect_uri")
                    .filter(|u| url::Url::parse(u).is_ok())
                {
                    let mode = req.query.get("response_mode").unwrap_or("query");
                    return Applied::Respond(e.redirect(ctx, uri, req.query.get("state"), mode));
                }
            }
            e.into_response(ctx)
        }
        Effect::Status {
            status,
            retry_after,
            body,
        } => {
            let (ctype, text) = match body {
                StatusBody::Empty => (None, String::new()),
                StatusBody::Html => (Some("text/html; charset=utf-8"), html_page(*status)),
                StatusBody::Text => (Some("text/plain"), format!("HTTP {status}")),
            };
            let mut extra = retry_headers(retry_after);
            extra.extend(ctype.map(|c| ("content-type".to_owned(), c.to_owned())));
            respond(*status, with_platform(extra), text)
        }
        Effect::MalformedJson { status } => respond(
            *status,
            with_platform(vec![(
                "content-type".into(),
                "application/json; charset=utf-8".into(),
            )]),
            r#"{"error":"invalid_grant","error_description":"AADSTS70000: The provided gr"#,
        ),
        Effect::HtmlPage { status } => respond(
            *status,
            with_platform(vec![(
                "content-type".into(),
                "text/html; charset=utf-8".into(),
            )]),
            html_page(*status),
        ),
        Effect::EmptyBody { status } => respond(*status, with_platform(Vec::new()), Body::empty()),
        Effect::OversizedBody { bytes, status } => respond(
            *status,
            with_platform(vec![(
                "content-type".into(),
                "application/json; charset=utf-8".into(),
            )]),
            Body::new(FillerBody::new(*bytes)),
        ),
        Effect::ResetMidBody { status } => respond(
            *status,
            with_platform(vec![(
                "content-type".into(),
                "application/json; charset=utf-8".into(),
            )]),
            Body::new(ResetBody::new(req.conn.clone())),
        ),
        Effect::MissingAccessToken => {
            let secs = app.lock().settings.access_token_lifetime_secs;
            json(
                200,
                ctx,
                &serde_json::json!({
                    "token_type": "Bearer",
                    "scope": req.params().get("scope").unwrap_or(""),
                    "expires_in": secs,
                    "ext_expires_in": secs,
                }),
            )
        }
        Effect::InvalidUtf8 { status } => {
            let mut body =
                br#"{"token_type":"Bearer","expires_in":3600,"access_token":"eyJ0eXAiOiJKV1Qi"#
                    .to_vec();
            // A lone continuation byte and an overlong encoding: never UTF-8.
            body.extend_from_slice(&[0x80, 0xC0, 0xAF, 0xFF]);
            body.extend_from_slice(br#"fQ.e30.c2ln"}"#);
            respond(
                *status,
                with_platform(vec![(
                    "content-type".into(),
                    "application/json; charset=utf-8".into(),
                )]),
                body,
            )
        }
        Effect::WrongJsonTypes => json(
            200,
            ctx,
            &serde_json::json!({
                "token_type": ["Bearer"],
                "scope": 42,
                "expires_in": {"seconds": 3600},
                "ext_expires_in": true,
                "access_token": "eyJ0eXAiOiJKV1QifQ.e30.c2ln",
                "refresh_token": 7,
            }),
        ),
        Effect::Raw {
            status,
            headers,
            body,
        } => respond(*status, headers.clone(), body.clone()),
        Effect::RequireClaims {
            claims,
            error,
            error_codes,
            status,
        } => {
            let sent = req
                .params()
                .get("claims")
                .and_then(|c| serde_json::from_str::<serde_json::Value>(c).ok());
            let wanted = serde_json::from_str::<serde_json::Value>(claims).ok();
            if let (Some(sent), Some(wanted)) = (&sent, &wanted) {
                if contains(sent, wanted) {
                    return Applied::PassThrough;
                }
            }
            let e = AadError {
                status: *status,
                error: error.clone(),
                codes: error_codes.clone(),
                message: error_codes
                    .first()
                    .and_then(|n| idflow::error::aadsts::lookup(*n))
                    .map_or_else(
                        || {
                            "The resource requires more claims (injected by the emulator)."
                                .to_owned()
                        },
                        |r| format!("{}.", r.name),
                    ),
                suberror: None,
                claims: Some(claims.clone()),
                headers: Vec::new(),
            };
            e.into_response(ctx)
        }
    };
    Applied::Respond(response)
}

/// The table row of an error's first AADSTS number (from `error_codes`, else
/// the description's leading `AADSTSnnnn`).
fn table_row(
    codes: &[i64],
    description: Option<&str>,
) -> Option<&'static idflow::error::AadstsRow> {
    codes
        .first()
        .copied()
        .or_else(|| description.and_then(idflow::error::leading_aadsts))
        .and_then(idflow::error::aadsts::lookup)
}

/// Whether `have` holds every member of `want`: objects member by member,
/// arrays as sets (every wanted element somewhere in `have`), scalars equal.
pub fn contains(have: &serde_json::Value, want: &serde_json::Value) -> bool {
    use serde_json::Value;
    match (have, want) {
        (Value::Object(h), Value::Object(w)) => w
            .iter()
            .all(|(k, wv)| h.get(k).is_some_and(|hv| contains(hv, wv))),
        (Value::Array(h), Value::Array(w)) => {
            w.iter().all(|wv| h.iter().any(|hv| contains(hv, wv)))
        }
        (h, w) => h == w,
    }
}

fn html_page(status: u16) -> String {
    format!(
        "<!DOCTYPE html><html><head><title>{status} Service Unavailable</title></head>\
         <body><h1>The service is temporarily unavailable</h1>\
         <p>HTTP {status} from a front-end server. Please try again later.</p></body></html>"
    )
}

#[cfg(test)]
mod tests {
    use super::contains;
    use serde_json::json;

    #[test]
    fn deep_subset() {
        let sent = json!({"access_token": {"xms_cc": {"values": ["cp1", "llt"]},
                          "acrs": {"essential": true, "value": "c1"}}});
        assert!(contains(&sent, &json!({})));
        assert!(contains(
            &sent,
            &json!({"access_token": {"acrs": {"value": "c1"}}})
        ));
        assert!(contains(
            &sent,
            &json!({"access_token": {"xms_cc": {"values": ["llt"]}}})
        ));
        assert!(!contains(
            &sent,
            &json!({"access_token": {"acrs": {"value": "c2"}}})
        ));
        assert!(!contains(&sent, &json!({"id_token": {}})));
        assert!(!contains(&json!("x"), &json!({"a": 1})));
    }
}
