//! The flows' shared engine: authority resolution, the token request, client
//! authentication, and turning a token answer into an
//! [`AuthenticationResult`].
//!
//! Every grant goes through `Engine::post_token` (one classified exchange)
//! and `Engine::finish` (parse, validate the id token, build the account),
//! so every grant fails the same way for the same answer.

pub(crate) mod assertion_source;
pub(crate) mod auth_code;
pub(crate) mod cancel;
pub(crate) mod device_code;
mod distributed;
mod grants;
pub(crate) mod loopback;
mod on_behalf_of;
mod redemption;
mod regional;
pub(crate) use regional::Regional;
pub(crate) mod silent;
mod single_flight;
mod tenant;
pub(crate) mod web_flow;

use crate::cache::TokenCache;
use crate::error::{Classified, Flow, IdFlowError, LocalCode, Outcome};
use crate::net::http::HttpRequest;
use crate::net::retry::Attempt;
use crate::net::sender::{Exchange, Sender};
use crate::net::throttle::{Throttle, ThrottleKey};
use crate::protocol::assertion::ClientCertificate;
use crate::protocol::authority::Authority;
use crate::protocol::discovery::{Discovery, ResolvedAuthority};
use crate::protocol::id_token;
use crate::protocol::token::{
    lifetime_end, Account, AuthenticationResult, ClientInfo, TokenResponse, TokenSource,
    DEFAULT_EXPIRES_IN,
};
use crate::secret::{ClientAssertion, ClientSecret, RefreshToken};
use base64::Engine as _;
use std::sync::{Arc, OnceLock};

/// Scopes the library adds to every user sign-in; apps may not pass them.
pub const RESERVED_SCOPES: [&str; 3] = ["openid", "profile", "offline_access"];

/// How a confidential client proves its identity at the token endpoint.
#[derive(Clone, Debug)]
pub enum ClientCredential {
    /// A secret sent in the form body (`client_secret_post`; what the
    /// Microsoft identity platform expects).
    Secret(ClientSecret),
    /// A secret sent as HTTP Basic authentication (`client_secret_basic`),
    /// for OpenID providers that register clients that way.
    SecretBasic(ClientSecret),
    /// A certificate: a fresh signed assertion per request.
    Certificate(ClientCertificate),
    /// A pre-signed assertion (e.g. a federated workload identity token).
    Assertion(ClientAssertion),
    /// An assertion asked for before each request: the app's callback, or a
    /// [`assertion_source::FederatedTokenFile`] the platform rotates.
    Provider(Arc<dyn assertion_source::ClientAssertionProvider>),
}

/// One app's configuration and services, shared by its clones.
pub(crate) struct Engine {
    pub client_id: String,
    pub authority: Authority,
    pub sender: Sender,
    pub discovery: Discovery,
    pub validate_authority: bool,
    pub credential: Option<ClientCredential>,
    /// The client-side throttle of this app's token requests.
    pub throttle: Throttle,
    /// Announced in every request's `claims` (see [`crate::protocol::claims`]).
    pub client_capabilities: Vec<String>,
    /// Every successful answer is saved here; silent calls read it.
    pub cache: TokenCache,
    /// The cache's `environment` (the authority's host name).
    pub environment: String,
    /// The cache's `realm` before discovery: the authority's tenant segment.
    pub authority_realm: String,
    /// The realm discovery established (the token endpoint's tenant).
    pub realm: OnceLock<String>,
    /// Concurrent silent / client-credentials misses sharing one request.
    pub flights: single_flight::SingleFlight<silent::FlightKey, silent::FlightResult>,
    /// The auth code flow states this app has redeemed (replay protection).
    pub redeemed_states: redemption::RedeemedStates,
    /// Where client credentials go: a regional endpoint or the global one.
    pub region: regional::Regional,
    /// `x-app-name` / `x-app-ver`, sent with every token and device code
    /// request as msal sends its `app_name` / `app_version`
    /// (msal/application.py `_build_client`: the client's default headers).
    pub app_headers: Vec<(String, String)>,
    /// Reserved scopes the app does not want added (msal's `exclude_scopes`,
    /// e.g. `offline_access`: no refresh token).
    pub exclude_scopes: Vec<String>,
    /// The per-call tenant views of this app (see [`tenant`]).
    pub tenants: tenant::TenantViews,
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The cache holds tokens: only its size is shown.
        f.debug_struct("Engine")
            .field("client_id", &self.client_id)
            .field("authority", &self.authority)
            .field("sender", &self.sender)
            .field("validate_authority", &self.validate_authority)
            .field("credential", &self.credential)
            .field("cache", &self.cache.counts())
            .finish_non_exhaustive()
    }
}

