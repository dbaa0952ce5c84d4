//! The network layer: how a request reaches the identity provider and how its
//! answer comes back — the [`http::HttpClient`] seam and its default reqwest
//! transport, the one request path ([`sender::Sender`]) with its retry and
//! client-side throttle, and the injectable clock the waits go through.
//!
//! Below it: `error`, `logging`, `secret`. It knows no protocol and no flow.

pub(crate) mod clock;
pub(crate) mod http;
pub(crate) mod http_cache;
pub(crate) mod pinned;
pub(crate) mod proxy;
pub(crate) mod retry;
#[cfg(test)]
pub(crate) mod scripted;
pub(crate) mod sender;
pub(crate) mod throttle;
pub(crate) mod tls;
pub(crate) mod transport;
