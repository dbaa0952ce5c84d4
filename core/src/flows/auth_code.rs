//! Authorization code flow with PKCE (RFC 7636, S256).
//!
//! `initiate` builds the authorize URL and an [`AuthCodeFlow`] holding the
//! request's `state`, `nonce` and PKCE verifier. The app (or the loopback
//! helper) shows the URL in a browser and hands back the redirect URL;
//! `complete` checks `state` (`state_mismatch` when it differs — the
//! redirect may be forged), classifies an `error` redirect with
//! `Flow::Authorize` (or `Flow::AuthorizePromptNone` when `prompt=none` was
//! asked), and redeems the code with the verifier; the id token's `nonce`
//! must match the request's.
//!
//! RFC 9207: a redirect's `iss` parameter, when present, must be the issuer
//! the request went to, and a provider that advertises
//! `authorization_response_iss_parameter_supported` must send it; otherwise
//! the redirect is refused like a forged `state` (`state_mismatch`: it is not
//! an answer to this request — a mix-up attack), before its code or error is
//! used.

use super::{app_scopes, Context, Engine};
use crate::error::{classify_at, Flow, HttpResponse, IdFlowError, LocalCode, Outcome};
use crate::protocol::pkce::{random_flow_secret, Pkce};
use crate::protocol::token::AuthenticationResult;
use crate::secret::{constant_time_eq, AuthorizationCode, FlowSecret, PkceVerifier};
use url::Url;

/// The `prompt` parameter of the authorize request.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Prompt {
    /// No UI at all: fails with `login_required`/`interaction_required`
    /// (classified `PromptNeverFailed`) unless a session exists.
    None,
    Login,
    Consent,
    SelectAccount,
    Create,
}

impl Prompt {
    pub fn as_str(self) -> &'static str {
        match self {
            Prompt::None => "none",
            Prompt::Login => "login",
            Prompt::Consent => "consent",
            Prompt::SelectAccount => "select_account",
            Prompt::Create => "create",
        }
    }
}

/// Optional parts of the authorize request.
#[derive(Clone, Debug, Default)]
pub struct AuthCodeOptions {
    pub prompt: Option<Prompt>,
    /// Pre-fills the username on the sign-in page.
    pub login_hint: Option<String>,
    /// Skips home-realm discovery (`organizations`, `consumers` or a domain).
    pub domain_hint: Option<String>,
    /// A claims request (JSON object), e.g. from a claims challenge.
    pub claims: Option<String>,
    /// Further query parameters (e.g. `acr_values`, `ui_locales`). They cannot
    /// replace a parameter the flow sets itself.
    pub extra_query_parameters: Vec<(String, String)>,
    /// The `state` to send instead of a random one (a web app that encodes
    /// where to return after sign-in). It must be unguessable: it is what
    /// ties the redirect to this request.
    pub state: Option<String>,
    /// How the provider returns the answer; `query` when not given.
    pub response_mode: Option<ResponseMode>,
    /// OIDC `max_age` (seconds): the provider re-authenticates a user whose
    /// last sign-in is older, and the id token's `auth_time` is checked.
    pub max_age: Option<u64>,
    /// Scopes of other resources to consent to now; asked for in the
    /// authorize request only (the code is redeemed for the flow's scopes).
    pub extra_scopes_to_consent: Vec<String>,
}

/// The OAuth `response_mode` of the authorize request.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ResponseMode {
    /// The answer in the redirect's query string (HTTP GET).
    Query,
    /// The answer in the redirect's fragment (read by script in the page).
    Fragment,
    /// The answer as an HTML form POSTed to the redirect URI (recommended
    /// for web apps: no code in the URL, logs or `Referer`).
    FormPost,
}

impl ResponseMode {
    pub fn as_str(self) -> &'static str {
        match self {
            ResponseMode::Query => "query",
            ResponseMode::Fragment => "fragment",
            ResponseMode::FormPost => "form_post",
        }
    }

    /// `query`, `fragment` or `form_post`; `None` for anything else.
    pub fn parse(s: &str) -> Option<ResponseMode> {
        [
            ResponseMode::Query,
            ResponseMode::Fragment,
            ResponseMode::FormPost,
        ]
        .into_iter()
        .find(|m| m.as_str() == s)
    }
}

