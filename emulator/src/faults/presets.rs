//! Presets: named fault rules for every row of the seed's tables, every
//! classification, and every kind of transport or body failure, so that an
//! app's test can say "the next refresh gets MFA-required" in one line.
//!
//! Bodies of AADSTS rows come from the core's table and
//! [`idflow::explain::sample_response`], so the emulator and the classifier
//! agree on what each row looks like on the wire. Each preset states what
//! idflow decides for it (`expect`); the emulator's tests hold it to that.

use crate::faults::rules::{Effect, FaultSpec, Matcher, RetryAfter, StatusBody};
use crate::wire::request::Endpoint;
use idflow::error::aadsts::{self, AadstsRow};
use idflow::{Classification, ErrorKind, Flow};
use serde::Serialize;
use serde_json::Value;

/// What idflow decides for a preset's answer.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Expect {
    /// The flow to classify the answer as.
    pub flow: Flow,
    pub kind: ErrorKind,
    /// The OAuth `error`, or idflow's local code for unreadable answers.
    pub code: String,
    pub classification: Option<Classification>,
}

/// A named fault.
#[derive(Clone, Debug, Serialize)]
pub struct Preset {
    pub name: String,
    pub description: String,
    /// The rule it arms (count 1 unless the arming request says otherwise).
    pub rule: FaultSpec,
    /// `None` for presets whose answer is not an error (a delay, a realm answer).
    pub expect: Option<Expect>,
}

fn expect(flow: Flow, kind: ErrorKind, code: &str, c: Option<Classification>) -> Option<Expect> {
    Some(Expect {
        flow,
        kind,
        code: code.to_owned(),
        classification: c,
    })
}

fn matcher(endpoint: Endpoint, grant: Option<&str>) -> Matcher {
    Matcher {
        endpoint: Some(endpoint),
        grant_type: grant.map(str::to_owned),
        ..Matcher::default()
    }
}

fn oauth(
    error: &str,
    description: &str,
    codes: &[i64],
    suberror: Option<&str>,
    status: u16,
) -> Effect {
    Effect::OauthError {
        error: error.to_owned(),
        error_description: Some(description.to_owned()),
        error_codes: codes.to_vec(),
        suberror: suberror.map(str::to_owned),
        claims: None,
        status,
        retry_after: None,
    }
}

/// The effect for an AADSTS row: the body `sample_response` gives it.
fn row_effect(row: &AadstsRow) -> Effect {
    let (resp, _) = idflow::explain::sample_response(row);
    let body: Value = serde_json::from_slice(&resp.body).unwrap_or(Value::Null);
    let text = |k: &str| body.get(k).and_then(Value::as_str).map(str::to_owned);
    Effect::OauthError {
        error: row.error.to_owned(),
        error_description: Some(format!("AADSTS{}: {}.", row.number, row.name)),
        error_codes: vec![row.number],
        suberror: row.suberror.map(str::to_owned),
        claims: text("claims"),
        status: if resp.status == 302 { 400 } else { resp.status },
        retry_after: None,
    }
}

fn row_matcher(row: &AadstsRow) -> Matcher {
    match row.flow {
        Flow::Authorize | Flow::AuthorizePromptNone => matcher(Endpoint::Authorize, None),
        Flow::DeviceCode => matcher(Endpoint::Token, Some("device_code")),
        Flow::Token | Flow::Silent => matcher(Endpoint::Token, None),
    }
}

/// What idflow decides for a row's sample (its `explain`).
fn row_expect(row: &AadstsRow) -> Option<Expect> {
    let e = idflow::explain::explain(&format!("AADSTS{}", row.number)).ok()?;
    expect(row.flow, e.kind, &e.code, e.classification)
}

fn preset(
    name: &str,
    description: &str,
    matcher: Matcher,
    effect: Effect,
    expect: Option<Expect>,
) -> Preset {
    Preset {
        name: name.to_owned(),
        description: description.to_owned(),
        rule: FaultSpec {
            matcher,
            count: Some(1),
            effect,
            label: Some(name.to_owned()),
        },
        expect,
    }
}

fn from_row(name: &str, number: i64, description: &str) -> Option<Preset> {
    let row = aadsts::lookup(number)?;
    Some(preset(
        name,
        description,
        row_matcher(row),
        row_effect(row),
        row_expect(row),
    ))
}