impl Engine {
    pub fn new(
        client_id: String,
        authority: Authority,
        sender: Sender,
        validate_authority: bool,
        credential: Option<ClientCredential>,
        cache: TokenCache,
        client_capabilities: Vec<String>,
    ) -> Engine {
        Engine {
            environment: silent::environment_of(&authority),
            authority_realm: silent::authority_realm(&authority),
            client_id,
            authority,
            sender,
            discovery: Discovery::new(),
            validate_authority,
            credential,
            cache,
            realm: OnceLock::new(),
            flights: Default::default(),
            redeemed_states: Default::default(),
            throttle: Throttle::new(),
            client_capabilities,
            region: Default::default(),
            app_headers: Vec::new(),
            exclude_scopes: Vec::new(),
            tenants: Default::default(),
        }
    }
}

/// What a token answer is checked against, and what it inherits.
#[derive(Debug, Default)]
pub(crate) struct Context<'a> {
    /// The scopes as the app asked for them (undecorated).
    pub requested: &'a [String],
    /// The nonce of an authorize request (auth code flow).
    pub nonce: Option<&'a str>,
    /// The ROPC username, used when the id token names none.
    pub username: Option<&'a str>,
    /// A refresh token to keep when the answer brings no new one.
    pub previous_refresh_token: Option<&'a RefreshToken>,
    /// The grant sent (the cache's `account_source` for the grants that
    /// sign a user in).
    pub grant_type: Option<&'a str>,
    /// The account the request was made for (a silent refresh): the
    /// answer's tokens belong to it when the answer names no account itself
    /// (no `client_info`, no id token), as msal keeps a redeemed refresh
    /// token's successor under the old one's key
    /// (AzureAD/microsoft-authentication-library-for-python
    /// `msal/oauth2cli/oauth2.py` `obtain_token_by_refresh_token` calls
    /// `on_updating_rt`, which `msal/application.py` sets to
    /// `msal/token_cache.py` `update_rt`).
    pub account: Option<&'a Account>,
}

impl Engine {
    pub async fn resolve(&self) -> Result<Arc<ResolvedAuthority>, IdFlowError> {
        let resolved = self
            .discovery
            .resolve(&self.sender, &self.authority, self.validate_authority)
            .await?;
        if self.realm.get().is_none() {
            let _ = self.realm.set(silent::realm_of(&resolved));
        }
        Ok(resolved)
    }

    /// The common form fields: `client_id`, and for Microsoft user flows
    /// `client_info=1` (so the answer names the home account).
    pub fn base_form(&self, grant_type: &str, user_flow: bool) -> Vec<(String, String)> {
        // Room for what the grants add (scope, the credential, claims…).
        let mut form = Vec::with_capacity(8);
        form.push(("grant_type".to_owned(), grant_type.to_owned()));
        form.push(("client_id".to_owned(), self.client_id.clone()));
        if user_flow && self.authority.is_microsoft() {
            form.push(("client_info".to_owned(), "1".to_owned()));
        }
        form
    }