/// A started authorization: send the user to `auth_uri`, then call
/// `complete` with the redirect. Holds secrets (`state`, `nonce`, verifier);
/// `Debug` shows none of them.
#[derive(Clone)]
pub struct AuthCodeFlow {
    pub auth_uri: Url,
    pub redirect_uri: String,
    /// The scopes as the app asked for them.
    pub scopes: Vec<String>,
    /// Sent as `client-request-id` (Microsoft) and attached to redirect errors.
    pub correlation_id: String,
    pub(crate) state: FlowSecret,
    pub(crate) nonce: FlowSecret,
    pub(crate) pkce: Pkce,
    pub(crate) prompt_none: bool,
    /// The app's claims request, as given (merged with the app's client
    /// capabilities when sent).
    pub(crate) claims_challenge: Option<String>,
    /// OIDC `max_age`: the id token's `auth_time` is checked against it.
    pub(crate) max_age: Option<u64>,
    /// The issuer the request went to (RFC 9207's expected `iss`) and
    /// whether the provider promised to send `iss` (RFC 9207 §3); `None`
    /// for a flow restored from its JSON form, where the app's own
    /// discovery answers at redemption.
    pub(crate) issuer: Option<(String, bool)>,
}

impl std::fmt::Debug for AuthCodeFlow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuthCodeFlow")
            .field("redirect_uri", &self.redirect_uri)
            .field("scopes", &self.scopes)
            .field("correlation_id", &self.correlation_id)
            .field("state", &self.state)
            .field("nonce", &self.nonce)
            .field("code_verifier", &self.pkce.verifier)
            .finish()
    }
}

impl AuthCodeFlow {
    pub fn state(&self) -> &FlowSecret {
        &self.state
    }

    pub fn nonce(&self) -> &FlowSecret {
        &self.nonce
    }

    pub fn code_verifier(&self) -> &PkceVerifier {
        &self.pkce.verifier
    }

    /// The S256 challenge sent in `auth_uri`.
    pub fn code_challenge(&self) -> &str {
        &self.pkce.challenge
    }
}

/// Builds the authorize URL for `scopes` and `redirect_uri`.
pub(crate) async fn initiate<S: AsRef<str>>(
    engine: &Engine,
    scopes: &[S],
    redirect_uri: &str,
    options: &AuthCodeOptions,
) -> Result<AuthCodeFlow, IdFlowError> {
    let scopes = app_scopes(scopes)?;
    let claims = engine.claims_param(options.claims.as_deref())?;
    if Url::parse(redirect_uri).is_err() {
        return Err(IdFlowError::local(
            LocalCode::InvalidParameter,
            "the redirect URI is not an absolute URL",
        ));
    }
    let state = match &options.state {
        Some(s) if s.is_empty() => {
            return Err(IdFlowError::local(
                LocalCode::InvalidParameter,
                "state must not be empty",
            ))
        }
        Some(s) => FlowSecret::new(s.clone()),
        None => random_flow_secret()?,
    };
    let resolved = engine.resolve().await?;
    let mut flow = AuthCodeFlow {
        auth_uri: resolved.endpoints.authorization.clone(),
        redirect_uri: redirect_uri.to_owned(),
        scopes,
        correlation_id: crate::net::http::new_correlation_id(),
        state,
        nonce: random_flow_secret()?,
        pkce: Pkce::generate()?,
        prompt_none: options.prompt == Some(Prompt::None),
        claims_challenge: options.claims.clone(),
        max_age: options.max_age,
        issuer: Some((resolved.issuer.clone(), resolved.iss_parameter_supported)),
    };
    let mut params = authorize_params(engine, &flow.scopes, redirect_uri, options, claims);
    params.extend([
        ("state", flow.state.expose().to_owned()),
        ("nonce", flow.nonce.expose().to_owned()),
        ("code_challenge", flow.pkce.challenge.clone()),
        ("code_challenge_method", "S256".into()),
    ]);
    if engine.authority.is_microsoft() {
        params.push(("client-request-id", flow.correlation_id.clone()));
    }
    append_query(&mut flow.auth_uri, &params, &options.extra_query_parameters);
    tracing::debug!(
        target: "idflow::auth_code",
        pii = crate::logging::pii_logging_enabled(),
        auth_uri = %crate::logging::url_for_log(&flow.auth_uri),
        correlation_id = %flow.correlation_id,
        prompt = ?options.prompt.map(Prompt::as_str),
        "authorization request prepared"
    );
    Ok(flow)
}

