//! Managed identity: tokens for the identity Azure gives the machine or the
//! app, from whichever endpoint the platform runs (App Service, Service
//! Fabric, Azure Arc, Cloud Shell, Azure Machine Learning, or the VM's IMDS).
//!
//! The top layer of the core: it reuses the app's options, the one request
//! path (`net`), the error model and the token cache in msal's format.
//! Inside, `identity` and `environment` are the leaves (what identity, which
//! source); `request` builds each source's request, `response` reads its
//! answer, `retry` is the IMDS and default retry policy, `arc` the Azure Arc
//! challenge, `client` puts them together with the cache and the throttle.

mod arc;
mod client;
mod environment;
mod identity;
mod request;
mod response;
mod retry;

#[cfg(test)]
mod tests;

pub use arc::MAX_KEY_FILE_BYTES;
pub use client::{ManagedIdentityClient, ManagedIdentityOptions, ManagedIdentityResult};
pub use environment::{ManagedIdentityEnvironment, ManagedIdentitySource, ENVIRONMENT_VARIABLES};
pub use identity::{ManagedIdentity, SYSTEM_ASSIGNED_CACHE_CLIENT_ID};
pub use retry::ManagedIdentityRetry;