    /// The `claims` parameter for a request: the app's claims request
    /// (checked: a JSON object) merged with the app's client capabilities.
    pub fn claims_param(&self, claims: Option<&str>) -> Result<Option<String>, IdFlowError> {
        crate::protocol::claims::merge_claims(claims, &self.client_capabilities)
    }

    /// POSTs to the token endpoint with the client's credential attached and
    /// classifies the answer for `flow`.
    ///
    /// The client-side throttle ([`crate::net::throttle`]) is applied here, the
    /// one place every grant passes: a blocked request fails at once with
    /// the throttled error, a throttling failure is recorded, and a
    /// successful interactive sign-in (authorization code, device code)
    /// lifts the blocks on its client and scopes.
    pub async fn post_token(
        &self,
        resolved: &ResolvedAuthority,
        form: Vec<(String, String)>,
        flow: Flow,
    ) -> Result<(Classified, Exchange), IdFlowError> {
        let grant = form
            .iter()
            .find(|(k, _)| k == "grant_type")
            .map_or("", |(_, v)| v.as_str());
        let device_poll = grant == device_code::DEVICE_CODE_GRANT || grant == "device_code";
        // A device-code poll carries no scope: its flow lifts the blocks
        // itself (`lift_throttle`) once the sign-in succeeded.
        let interactive = grant == "authorization_code";
        let key = ThrottleKey::for_token_request(resolved.endpoints.token.as_str(), &form);
        if !device_poll {
            if let Some(e) = self.throttle.check(&key, flow, self.sender.clock.now()) {
                tracing::warn!(
                    target: "idflow::throttle",
                    ?flow,
                    code = %e.code,
                    retry_after_secs = ?e.retry_after.map(|d| d.as_secs()),
                    "request not sent: blocked by the client-side throttle"
                );
                return Err(e.with_flow(flow));
            }
        }
        let (classified, exchange) = self.post_token_unthrottled(resolved, form, flow).await?;
        match (&classified.error, classified.outcome) {
            (Some(e), Outcome::Error) if !device_poll => {
                let e = e
                    .clone()
                    .with_correlation_id(exchange.correlation_id.clone());
                let public = self.credential.is_none();
                self.throttle
                    .record(key, &e, flow, public, exchange.received_at);
            }
            (None, Outcome::Success) if interactive => self.throttle.clear(&key),
            _ => {}
        }
        Ok((classified, exchange))
    }

    /// Lifts the throttle's blocks on this client and `scope` (a
    /// successful interactive sign-in did what the service asked for).
    pub(crate) fn lift_throttle(&self, resolved: &ResolvedAuthority, scope: &str) {
        let form = [
            ("client_id".to_owned(), self.client_id.clone()),
            ("scope".to_owned(), scope.to_owned()),
        ];
        self.throttle.clear(&ThrottleKey::for_token_request(
            resolved.endpoints.token.as_str(),
            &form,
        ));
    }

