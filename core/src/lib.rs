//! idflow: token acquisition for the Microsoft identity platform and any OpenID
//! provider, with every failure classified the way the MSAL libraries do.
//!
//! This crate is pure Rust and knows nothing of FFI. Its central promise is that
//! one function, [`classify`], turns any token-endpoint HTTP response into a
//! typed decision — what kind of failure it is, whether to retry, which
//! interactive remedy applies — and that the per-language views (Swift
//! `NSError`, Kotlin exception class, Python dict) are derived from that same
//! decision by [`idioms`], so every language reacts identically.

pub mod device_code;
pub mod error;
pub mod explain;
pub mod idioms;
pub mod scenarios;

pub use device_code::Polling;
pub use error::{
    classify, classify_at, Action, Classification, Classified, ErrorKind, Flow, HttpResponse,
    IdFlowError, LocalCode, NetworkKind, Outcome, ServiceDetails, MAX_ERROR_BODY_BYTES,
};
