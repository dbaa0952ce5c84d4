//! HTTP as the platform speaks it: the connections (which a fault can drop
//! or reset), a request read once and defensively, answers with the
//! platform's headers, its OAuth error bodies, and TLS (`tls`) when asked.

pub mod aad_error;
pub mod reply;
pub mod request;
pub mod server;
pub mod tls;