    async fn post_token_unthrottled(
        &self,
        resolved: &ResolvedAuthority,
        mut form: Vec<(String, String)>,
        flow: Flow,
    ) -> Result<(Classified, Exchange), IdFlowError> {
        let attempt = if flow == Flow::DeviceCode {
            Attempt::DevicePoll
        } else {
            Attempt::Ordinary
        };
        // A certificate assertion's audience stays the global token endpoint
        // when the request goes to a region (msal/application.py
        // `_build_client` signs one assertion for both clients).
        let audience = resolved.endpoints.token.clone();
        let token_url = if form
            .iter()
            .any(|(k, v)| k == "grant_type" && v == grants::CLIENT_CREDENTIALS_GRANT)
            && self.credential.is_some()
        {
            self.client_credentials_endpoint(&audience).await
        } else {
            audience.clone()
        };
        let mut basic = None;
        match &self.credential {
            None => {}
            Some(ClientCredential::Secret(s)) => {
                form.push(("client_secret".into(), s.expose().to_owned()));
            }
            Some(ClientCredential::SecretBasic(s)) => basic = Some(basic_auth(&self.client_id, s)),
            Some(ClientCredential::Certificate(cert)) => {
                let now = self.sender.clock.now();
                let assertion = cert.assertion(&self.client_id, audience.as_str(), now)?;
                push_assertion(&mut form, &assertion);
            }
            Some(ClientCredential::Assertion(a)) => push_assertion(&mut form, a),
            Some(ClientCredential::Provider(source)) => {
                let assertion = source.client_assertion(assertion_source::AssertionRequest {
                    client_id: &self.client_id,
                    token_endpoint: audience.as_str(),
                })?;
                push_assertion(&mut form, &assertion);
            }
        }
        let mut request = HttpRequest::post_form(token_url, form);
        if let Some(value) = basic {
            request = request.with_header("authorization", value);
        }
        let request = self.with_app_headers(request);
        tracing::debug!(
            target: "idflow::flow",
            ?flow,
            grant_type = request.form_value("grant_type").unwrap_or(""),
            client_auth = credential_kind(self.credential.as_ref()),
            "token request"
        );
        let exchange = self.sender.exchange_as(request, attempt).await?;
        let classified = crate::error::classify_at(&exchange.response, flow, exchange.received_at);
        crate::logging::classified(&classified, flow, &exchange.correlation_id);
        Ok((classified, exchange))
    }

    /// Sends one grant and returns its result or its classified failure.
    pub async fn redeem(
        &self,
        resolved: &ResolvedAuthority,
        form: Vec<(String, String)>,
        flow: Flow,
        ctx: Context<'_>,
    ) -> Result<AuthenticationResult, IdFlowError> {
        let grant = form
            .iter()
            .find(|(k, _)| k == "grant_type")
            .map(|(_, v)| v.clone());
        let (classified, exchange) = self.post_token(resolved, form, flow).await?;
        let ctx = Context {
            grant_type: ctx.grant_type.or(grant.as_deref()),
            ..ctx
        };
        self.finish(resolved, classified, &exchange, flow, ctx)
            .await
    }

