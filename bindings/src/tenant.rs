//! The per-call tenant of multi-tenant apps: `for_tenant` on both app
//! objects returns the app bound to another tenant of its cloud (the core's
//! `for_tenant`), so every call keeps its signature and a language passes a
//! request's optional `tenant` by calling through that view.

use crate::clients::{ConfidentialClientApplication, PublicClientApplication};
use crate::guard::call;
use crate::types::AuthError;
use std::sync::Arc;

#[uniffi::export]
impl PublicClientApplication {
    /// This app for requests to `tenant` (same cloud, shared cache): its
    /// tokens are kept and found under that tenant. Throws
    /// `invalid_parameter` for a B2C, ADFS or OpenID authority.
    pub fn for_tenant(&self, tenant: String) -> Result<Arc<Self>, AuthError> {
        call(|| self.core().for_tenant(&tenant), Self::wrap)
    }
}

#[uniffi::export]
impl ConfidentialClientApplication {
    /// This app for requests to `tenant` (same cloud, shared cache): its
    /// tokens are kept and found under that tenant. Throws
    /// `invalid_parameter` for a B2C, ADFS or OpenID authority.
    pub fn for_tenant(&self, tenant: String) -> Result<Arc<Self>, AuthError> {
        call(|| self.core().for_tenant(&tenant), Self::wrap)
    }
}
