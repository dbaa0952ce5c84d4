//! idflow: token acquisition for the Microsoft identity platform and any OpenID
//! provider, with every failure classified the way the MSAL libraries do.
//!
//! This crate is pure Rust and knows nothing of FFI. Its central promise is that
//! one function, [`classify`], turns any token-endpoint HTTP response into a
//! typed decision — what kind of failure it is, whether to retry, which
//! interactive remedy applies — and that the per-language views (Swift
//! `NSError`, Kotlin exception class, Python dict) are derived from that same
//! decision by [`idioms`], so every language reacts identically.

// The layers, bottom to top (ARCHITECTURE.md): secret, error (idioms on it),
// logging, net, protocol, cache, flows, app, managed_identity. A module uses only the layers
// below its own. `secret`, `error`, `logging` and `idioms` are public
// namespaces; the rest is private and its public items are re-exported below.
mod app;
mod cache;
pub mod error;
mod flows;
pub mod idioms;
pub mod logging;
mod managed_identity;
mod net;
mod protocol;
pub mod secret;

#[cfg(test)]
mod testkit;

pub use app::{
    AppOptions, ConfidentialClientApplication, InteractiveOptions, PublicClientApplication,
};
pub use cache::{
    AccessTokenQuery, AppMetadata, CacheCounts, CacheOptions, CacheStorage, CachedAccessToken,
    CachedRefreshToken, FileStorage, RefreshTokenQuery, SaveRequest, TokenCache, DEFAULT_SUFFIX,
    OIDC_SCOPES,
};
pub use cache::{AccountsView, CacheEntry, CredentialType, ViewStep};
pub use cache::{
    Lease, PartitionKey, PartitionOptions, PartitionStore, RedisOptions, RedisStore,
    StoredPartition,
};
pub use error::{
    classify, classify_at, Action, Classification, Classified, ErrorKind, Flow, HttpResponse,
    IdFlowError, LocalCode, NetworkKind, Outcome, Polling, ServiceDetails, MAX_ERROR_BODY_BYTES,
};
pub use error::{explain, scenarios};
pub use flows::assertion_source::{
    unavailable as assertion_unavailable, AssertionRequest, ClientAssertionProvider,
    FederatedTokenFile, AZURE_FEDERATED_TOKEN_FILE,
};
pub use flows::auth_code::{AuthCodeFlow, AuthCodeOptions, Prompt, ResponseMode};
pub use flows::cancel::CancelHandle;
pub use flows::device_code::DeviceFlow;
pub use flows::loopback::{BrowserOpener, LoopbackOptions, SystemBrowser};
pub use flows::web_flow::{AuthCodeFlowState, DeviceFlowState, MAX_AGE_SKEW};
pub use flows::ClientCredential;
pub use managed_identity::{
    ManagedIdentity, ManagedIdentityClient, ManagedIdentityEnvironment, ManagedIdentityOptions,
    ManagedIdentityResult, ManagedIdentityRetry, ManagedIdentitySource, ENVIRONMENT_VARIABLES,
    MAX_KEY_FILE_BYTES, SYSTEM_ASSIGNED_CACHE_CLIENT_ID,
};
pub use net::clock::{Clock, ManualTime, Sleeper, SystemClock, TokioSleeper};
pub use net::http::{
    is_credential_header, BoxFuture, HttpClient, HttpRequest, Method, TransportError,
};
pub use net::http_cache::{CachingHttpClient, HttpCacheStore, HTTP_CACHE_TTL};
pub use net::proxy::{ProxyConfig, ProxyRules};
pub use net::retry::RetryPolicy;
pub use net::sender::Sender;
pub use net::throttle::UI_REQUIRED_THROTTLE;
pub use net::transport::{HttpConfig, ReqwestHttpClient};
pub use protocol::assertion::ClientCertificate;
pub use protocol::authority::{Authority, AuthorityKind};
pub use protocol::challenge::{claims_challenge, parse_www_authenticate_headers, AuthChallenge};
pub use protocol::jwt::RsaAlg;
pub use protocol::region::{
    AzureRegion, RegionEnvironment, IMDS_REGION_ENDPOINT, IMDS_REGION_TIMEOUT,
};
pub use protocol::token::{
    Account, AccountRef, AuthenticationResult, ClientInfo, TokenResponse, TokenSource,
    MAX_TOKEN_LIFETIME,
};

/// JSON Web Tokens: decode, verify against a JWK, sign (RSA), and base64url.
pub mod jwt {
    pub use crate::protocol::jwt::{
        b64url, b64url_decode, decode, rsa_public_jwk, sign, verify, DecodedJwt, Jwk, RsaAlg,
    };
}

/// Parsers of untrusted input, public for the fuzz targets; not a stable API.
#[doc(hidden)]
pub mod parsers {
    pub use crate::protocol::challenge::{decode_claims, parse_www_authenticate};
    pub use crate::protocol::claims::merge_claims;
    pub use crate::protocol::id_token::{check_claims, verify_with, Expected, IdTokenClaims};
    pub use crate::protocol::token::lifetime_end;
}