/// The authorize parameters every request shares (not `state`, `nonce` nor
/// PKCE): client, redirect, the decorated scopes with any
/// `extra_scopes_to_consent`, `response_mode` (`query` by default), and the
/// optional `prompt`, hints, `max_age` and merged `claims`.
pub(crate) fn authorize_params(
    engine: &Engine,
    scopes: &[String],
    redirect_uri: &str,
    options: &AuthCodeOptions,
    claims: Option<String>,
) -> Vec<(&'static str, String)> {
    let mut scope = engine.decorate(scopes);
    for extra in &options.extra_scopes_to_consent {
        if !scope.split(' ').any(|s| s == extra) {
            scope.push(' ');
            scope.push_str(extra);
        }
    }
    let mode = options.response_mode.unwrap_or(ResponseMode::Query);
    let mut params: Vec<(&str, String)> = vec![
        ("client_id", engine.client_id.clone()),
        ("response_type", "code".into()),
        ("redirect_uri", redirect_uri.to_owned()),
        ("scope", scope),
        ("response_mode", mode.as_str().into()),
    ];
    if engine.authority.is_microsoft() {
        params.push(("client_info", "1".into()));
    }
    let optional = [
        ("prompt", options.prompt.map(|p| p.as_str().to_owned())),
        ("login_hint", options.login_hint.clone()),
        ("domain_hint", options.domain_hint.clone()),
        ("max_age", options.max_age.map(|a| a.to_string())),
        ("claims", claims),
    ];
    params.extend(optional.into_iter().filter_map(|(k, v)| Some((k, v?))));
    params
}

/// Appends `params`, then the app's extra parameters that do not replace one.
pub(crate) fn append_query(url: &mut Url, params: &[(&str, String)], extra: &[(String, String)]) {
    let mut query = url.query_pairs_mut();
    for (k, v) in params {
        query.append_pair(k, v);
    }
    for (k, v) in extra {
        if !params.iter().any(|(p, _)| p == k) {
            query.append_pair(k, v);
        }
    }
}

/// Validates the redirect (a full URL, or its query or fragment) and redeems
/// the code.
pub(crate) async fn complete(
    engine: &Engine,
    flow: &AuthCodeFlow,
    redirect: &str,
) -> Result<AuthenticationResult, IdFlowError> {
    // A forged or foreign redirect is refused before any request.
    let params = redirect_params(redirect);
    check_state(
        flow,
        params
            .iter()
            .find(|(k, _)| k == "state")
            .map(|(_, v)| v.as_str()),
    )?;
    let resolved = engine.resolve().await?;
    let (issuer, iss_required) = match &flow.issuer {
        Some((issuer, required)) => (issuer.as_str(), *required),
        None => (resolved.issuer.as_str(), resolved.iss_parameter_supported),
    };
    let code = validate_redirect_for(
        flow,
        redirect,
        engine.sender.clock.now(),
        issuer,
        iss_required,
    )?;
    engine
        .redeemed_states
        .consume(&flow.state, &flow.correlation_id)?;
    let claims = engine.claims_param(flow.claims_challenge.as_deref())?;
    let mut form = engine.base_form("authorization_code", true);
    form.push(("code".into(), code.expose().to_owned()));
    form.push(("redirect_uri".into(), flow.redirect_uri.clone()));
    form.push((
        "code_verifier".into(),
        flow.pkce.verifier.expose().to_owned(),
    ));
    form.push(("scope".into(), engine.decorate(&flow.scopes)));
    if let Some(c) = claims {
        form.push(("claims".into(), c));
    }
    let ctx = Context {
        requested: &flow.scopes,
        nonce: Some(flow.nonce.expose()),
        ..Context::default()
    };
    let result = engine.redeem(&resolved, form, Flow::Token, ctx).await?;
    super::redemption::check_max_age(flow.max_age, &result, engine.sender.clock.now())?;
    Ok(result)
}

/// The code from a redirect, after the `state` check; an `error` redirect
/// (or one with neither code nor error) is classified as the authorize flow.
#[cfg(test)]
pub fn validate_redirect(
    flow: &AuthCodeFlow,
    redirect: &str,
    now: std::time::SystemTime,
) -> Result<AuthorizationCode, IdFlowError> {
    let (issuer, required) = flow
        .issuer
        .as_ref()
        .map_or(("", false), |(i, r)| (i.as_str(), *r));
    validate_redirect_for(flow, redirect, now, issuer, required)
}