/// Every preset, in the order `GET /_admin/presets` lists them.
pub fn all() -> Vec<Preset> {
    use Classification as C;
    use ErrorKind as K;
    let mut out = Vec::new();
    // The seed's .NET table.
    let seed = [
        ("consent_required_65001", 65001, "Token endpoint: invalid_grant AADSTS65001, suberror consent_required (no consent)."),
        ("mfa_required_50079", 50079, "Token endpoint: interaction_required AADSTS50079 with a claims challenge (MFA)."),
        ("mfa_required", 50079, "Alias of mfa_required_50079."),
        ("grant_on_common_90010", 90010, "Token endpoint: invalid_request AADSTS90010 (grant not supported on /common)."),
        ("public_client_70002", 70002, "Token endpoint: invalid_client AADSTS70002 (app not registered as a public client)."),
        ("device_not_compliant_53000", 53000, "Token endpoint: interaction_required AADSTS53000, additional_action, claims (compliant device required)."),
    ];
    out.extend(seed.iter().filter_map(|(n, code, d)| from_row(n, *code, d)));
    // The classification table (silent refresh answers).
    let silent = matcher(Endpoint::Token, Some("refresh_token"));
    for (sub, c, code, what) in [
        (
            "basic_action",
            C::BasicAction,
            50076,
            "the user can fix it in an interactive sign-in",
        ),
        (
            "additional_action",
            C::AdditionalAction,
            53000,
            "the user must act outside the sign-in",
        ),
        (
            "message_only",
            C::MessageOnly,
            53003,
            "the sign-in can only show a message",
        ),
        (
            "consent_required",
            C::ConsentRequired,
            65001,
            "consent is missing or revoked",
        ),
        (
            "user_password_expired",
            C::UserPasswordExpired,
            50055,
            "the password expired",
        ),
        (
            "bad_token",
            C::None,
            50173,
            "internal: the refresh token is dead",
        ),
        (
            "token_expired",
            C::None,
            70008,
            "internal: the refresh token expired",
        ),
        (
            "device_authentication_failed",
            C::None,
            50155,
            "internal: the device must re-register",
        ),
    ] {
        out.push(preset(
            sub,
            &format!("Next refresh: invalid_grant AADSTS{code}, suberror {sub} ({what})."),
            silent.clone(),
            oauth(
                "invalid_grant",
                &format!("AADSTS{code}: Interaction is required: {what}."),
                &[code],
                Some(sub),
                400,
            ),
            expect(
                Flow::Silent,
                K::InteractionRequired,
                "invalid_grant",
                Some(c),
            ),
        ));
    }
    out.push(preset(
        "client_mismatch",
        "Next refresh: invalid_grant, suberror client_mismatch (a family refresh token for a client outside the family; not interaction-required).",
        silent.clone(),
        oauth("invalid_grant", "AADSTS70000: The refresh token was issued to a different client.", &[70000], Some("client_mismatch"), 400),
        expect(Flow::Silent, K::Service, "invalid_grant", None),
    ));
    out.push(preset(
        "protection_policy_required",
        "Next refresh: unauthorized_client, suberror protection_policy_required (Intune app protection; MSAL's -50004).",
        silent.clone(),
        oauth("unauthorized_client", "AADSTS53005: The application must enforce Intune app protection policies.", &[53005], Some("protection_policy_required"), 400),
        expect(Flow::Silent, K::Service, "unauthorized_client", None),
    ));
    out.push(preset(
        "classification_none",
        "Next refresh: invalid_grant AADSTS70008 without suberror (classification None).",
        silent,
        oauth(
            "invalid_grant",
            "AADSTS70008: The refresh token has expired due to inactivity.",
            &[70008],
            None,
            400,
        ),
        expect(
            Flow::Silent,
            K::InteractionRequired,
            "invalid_grant",
            Some(C::None),
        ),
    ));
    out.push(preset(
        "prompt_never_failed",
        "Next authorize: redirect with login_required AADSTS50058 (prompt=none found no session).",
        matcher(Endpoint::Authorize, None),
        oauth(
            "login_required",
            "AADSTS50058: A silent sign-in request was sent but no user is signed in.",
            &[50058],
            None,
            400,
        ),
        expect(
            Flow::AuthorizePromptNone,
            K::InteractionRequired,
            "login_required",
            Some(C::PromptNeverFailed),
        ),
    ));
    out.push(preset(
        "user_declined_consent",
        "Next authorize: redirect with access_denied AADSTS65004 (the user declined).",
        matcher(Endpoint::Authorize, None),
        oauth(
            "access_denied",
            "AADSTS65004: The user declined to consent to access the app.",
            &[65004],
            None,
            400,
        ),
        expect(Flow::Authorize, K::Cancelled, "access_denied", None),
    ));
    out.push(preset(
        "password_reset_50142",
        "Token endpoint: invalid_request AADSTS50142 (password reset required; MSAL's -50142).",
        matcher(Endpoint::Token, None),
        oauth(
            "invalid_request",
            "AADSTS50142: The user must reset their password.",
            &[50142],
            None,
            400,
        ),
        expect(
            Flow::Token,
            K::InteractionRequired,
            "invalid_request",
            Some(C::None),
        ),
    ));
    out.extend(retry_presets());
    out.extend(device_presets());
    out.extend(transport_presets());
    for row in aadsts::AADSTS.iter().filter(|r| r.preset) {
        out.push(preset(
            &format!("aadsts_{}", row.number),
            &format!(
                "AADSTS{} {}: {}{}.",
                row.number,
                row.name,
                row.error,
                row.suberror.map(|s| format!(" ({s})")).unwrap_or_default()
            ),
            row_matcher(row),
            row_effect(row),
            row_expect(row),
        ));
    }
    out
}

