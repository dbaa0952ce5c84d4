//! Where an app-only token request goes: the regional endpoint the app's
//! region plan names (see [`crate::protocol::region`]), detected once per app,
//! or the global one.

use super::Engine;
use crate::protocol::region::{self, RegionEnvironment, RegionPlan};
use std::sync::OnceLock;
use url::Url;

/// An app's region: its plan, where detection looks, and what it found.
#[derive(Debug)]
pub(crate) struct Regional {
    pub plan: RegionPlan,
    pub environment: RegionEnvironment,
    /// The detected region (`None`: unknown, the global endpoint), kept for
    /// the app's lifetime as msal keeps `_region_detected`.
    detected: OnceLock<Option<String>>,
}

impl Regional {
    pub fn new(plan: RegionPlan, environment: RegionEnvironment) -> Self {
        Regional {
            plan,
            environment,
            detected: OnceLock::new(),
        }
    }
}

impl Default for Regional {
    fn default() -> Self {
        Regional::new(RegionPlan::None, RegionEnvironment::empty())
    }
}

impl Engine {
    /// The token endpoint of a client credentials request: `global` on the
    /// app's region's host when it has one (Microsoft authorities only),
    /// else `global` itself. Detection runs on the first request and never
    /// fails the request: an unknown region means the global endpoint.
    pub(crate) async fn client_credentials_endpoint(&self, global: &Url) -> Url {
        if !self.authority.is_microsoft() {
            return global.clone();
        }
        let region = match &self.region.plan {
            RegionPlan::None => None,
            RegionPlan::Fixed(r) => Some(r.clone()),
            RegionPlan::Detect => match self.region.detected.get() {
                Some(found) => found.clone(),
                None => {
                    // Concurrent first requests may both ask; they find the same.
                    let found = region::detect(&self.sender, &self.region.environment).await;
                    self.region.detected.get_or_init(|| found).clone()
                }
            },
        };
        region
            .and_then(|r| region::regional_token_endpoint(&r, global))
            .unwrap_or_else(|| global.clone())
    }
}

#[cfg(test)]
mod tests;
