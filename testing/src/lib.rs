//! Test harness: idflow's independent peer, node-oidc-provider 9.13.3 (a
//! certified OpenID provider that shares no code with idflow), and the
//! emulator fixtures the end-to-end tests share ([`emulator`]).
//!
//! Why a real provider: idflow's classifier is only as good as the bodies it
//! is fed. The emulator produces what Entra ID sends; this provider produces
//! what a standards-compliant server sends, byte for byte, so flows and the
//! classifier are checked against responses nobody in this project wrote.
//!
//! What is here:
//! - [`OidcProvider::start`] spawns `node testing/oidc-provider/server.mjs` on
//!   127.0.0.1 (ephemeral port), reads its one JSON start-up line, and kills it
//!   on drop (and the server exits by itself when its stdin closes, so even a
//!   killed test run leaves no orphan).
//! - [`Browser`] drives the provider's HTML pages over plain HTTP the way a
//!   user's browser would: login form, consent form, device-code pages.
//! - [`ClientKey`] is the private_key_jwt client's RSA key, generated per run,
//!   and [`TlsCert`] a self-signed certificate for `IP:127.0.0.1` (the https
//!   instance msal Python needs).
//! - [`Pkce`] and [`Captured`] (a response kept as status, headers and bytes,
//!   ready to hand to `idflow::classify`), and [`jwt_claims`].
//! - [`emulator::EmulatorEnv`]: an emulator on 127.0.0.1 with the app's
//!   manual clock, its clients' applications, a sign-in and the admin calls.
//!
//! Run `bash scripts/setup-node.sh` once first (it installs the pinned
//! provider from the committed lock file).

mod browser;
pub mod emulator;
mod keys;
mod provider;
pub mod redis;

pub use browser::{Browser, Captured, Page, Pkce};
pub use keys::{ClientKey, TlsCert};
pub use provider::{ClientInfo, OidcOptions, OidcProvider, DEVICE_CODE_GRANT};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use std::fmt;

/// The claims of a JWT, its signature not checked (the server under test made
/// it). Panics on anything that is not a JWT with a JSON payload.
#[allow(clippy::expect_used)] // a test helper: a malformed token fails the test
pub fn jwt_claims(jwt: &str) -> serde_json::Value {
    let payload = jwt.split('.').nth(1).expect("a JWT has three parts");
    let bytes = URL_SAFE_NO_PAD
        .decode(payload)
        .expect("a JWT payload is base64url");
    serde_json::from_slice(&bytes).expect("a JWT payload is JSON")
}

/// Why the harness could not do what a test asked. Tests usually `expect` it;
/// the message says what to fix (e.g. run `scripts/setup-node.sh`).
#[derive(Debug)]
pub struct Error(String);

impl Error {
    pub(crate) fn new(message: impl Into<String>) -> Self {
        Error(message.into())
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Error {}

impl From<reqwest::Error> for Error {
    fn from(e: reqwest::Error) -> Self {
        Error(format!("HTTP to the test provider failed: {e}"))
    }
}

impl From<std::io::Error> for Error {
    fn from(e: std::io::Error) -> Self {
        Error(format!("I/O: {e}"))
    }
}

impl From<serde_json::Error> for Error {
    fn from(e: serde_json::Error) -> Self {
        Error(format!("JSON: {e}"))
    }
}

impl From<url::ParseError> for Error {
    fn from(e: url::ParseError) -> Self {
        Error(format!("URL: {e}"))
    }
}

/// The harness's result type.
pub type Result<T> = std::result::Result<T, Error>;
