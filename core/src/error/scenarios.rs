//! The seed's scenarios — every row of its tables and every classification —
//! as inputs to the classifier. `idflow demo` walks through them; they are
//! also a catalogue of realistic response shapes.

use super::explain;
use crate::classify_at;
use crate::error::{
    aadsts, Classification, Flow, HttpResponse, IdFlowError, LocalCode, NetworkKind,
};
use serde_json::json;
use std::time::SystemTime;

/// One scenario.
#[derive(Clone, Debug)]
pub struct Scenario {
    pub title: String,
    pub input: ScenarioInput,
}

#[derive(Clone, Debug)]
pub enum ScenarioInput {
    Response { response: HttpResponse, flow: Flow },
    Local(LocalCode),
    Network(NetworkKind),
}

impl Scenario {
    /// The decision for this scenario (`None` when the response is a success).
    pub fn decide(&self) -> Option<IdFlowError> {
        match &self.input {
            ScenarioInput::Response { response, flow } => {
                classify_at(response, *flow, SystemTime::UNIX_EPOCH).error
            }
            ScenarioInput::Local(code) => Some(IdFlowError::local(*code, scenario_message(*code))),
            ScenarioInput::Network(kind) => Some(IdFlowError::network(
                *kind,
                "the request did not get an answer",
            )),
        }
    }
}

fn scenario_message(code: LocalCode) -> &'static str {
    match code {
        LocalCode::UnknownUser => "Could not identify the logged-in user",
        LocalCode::IntegratedWindowsAuthNotSupportedManagedUser => {
            "Integrated Windows auth is not supported for managed users"
        }
        LocalCode::NoAccount => "Silent acquisition needs an account",
        LocalCode::NoTokensFound => "No token in the cache can be used or refreshed",
        _ => "local failure",
    }
}

fn json_response(status: u16, headers: &[(&str, &str)], body: serde_json::Value) -> HttpResponse {
    let mut h: Vec<(String, String)> = vec![(
        "content-type".into(),
        "application/json; charset=utf-8".into(),
    )];
    h.extend(headers.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    HttpResponse::new(status, h, body.to_string().into_bytes())
}

fn response(title: &str, flow: Flow, response: HttpResponse) -> Scenario {
    Scenario {
        title: title.to_owned(),
        input: ScenarioInput::Response { response, flow },
    }
}

fn suberror_case(sub: &str) -> HttpResponse {
    json_response(
        400,
        &[],
        json!({
            "error": "invalid_grant",
            "error_description": format!("Interaction is needed ({sub})."),
            "suberror": sub,
            "correlation_id": "8f3b0e6c-0000-4000-8000-000000000001",
        }),
    )
}

/// Every scenario, in the order the demo shows them.
pub fn all() -> Vec<Scenario> {
    let mut out = Vec::new();
    // The seed's .NET table rows (AADSTS ones through the AADSTS table).
    for n in [65001, 50079, 90010, 70002, 53000] {
        if let Some(row) = aadsts::lookup(n) {
            let (resp, flow) = explain::sample_response(row);
            out.push(response(&format!("AADSTS{n} ({})", row.name), flow, resp));
        }
    }
    for code in [
        LocalCode::UnknownUser,
        LocalCode::IntegratedWindowsAuthNotSupportedManagedUser,
    ] {
        out.push(Scenario {
            title: code.as_str().to_owned(),
            input: ScenarioInput::Local(code),
        });
    }
    // The classification table: one scenario per value.
    for (c, sub) in [
        (Classification::BasicAction, "basic_action"),
        (Classification::AdditionalAction, "additional_action"),
        (Classification::MessageOnly, "message_only"),
        (Classification::ConsentRequired, "consent_required"),
        (Classification::UserPasswordExpired, "user_password_expired"),
    ] {
        out.push(response(
            &format!("classification {}", c.as_str()),
            Flow::Silent,
            suberror_case(sub),
        ));
    }
    out.push(response(
        "classification PromptNeverFailed",
        Flow::AuthorizePromptNone,
        HttpResponse::new(
            302,
            vec![],
            b"error=login_required&error_description=AADSTS50058%3A+no+session".to_vec(),
        ),
    ));
    out.push(Scenario {
        title: "classification AcquireTokenSilentFailed".into(),
        input: ScenarioInput::Local(LocalCode::NoTokensFound),
    });
    out.push(response(
        "classification None (refresh token revoked)",
        Flow::Silent,
        json_response(400, &[], json!({"error": "invalid_grant", "error_description": "AADSTS70008: The refresh token has expired.", "error_codes": [70008]})),
    ));
    // Retrying: 429 and 5xx, Retry-After in both forms.
    out.push(response(
        "HTTP 429 with Retry-After: 30",
        Flow::Token,
        json_response(429, &[("Retry-After", "30")], json!({"error": "temporarily_unavailable", "error_description": "Too many requests; retry later."})),
    ));
    out.push(response(
        "HTTP 503 with a Retry-After date",
        Flow::Token,
        HttpResponse::new(
            503,
            vec![
                ("Date".into(), "Wed, 25 Nov 2026 10:00:00 GMT".into()),
                ("Retry-After".into(), "Wed, 25 Nov 2026 10:02:00 GMT".into()),
                ("Content-Type".into(), "text/html".into()),
            ],
            b"<html><body>Service Unavailable</body></html>".to_vec(),
        ),
    ));
    out.push(response(
        "HTTP 500 with no body",
        Flow::Token,
        HttpResponse::new(500, vec![], Vec::new()),
    ));
    // iOS/macOS specifics.
    out.push(response(
        "password reset required (-50142)",
        Flow::Token,
        json_response(400, &[], json!({"error": "invalid_request", "error_description": "AADSTS50142: password reset required", "error_codes": [50142]})),
    ));
    out.push(response(
        "protection policy required (-50004)",
        Flow::Token,
        json_response(400, &[], json!({"error": "unauthorized_client", "suberror": "protection_policy_required", "error_description": "AADSTS53005: app protection policy required"})),
    ));
    out.push(response(
        "user declined on the authorize page",
        Flow::Authorize,
        HttpResponse::new(
            302,
            vec![],
            b"error=access_denied&error_description=AADSTS65004%3A+User+declined+to+consent"
                .to_vec(),
        ),
    ));
    // Device code polling.
    out.push(response(
        "device code: authorization_pending",
        Flow::DeviceCode,
        json_response(
            400,
            &[],
            json!({"error": "authorization_pending", "error_codes": [70016]}),
        ),
    ));
    out.push(response(
        "device code: slow_down",
        Flow::DeviceCode,
        json_response(400, &[], json!({"error": "slow_down"})),
    ));
    out.push(response(
        "device code: expired_token",
        Flow::DeviceCode,
        json_response(
            400,
            &[],
            json!({"error": "expired_token", "error_codes": [70019]}),
        ),
    ));
    // Offline, as the seed's iOS example handles it.
    out.push(Scenario {
        title: "no internet connection".into(),
        input: ScenarioInput::Network(NetworkKind::NotConnected),
    });
    out.push(Scenario {
        title: "request timed out".into(),
        input: ScenarioInput::Network(NetworkKind::Timeout),
    });
    out
}