fn validate_redirect_for(
    flow: &AuthCodeFlow,
    redirect: &str,
    now: std::time::SystemTime,
    issuer: &str,
    iss_required: bool,
) -> Result<AuthorizationCode, IdFlowError> {
    let params = redirect_params(redirect);
    let value = |k: &str| params.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
    check_state(flow, value("state"))?;
    check_iss(flow, value("iss"), issuer, iss_required)?;
    let auth_flow = if flow.prompt_none {
        Flow::AuthorizePromptNone
    } else {
        Flow::Authorize
    };
    // The state has done its job; keep it out of the error's body.
    let body = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(params.iter().filter(|(k, _)| k != "state"))
        .finish();
    let classified = classify_at(&HttpResponse::new(302, Vec::new(), body), auth_flow, now);
    // Only the parameter names: the code is a credential.
    tracing::debug!(
        target: "idflow::auth_code",
        params = ?params.iter().map(|(k, _)| k.as_str()).collect::<Vec<_>>(),
        correlation_id = %flow.correlation_id,
        "redirect received"
    );
    crate::logging::classified(&classified, auth_flow, &flow.correlation_id);
    match (classified.outcome, value("code")) {
        (Outcome::Success, Some(code)) if !code.is_empty() => Ok(AuthorizationCode::new(code)),
        _ => {
            let mut e = classified.error.unwrap_or_else(|| {
                IdFlowError::local(LocalCode::InvalidTokenResponse, "the redirect has no code")
            });
            if value("error").is_none() {
                e.message = "the redirect carries neither a code nor an error".to_owned();
            }
            Err(e
                .with_flow(auth_flow)
                .with_correlation_id(flow.correlation_id.clone()))
        }
    }
}

/// The redirect's `state` must be the flow's (compared in constant time).
fn check_state(flow: &AuthCodeFlow, got: Option<&str>) -> Result<(), IdFlowError> {
    match got {
        Some(s) if constant_time_eq(s, flow.state.expose()) => {}
        got => {
            let what = if got.is_some() {
                "differs from"
            } else {
                "is missing, unlike"
            };
            tracing::warn!(
                target: "idflow::auth_code",
                correlation_id = %flow.correlation_id,
                "the redirect's state {what} the request's; refusing it"
            );
            return Err(IdFlowError::local(
                LocalCode::StateMismatch,
                format!("the redirect's state {what} the request's"),
            )
            .with_correlation_id(flow.correlation_id.clone()));
        }
    }
    Ok(())
}

/// RFC 9207 §2.4: `iss`, when present, is compared with the issuer by simple
/// string comparison (Entra's `{tenantid}` template stands for one tenant
/// segment); it must be present when the provider advertised it.
fn check_iss(
    flow: &AuthCodeFlow,
    iss: Option<&str>,
    issuer: &str,
    iss_required: bool,
) -> Result<(), IdFlowError> {
    let why = match iss {
        None if iss_required => "has no iss, although the provider sends one with every response",
        None => return Ok(()),
        Some(got) if issuer_matches(issuer, got) => return Ok(()),
        Some(_) => "names another issuer than the one the request went to",
    };
    tracing::warn!(
        target: "idflow::auth_code",
        correlation_id = %flow.correlation_id,
        "the redirect {why} (RFC 9207); refusing it"
    );
    Err(IdFlowError::local(
        LocalCode::StateMismatch,
        format!(
            "the redirect {why} (RFC 9207 iss check): it may come from another provider \
             (a mix-up attack), so it is not an answer to this request"
        ),
    )
    .with_correlation_id(flow.correlation_id.clone()))
}

fn issuer_matches(expected: &str, got: &str) -> bool {
    match expected.split_once("{tenantid}") {
        None => expected == got,
        Some((before, after)) => got
            .strip_prefix(before)
            .and_then(|rest| rest.strip_suffix(after))
            .is_some_and(|tenant| !tenant.is_empty() && !tenant.contains(['/', '?', '#'])),
    }
}

/// The parameters of a redirect URL (query, else fragment) or of a bare
/// query string.
fn redirect_params(redirect: &str) -> Vec<(String, String)> {
    let redirect = redirect.trim();
    let raw = match Url::parse(redirect) {
        Ok(url) if redirect.contains("://") || url.query().is_some() => url
            .query()
            .or(url.fragment())
            .unwrap_or_default()
            .to_owned(),
        _ => redirect.trim_start_matches(['?', '#']).to_owned(),
    };
    url::form_urlencoded::parse(raw.as_bytes())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

#[cfg(test)]
mod tests;