    /// Turns a classified token answer into a result: parse, validate the id
    /// token, build the account. Failures carry the exchange's correlation id.
    pub async fn finish(
        &self,
        resolved: &ResolvedAuthority,
        classified: Classified,
        exchange: &Exchange,
        flow: Flow,
        ctx: Context<'_>,
    ) -> Result<AuthenticationResult, IdFlowError> {
        let map = match (classified.result, classified.error) {
            (Some(map), None) => map,
            (_, Some(e)) => return Err(e.with_correlation_id(exchange.correlation_id.clone())),
            (None, None) => return Err(exchange.failure(flow)),
        };
        let token = TokenResponse::from_map(map).map_err(|why| {
            let e = exchange
                .local(
                    LocalCode::InvalidTokenResponse,
                    format!("token response: {why}"),
                )
                .with_flow(flow);
            crate::logging::failure(&e, "unusable token response");
            e
        })?;
        let claims = match &token.id_token {
            Some(raw) => Some(
                id_token::validate(
                    &self.discovery,
                    &self.sender,
                    resolved,
                    raw.expose(),
                    &self.client_id,
                    ctx.nonce,
                )
                .await
                .map_err(|e| {
                    let e = e
                        .with_flow(flow)
                        .with_correlation_id(exchange.correlation_id());
                    crate::logging::failure(&e, "id token rejected");
                    e
                })?,
            ),
            None if ctx.nonce.is_some() && !resolved.authority.is_microsoft() => {
                // An OpenID provider must return an id token for an `openid`
                // authorize request; without it the nonce cannot be checked.
                return Err(exchange
                    .local(
                        LocalCode::NonceMismatch,
                        "the token response has no id token",
                    )
                    .with_flow(flow));
            }
            None => None,
        };
        let received = exchange.received_at;
        // Lifetimes from the network are capped (never an overflow panic).
        let at = |secs: Option<u64>| secs.map(|s| lifetime_end(received, s));
        let account = self
            .account(resolved, &token, claims.as_ref(), ctx.username)
            .or_else(|| ctx.account.cloned());
        let pii = crate::logging::pii_logging_enabled();
        tracing::info!(
            target: "idflow::flow",
            pii,
            ?flow,
            correlation_id = %exchange.correlation_id(),
            expires_in = ?token.expires_in,
            scopes = ?token.scope,
            refresh_token = token.refresh_token.is_some(),
            id_token = token.id_token.is_some(),
            username = %crate::logging::Pii(account.as_ref().map_or("", |a| a.username.as_str())),
            home_account_id = %crate::logging::Pii(
                account.as_ref().map_or("", |a| a.home_account_id.as_str())
            ),
            tenant = %crate::logging::Pii(account.as_ref().map_or("", |a| a.realm.as_str())),
            "token acquired"
        );
        let result = AuthenticationResult {
            expires_on: at(token.expires_in)
                .unwrap_or_else(|| lifetime_end(received, DEFAULT_EXPIRES_IN.as_secs())),
            ext_expires_on: at(token.ext_expires_in),
            refresh_on: at(token.refresh_in),
            scopes: token.scopes().unwrap_or_else(|| ctx.requested.to_vec()),
            refresh_token: token
                .refresh_token
                .clone()
                .or_else(|| ctx.previous_refresh_token.cloned()),
            id_token: token.id_token.clone(),
            id_token_claims: claims,
            account,
            client_info: token.client_info.clone(),
            family_id: token.foci.clone(),
            correlation_id: exchange.correlation_id(),
            token_source: TokenSource::IdentityProvider,
            received_at: received,
            access_token: token.access_token,
            token_type: token.token_type,
        };
        self.save_result(resolved, ctx.requested, ctx.grant_type, &result)
            .map_err(|e| e.with_flow(flow))?;
        if let Some(a) = &result.account {
            // A user signed in (or refreshed) here: with a partition store,
            // the other instances find the account at once (a no-op without
            // one, or when nothing changed).
            self.cache
                .after_access(&crate::cache::PartitionKey::user(&a.home_account_id))
                .await;
        }
        Ok(result)
    }

    fn account(
        &self,
        resolved: &ResolvedAuthority,
        token: &TokenResponse,
        claims: Option<&id_token::IdTokenClaims>,
        username: Option<&str>,
    ) -> Option<Account> {
        let client_info = token
            .client_info
            .as_deref()
            .filter(|_| self.authority.is_microsoft())
            .and_then(ClientInfo::decode);
        let home_account_id = match (&client_info, claims) {
            (Some(ci), _) => ci.home_account_id(),
            (None, Some(c)) if !c.sub.is_empty() => c.sub.clone(),
            _ => return None,
        };
        let claim = |f: fn(&id_token::IdTokenClaims) -> Option<&str>| claims.and_then(f);
        Some(Account {
            home_account_id,
            environment: self.environment.clone(),
            realm: claim(|c| c.tid.as_deref())
                .map(str::to_owned)
                .or_else(|| resolved.tenant.clone())
                .unwrap_or_default(),
            username: claim(|c| c.username())
                .or(username)
                .unwrap_or_default()
                .to_owned(),
            local_account_id: claim(|c| c.oid.as_deref())
                .or(claim(|c| Some(c.sub.as_str()).filter(|s| !s.is_empty())))
                .map(str::to_owned)
                .or_else(|| client_info.map(|ci| ci.uid))
                .unwrap_or_default(),
        })
    }
}

/// How the client authenticates, for logs (never the credential).
fn credential_kind(c: Option<&ClientCredential>) -> &'static str {
    match c {
        None => "none",
        Some(ClientCredential::Secret(_)) => "client_secret_post",
        Some(ClientCredential::SecretBasic(_)) => "client_secret_basic",
        Some(ClientCredential::Certificate(_)) => "certificate",
        Some(ClientCredential::Assertion(_)) => "assertion",
        Some(ClientCredential::Provider(_)) => "assertion_provider",
    }
}