fn retry_presets() -> Vec<Preset> {
    use ErrorKind as K;
    let token = || matcher(Endpoint::Token, None);
    let mut throttled = oauth(
        "temporarily_unavailable",
        "AADSTS50196: The server is throttling this client; retry later.",
        &[50196],
        None,
        429,
    );
    if let Effect::OauthError { retry_after, .. } = &mut throttled {
        *retry_after = Some(RetryAfter {
            seconds: 30,
            http_date: false,
        });
    }
    vec![
        preset(
            "throttled_429",
            "Token endpoint: HTTP 429, Retry-After: 30, temporarily_unavailable body.",
            token(),
            throttled,
            expect(Flow::Token, K::Service, "temporarily_unavailable", None),
        ),
        preset(
            "throttled_429_http_date",
            "Token endpoint: HTTP 429 with no body, Retry-After as an HTTP-date 120 s ahead.",
            token(),
            Effect::Status {
                status: 429,
                retry_after: Some(RetryAfter {
                    seconds: 120,
                    http_date: true,
                }),
                body: StatusBody::Empty,
            },
            expect(Flow::Token, K::Service, "request_throttled", None),
        ),
        preset(
            "service_unavailable_503",
            "Token endpoint: HTTP 503 HTML page, Retry-After: 5.",
            token(),
            Effect::Status {
                status: 503,
                retry_after: Some(RetryAfter {
                    seconds: 5,
                    http_date: false,
                }),
                body: StatusBody::Html,
            },
            expect(Flow::Token, K::Service, "service_not_available", None),
        ),
        preset(
            "server_error_500",
            "Token endpoint: HTTP 500 with an empty body.",
            token(),
            Effect::EmptyBody { status: 500 },
            expect(Flow::Token, K::Service, "service_not_available", None),
        ),
        preset(
            "temporarily_unavailable",
            "Token endpoint: temporarily_unavailable AADSTS90033 (retry once).",
            token(),
            oauth(
                "temporarily_unavailable",
                "AADSTS90033: A transient error occurred. Retry the request.",
                &[90033],
                None,
                400,
            ),
            expect(Flow::Token, K::Service, "temporarily_unavailable", None),
        ),
    ]
}

fn device_presets() -> Vec<Preset> {
    use ErrorKind as K;
    let poll = || matcher(Endpoint::Token, Some("device_code"));
    let one = |name: &str, error: &str, code: i64, text: &str, kind: ErrorKind| {
        preset(
            name,
            &format!("Next device-code poll: {error}."),
            poll(),
            oauth(error, &format!("AADSTS{code}: {text}"), &[code], None, 400),
            expect(Flow::DeviceCode, kind, error, None),
        )
    };
    let mut slow = one(
        "slow_down",
        "slow_down",
        70016,
        "Polling too fast; add 5 seconds to the interval.",
        K::Service,
    );
    if let Effect::OauthError {
        error_codes,
        error_description,
        ..
    } = &mut slow.rule.effect
    {
        error_codes.clear();
        *error_description = Some("Polling too fast; add 5 seconds to the interval.".into());
    }
    vec![
        one(
            "authorization_pending",
            "authorization_pending",
            70016,
            "The user has not finished signing in yet.",
            K::Service,
        ),
        slow,
        one(
            "authorization_declined",
            "authorization_declined",
            70000,
            "The user declined the sign-in request.",
            K::Cancelled,
        ),
        one(
            "expired_token",
            "expired_token",
            70019,
            "The verification code expired.",
            K::Service,
        ),
        one(
            "bad_verification_code",
            "bad_verification_code",
            70000,
            "The device code is not recognised.",
            K::Service,
        ),
    ]
}

