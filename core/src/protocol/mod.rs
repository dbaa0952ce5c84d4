//! The protocol layer: OAuth 2.0 / OpenID Connect as data — authorities and
//! their discovery, token responses, id tokens and the JWTs under them,
//! client assertions, PKCE, the `claims` parameter and `WWW-Authenticate`
//! challenges. Each module parses or builds one piece of the wire format.
//!
//! Below it: `net`, `logging`, `error`, `secret`. It knows no cache and no flow.

pub(crate) mod assertion;
pub(crate) mod authority;
pub(crate) mod certificate;
pub(crate) mod challenge;
pub(crate) mod claims;
pub(crate) mod discovery;
pub(crate) mod id_token;
pub(crate) mod jwt;
pub(crate) mod pkce;
pub(crate) mod region;
pub(crate) mod token;