fn push_assertion(form: &mut Vec<(String, String)>, assertion: &ClientAssertion) {
    form.push((
        "client_assertion_type".into(),
        "urn:ietf:params:oauth:client-assertion-type:jwt-bearer".into(),
    ));
    form.push(("client_assertion".into(), assertion.expose().to_owned()));
}

/// RFC 6749 §2.3.1: both parts form-urlencoded before base64.
fn basic_auth(client_id: &str, secret: &ClientSecret) -> String {
    let enc = |s: &str| url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
    let pair = format!("{}:{}", enc(client_id), enc(secret.expose()));
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(pair)
    )
}

/// The app's scopes, checked: no reserved scope (the library adds them),
/// trimmed, duplicates removed, order kept.
pub(crate) fn app_scopes<S: AsRef<str>>(scopes: &[S]) -> Result<Vec<String>, IdFlowError> {
    let mut out: Vec<String> = Vec::new();
    for s in scopes.iter().flat_map(|s| s.as_ref().split_whitespace()) {
        if RESERVED_SCOPES.iter().any(|r| r.eq_ignore_ascii_case(s)) {
            return Err(IdFlowError::local(
                LocalCode::ReservedScope,
                format!(
                    "'{s}' is reserved: openid, profile and offline_access are always requested \
                     for a user sign-in and must not be passed"
                ),
            ));
        }
        if !out.iter().any(|o| o == s) {
            out.push(s.to_owned());
        }
    }
    Ok(out)
}

/// An app-only request's scopes: each item split on whitespace, order kept
/// (no reserved-scope check: client credentials take any scope).
pub(crate) fn split_scopes<S: AsRef<str>>(scopes: &[S]) -> Vec<String> {
    scopes
        .iter()
        .flat_map(|s| s.as_ref().split_whitespace())
        .map(str::to_owned)
        .collect()
}

/// The scope parameter of a user sign-in: the app's scopes plus the reserved ones.
pub(crate) fn decorated(scopes: &[String]) -> String {
    decorated_without(scopes, &[])
}

/// [`decorated`], less the reserved scopes the app excluded (msal removes
/// `exclude_scopes` from the decorated set: msal/application.py
/// `_decorate_scope`; `openid` cannot be excluded, see [`check_exclude_scopes`]).
pub(crate) fn decorated_without(scopes: &[String], exclude: &[String]) -> String {
    scopes
        .iter()
        .map(String::as_str)
        .chain(RESERVED_SCOPES)
        .filter(|s| !exclude.iter().any(|x| x == s))
        .collect::<Vec<_>>()
        .join(" ")
}

/// msal refuses to exclude `openid` (msal/application.py `__init__`): the
/// sign-in needs it.
pub(crate) fn check_exclude_scopes(exclude: &[String]) -> Result<(), IdFlowError> {
    if exclude.iter().any(|s| s == "openid") {
        return Err(IdFlowError::local(
            LocalCode::InvalidParameter,
            "exclude_scopes cannot hold 'openid': a sign-in always asks for it",
        ));
    }
    Ok(())
}

impl Engine {
    /// The scope parameter of this app's user sign-ins ([`decorated_without`]
    /// its `exclude_scopes`).
    pub(crate) fn decorate(&self, scopes: &[String]) -> String {
        decorated_without(scopes, &self.exclude_scopes)
    }

    /// The request with the app's `x-app-name` / `x-app-ver` headers.
    pub(crate) fn with_app_headers(&self, mut request: HttpRequest) -> HttpRequest {
        for (name, value) in &self.app_headers {
            request = request.with_header(name, value.clone());
        }
        request
    }
}

#[cfg(test)]
mod interactive_tests;
#[cfg(test)]
mod redaction_tests;
#[cfg(test)]
mod resilience_tests;
#[cfg(test)]
mod tests;
