//! idflow: token acquisition for the Microsoft identity platform and any OpenID
//! provider, with every failure classified the way the MSAL libraries do.
//!
//! This crate is pure Rust and knows nothing of FFI. Its central promise is that
//! one function, [`classify`], turns any token-endpoint HTTP response into a
//! typed decision — what kind of failure it is, whether to retry, which
//! interactive remedy applies — and that the per-language views (Swift
//! `NSError`, Kotlin exception class, Python dict) are derived from that same
//! decision by [`idioms`], so every language reacts identically.

pub mod app;
pub mod assertion;
pub mod authority;
pub mod cache;
pub mod challenge;
pub mod claims;
pub mod clock;
pub mod device_code;
pub mod discovery;
pub mod error;
pub mod explain;
pub mod flows;
pub mod http;
pub mod id_token;
pub mod idioms;
pub mod jwt;
pub mod logging;
pub mod pkce;
pub mod retry;
pub mod scenarios;
pub mod scripted;
pub mod secret;
pub mod sender;
pub mod throttle;
pub mod token;
pub mod transport;

#[cfg(test)]
mod testkit;

pub use app::{
    AppOptions, ConfidentialClientApplication, InteractiveOptions, PublicClientApplication,
};
pub use assertion::ClientCertificate;
pub use authority::{Authority, AuthorityKind};
pub use cache::{
    AccessTokenQuery, AppMetadata, CacheCounts, CacheOptions, CacheStorage, CachedAccessToken,
    CachedRefreshToken, RefreshTokenQuery, SaveRequest, TokenCache,
};
pub use device_code::Polling;
pub use error::{
    classify, classify_at, Action, Classification, Classified, ErrorKind, Flow, HttpResponse,
    IdFlowError, LocalCode, NetworkKind, Outcome, ServiceDetails, MAX_ERROR_BODY_BYTES,
};
pub use flows::auth_code::{AuthCodeFlow, AuthCodeOptions, Prompt};
pub use flows::cancel::CancelHandle;
pub use flows::device_code::DeviceFlow;
pub use flows::loopback::{BrowserOpener, LoopbackOptions, SystemBrowser};
pub use flows::ClientCredential;
pub use jwt::RsaAlg;
pub use token::{Account, AuthenticationResult, TokenSource};