fn transport_presets() -> Vec<Preset> {
    use ErrorKind as K;
    let token = || matcher(Endpoint::Token, None);
    let non_parsable = expect(Flow::Token, K::Service, "non_parsable_oauth_error", None);
    let non_parsable_200 = non_parsable.clone();
    vec![
        preset("dropped_connection", "Token endpoint: the connection closes before any response.", token(),
            Effect::DropConnection, expect(Flow::Token, K::Network, "network_connection_lost", None)),
        preset("reset_mid_body", "Token endpoint: headers and part of a token body, then a TCP reset.", token(),
            Effect::ResetMidBody { status: 200 }, expect(Flow::Token, K::Network, "network_connection_lost", None)),
        preset("malformed_json", "Token endpoint: HTTP 400 with JSON cut off mid-way.", token(),
            Effect::MalformedJson { status: 400 }, non_parsable.clone()),
        preset("html_error_page", "Token endpoint: HTTP 502 HTML page from a proxy.", token(),
            Effect::HtmlPage { status: 502 }, expect(Flow::Token, K::Service, "service_not_available", None)),
        preset("empty_body", "Token endpoint: HTTP 400 with an empty body.", token(),
            Effect::EmptyBody { status: 400 }, expect(Flow::Token, K::Service, "http_status_not_200", None)),
        preset("oversized_body", "Token endpoint: HTTP 200 with a 1 MiB body (over every client's cap).", token(),
            Effect::OversizedBody { bytes: 1024 * 1024, status: 200 }, non_parsable),
        preset("error_on_200", "Token endpoint: HTTP 200 carrying an invalid_grant error body.", token(),
            oauth("invalid_grant", "AADSTS70000: The provided grant is invalid or malformed.", &[70000], None, 200),
            expect(Flow::Token, K::InteractionRequired, "invalid_grant", Some(Classification::None))),
        preset("missing_access_token", "Token endpoint: HTTP 200 token response without access_token.", token(),
            Effect::MissingAccessToken, expect(Flow::Token, K::Service, "invalid_token_response", None)),
        preset("invalid_utf8", "Token endpoint: HTTP 200 token response whose bytes are not valid UTF-8.", token(),
            Effect::InvalidUtf8 { status: 200 }, non_parsable_200),
        preset("wrong_json_types", "Token endpoint: HTTP 200 with an access_token but expires_in, scope, token_type and refresh_token of the wrong JSON types.", token(),
            Effect::WrongJsonTypes, expect(Flow::Token, K::Service, "invalid_token_response", None)),
        {
            // A hung server hangs every request, the client's one retry
            // after a timeout included: armed until cleared.
            let mut p = preset("no_answer", "Token endpoint: every request is read and never answered, until the rule is cleared (the client's timeout ends each; the connection closes after 120 s).", token(),
                Effect::NoAnswer { ms: crate::faults::rules::MAX_DELAY_MS }, expect(Flow::Token, K::Network, "request_timeout", None));
            p.rule.count = None;
            p
        },
        preset("slow_response", "Token endpoint: answers normally after 1 second.", token(),
            Effect::Delay { ms: 1000 }, None),
        preset("iwa_managed_user", "User realm: the user is managed (cloud-only), so integrated Windows auth cannot be used.",
            matcher(Endpoint::UserRealm, None),
            Effect::Raw {
                status: 200,
                headers: vec![("content-type".into(), "application/json; charset=utf-8".into())],
                body: r#"{"ver":"1.0","account_type":"Managed","domain_name":"emulator.idflow.test","cloud_instance_name":"idflow.emulator"}"#.into(),
            },
            None),
    ]
}

/// The preset with this name.
pub fn find(name: &str) -> Option<Preset> {
    all().into_iter().find(|p| p.name == name)
}
